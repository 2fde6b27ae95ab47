"""Opening a database: the URL, the embedded SQLite default, and each backend's settings."""

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from slotgen.errors import BadInput, first_line

SQLITE_CACHE_KIB = 65_536
"""SQLite's page cache for generate's connections (its default is 2 MiB). A fresh generate
of a large clinic inserts in doctor order, which touches the pages of the indexes that
start with the facility or the status all over; with the default they are read back from
the file again and again. Pages are allocated only as they are used: a small database
costs no more, a large one up to this much (W: 146 MB peak instead of 83 MB). Other
commands keep SQLite's default, so an import's memory follows its file."""


def size_cache_for_bulk_writes(connection: Connection) -> None:
    """Give this connection `SQLITE_CACHE_KIB` of page cache (SQLite only; the servers size
    their own caches)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


SQLITE_BUSY_TIMEOUT_MS = 300_000
"""How long a SQLite writer waits for another: longer than any one slotgen transaction, on
a machine busy enough to make a chunk that takes a second take a minute. Waiting is safe;
giving up fails a cron run that would have succeeded."""

DRIVERS = {
    "postgresql": ("postgresql+psycopg", "postgres"),
    "mysql": ("mysql+pymysql", "mysql"),
    "mariadb": ("mariadb+pymysql", "mysql"),
}
"""Per backend: the URL scheme of the driver slotgen ships, and the extra that installs it."""


def parse_url(url: str) -> URL:
    """Read a database URL, turning a typo into a one-line error that never echoes it whole."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - SQLAlchemy checks the port only when asked for it
    except ValueError:
        raise BadInput(
            "the port in the database URL is not a number (expected e.g. "
            "postgresql+psycopg://user@db.example.org:5432/clinic)"
        ) from None
    except ArgumentError:
        raise BadInput(
            "the database URL is not a URL SQLAlchemy understands "
            "(expected e.g. postgresql+psycopg://user@host/db)"
        ) from None
    return parsed


def redact(url: URL | str) -> str:
    """The URL as it may be shown or logged: the password, also in the query string, hidden."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    query = {
        key: ("***" if "pass" in key.lower() else value) for key, value in parsed.query.items()
    }
    return parsed.set(query=query).render_as_string(hide_password=True).replace("%2A", "*")


def url_secrets(url: URL) -> tuple[str, ...]:
    """The password, also one given in the query string (`?password=`)."""
    values = [url.password, *(v for k, v in url.query.items() if "pass" in k.lower())]
    return tuple(value for value in values if isinstance(value, str) and value)


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for another backend or an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser()


class SqliteCreation(StrEnum):
    """How much of a SQLite database slotgen may create when it is missing."""

    NOTHING = "nothing"
    """A URL someone typed: a missing file is more likely a typo than a wish."""
    FILE = "file"
    """`slotgen db upgrade`: the file, in a folder that must exist."""
    EVERYTHING = "everything"
    """The embedded default (and tests): the per-user folder and the file."""


def make_private_folders(folder: Path) -> None:
    """Create `folder` and each missing parent readable by its owner alone, whatever the
    umask: `Path.mkdir(parents=True)` gives the parents the umask's mode, so under
    `umask 000` it would leave ~/.config open to everyone."""
    missing = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    for parent in reversed(missing):
        parent.mkdir(mode=0o700, exist_ok=True)


def prepare_sqlite_file(path: Path, create: SqliteCreation = SqliteCreation.EVERYTHING) -> None:
    """Make sure the file is there (creating it readable by its owner alone before SQLite
    opens it), or say plainly why slotgen will not create it.

    SQLite gives the -wal and -shm files the same permissions as the database file.
    """
    if path.exists():
        return
    if create is SqliteCreation.EVERYTHING:
        make_private_folders(path.parent)
    elif not path.parent.is_dir():
        raise BadInput(
            f"the folder {path.parent} of the SQLite database does not exist: create it, "
            "or check the database URL"
        )
    elif create is SqliteCreation.NOTHING:
        raise BadInput(
            f"there is no SQLite database at {path}: check the URL, or create one there with "
            "`slotgen db upgrade` and this --database-url"
        )
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


READ_ONLY = "slotgen_read_only"
"""An execution option for a connection that only reads (see `_configure_sqlite`)."""


def open_engine(url: str | URL, create: SqliteCreation = SqliteCreation.EVERYTHING) -> Engine:
    """An engine configured for slotgen's use of the backend behind `url`."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "mysql", "mariadb"):
        raise BadInput(f"unsupported database '{backend}': use sqlite, postgresql or mysql/mariadb")
    path = sqlite_path(parsed)
    if path is not None:
        prepare_sqlite_file(path, create)
    try:
        engine = create_engine(parsed, pool_pre_ping=backend != "sqlite", hide_parameters=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        scheme, extra = DRIVERS.get(backend, (backend, backend))
        raise BadInput(
            f"no driver for {parsed.drivername}:// ({first_line(exc)}): slotgen works with "
            f"{scheme}:// (pip install 'slotgen[{extra}]' installs its driver)"
        ) from None
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for every transaction.

    A plain deferred BEGIN lets two writers both read, then one fails with "database is
    locked" when it upgrades to write; IMMEDIATE makes the second wait its turn instead.
    A connection marked `READ_ONLY` never writes, so it takes a deferred BEGIN: a long
    read (a publish) then holds a snapshot without keeping the booking app from writing.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # a WAL snapshot: writers go on meanwhile
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
