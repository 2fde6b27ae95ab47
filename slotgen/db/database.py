"""One open database: the engine plus what the commands need to know about it."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError

from slotgen.db import migrate
from slotgen.db.engine import (
    SqliteCreation,
    open_engine,
    parse_url,
    redact,
    sqlite_path,
    url_secrets,
)
from slotgen.errors import DatabaseUnavailable, first_line

DEFAULT_DATABASE_NAME = "slotgen.db"


@dataclass(frozen=True)
class Database:
    engine: Engine
    url: URL
    is_embedded_default: bool

    @property
    def location(self) -> str:
        """Where the data lives, safe to print: a file path, or the URL without its password."""
        path = sqlite_path(self.url)
        return str(path.resolve()) if path is not None else redact(self.url)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password, also one given in the query string: never to be shown anywhere."""
        return url_secrets(self.url)

    def scrub(self, text: str) -> str:
        """`text` with every secret of this database replaced by ***."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()


def default_url(data_dir: Path) -> URL:
    return URL.create("sqlite+pysqlite", database=str(data_dir / DEFAULT_DATABASE_NAME))


@contextmanager
def connect(
    url: str | None, data_dir: Path, *, require_current: bool = True, create: bool = False
) -> Iterator[Database]:
    """Open the database named by `url` (or the embedded default) and check its schema.

    The embedded default is brought to the newest schema by itself on first use; any
    other database is shared with the booking app, so its owner decides when its schema
    changes (`slotgen db upgrade`) and, with `require_current`, slotgen refuses to work
    on a schema it does not expect. A SQLite file named by a URL is created only with
    `create` (`db upgrade`), and never its folder: a typo must not make a new database.
    """
    if url is None:
        engine = open_engine(default_url(data_dir), SqliteCreation.EVERYTHING)
        database = Database(engine, default_url(data_dir), is_embedded_default=True)
    else:
        parsed = parse_url(url)
        how = SqliteCreation.FILE if create else SqliteCreation.NOTHING
        database = Database(open_engine(parsed, how), parsed, is_embedded_default=False)
    try:
        try:
            if database.is_embedded_default or require_current:
                migrate.ensure_current(database.engine, auto_upgrade=database.is_embedded_default)
            else:
                with database.engine.connect():
                    pass
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable(
                f"cannot use the database at {database.location}: {first_line(exc)}"
            ) from None
        yield database
    finally:
        database.engine.dispose()
