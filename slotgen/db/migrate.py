"""Alembic, driven from slotgen: where the migrations live and whether a database is current."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

import slotgen
from slotgen.errors import SchemaOutOfDate


def migrations_dir() -> Path:
    """The migrations folder: inside the installed wheel, else at the top of a source checkout."""
    package = Path(slotgen.__file__).resolve().parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("slotgen's migrations are missing from this installation")


def alembic_config(connection: Connection | None = None) -> Config:
    """A configuration that needs no alembic.ini; env.py uses `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise FileNotFoundError("slotgen's migrations have no head revision")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        _refuse_unknown(current_revision(connection))
        command.upgrade(alembic_config(connection), revision)


def _refuse_unknown(current: str | None) -> None:
    """A database stamped by a newer slotgen (or by hand): Alembic would fail with a long
    traceback; the fix is a newer slotgen, so say that."""
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current is not None and current not in known:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current}, which this slotgen does not know: "
            "upgrade slotgen"
        )


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def ensure_current(engine: Engine, *, auto_upgrade: bool) -> None:
    """Refuse to work on a schema slotgen does not expect, or bring it to head when allowed.

    Only the embedded default database is upgraded silently: a server database is shared
    with the booking app, and its owner decides when its schema changes.
    """
    head = head_revision()
    with engine.connect() as connection:
        current = current_revision(connection)
    if current == head:
        return
    _refuse_unknown(current)
    if auto_upgrade:
        upgrade(engine)
        return
    raise SchemaOutOfDate(
        f"the database schema is at revision {current or 'none (empty database)'}, "
        f"slotgen needs {head}: run `slotgen db upgrade`"
    )
