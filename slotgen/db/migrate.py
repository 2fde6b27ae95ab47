"""Alembic, driven from slotgen: where the migrations live and whether a database is current.

Every command checks the schema revision, but only `db upgrade` and the embedded default's
first use migrate. Alembic (with Mako and Pygments) takes longer to import than the check
takes to run, so it is imported only when a schema is not at `HEAD_REVISION`.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

import slotgen
from slotgen.errors import SchemaOutOfDate

if TYPE_CHECKING:
    from alembic.config import Config

HEAD_REVISION = "0008"
"""The newest migration's revision, known without reading the migrations.

tests/db/test_schema.py holds it to Alembic's head: a new migration must move it.
"""
VERSION_TABLE = "alembic_version"


def migrations_dir() -> Path:
    """The migrations folder: inside the installed wheel, else at the top of a source checkout."""
    package = Path(slotgen.__file__).resolve().parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("slotgen's migrations are missing from this installation")


def alembic_config(connection: Connection | None = None) -> "Config":
    """A configuration that needs no alembic.ini; env.py uses `connection` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Alembic's head, read from the migrations themselves (`HEAD_REVISION` is its copy)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise FileNotFoundError("slotgen's migrations have no head revision")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is stamped with; None for a database without the table."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    stored = connection.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return None if stored is None else str(stored)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with engine.begin() as connection:
        _refuse_unknown(current_revision(connection))
        command.upgrade(alembic_config(connection), revision)


def _refuse_unknown(current: str | None) -> None:
    """A database stamped by a newer slotgen (or by hand): Alembic would fail with a long
    traceback; the fix is a newer slotgen, so say that."""
    from alembic.script import ScriptDirectory

    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current is not None and current not in known:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current}, which this slotgen does not know: "
            "upgrade slotgen"
        )


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def ensure_current(engine: Engine, *, auto_upgrade: bool) -> None:
    """Refuse to work on a schema slotgen does not expect, or bring it to head when allowed.

    Only the embedded default database is upgraded silently: a server database is shared
    with the booking app, and its owner decides when its schema changes.
    """
    with engine.connect() as connection:
        current = current_revision(connection)
    if current == HEAD_REVISION:
        return
    _refuse_unknown(current)
    if auto_upgrade:
        upgrade(engine)
        return
    raise SchemaOutOfDate(
        f"the database schema is at revision {current or 'none (empty database)'}, "
        f"slotgen needs {HEAD_REVISION}: run `slotgen db upgrade`"
    )
