"""`db upgrade`, `db current`, `db info`: the schema, its revision and where the data lives."""

from dataclasses import dataclass
from typing import Any

from slotgen.db import migrate
from slotgen.db.database import Database


@dataclass(frozen=True)
class DatabaseInfo:
    backend: str
    driver: str
    location: str
    embedded_default: bool
    revision: str | None
    head: str

    def json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "driver": self.driver,
            "location": self.location,
            "embedded_default": self.embedded_default,
            "revision": self.revision,
            "head": self.head,
        }


def upgrade(database: Database) -> str:
    """Bring the schema to the newest revision (safe to run again); returns that revision."""
    migrate.upgrade(database.engine)
    return migrate.head_revision()


def current(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return migrate.current_revision(connection)


def info(database: Database) -> DatabaseInfo:
    """Never a password: the location is a file path or the URL with its secrets hidden."""
    return DatabaseInfo(
        backend=database.backend,
        driver=database.url.get_driver_name(),
        location=database.location,
        embedded_default=database.is_embedded_default,
        revision=current(database),
        head=migrate.head_revision(),
    )
