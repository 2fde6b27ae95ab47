"""Opening a database: the URL, the embedded SQLite default, and each backend's settings."""

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from slotgen.errors import BadInput

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another: longer than any one slotgen transaction."""

DRIVER_EXTRAS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


def parse_url(url: str) -> URL:
    """Read a database URL, turning a typo into a one-line error that never echoes it whole."""
    try:
        return make_url(url)
    except ArgumentError:
        raise BadInput(
            "the database URL is not a URL SQLAlchemy understands "
            "(expected e.g. postgresql+psycopg://user@host/db)"
        ) from None


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


def prepare_sqlite_file(path: Path) -> None:
    """Create the file (and its folder) readable by its owner alone before SQLite opens it.

    SQLite gives the -wal and -shm files the same permissions as the database file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def open_engine(url: str | URL) -> Engine:
    """An engine configured for slotgen's use of the backend behind `url`."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "mysql", "mariadb"):
        raise BadInput(f"unsupported database '{backend}': use sqlite, postgresql or mysql/mariadb")
    path = sqlite_path(parsed)
    if path is not None:
        prepare_sqlite_file(path)
    try:
        engine = create_engine(parsed, pool_pre_ping=backend != "sqlite", hide_parameters=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        extra = DRIVER_EXTRAS.get(backend, backend)
        raise BadInput(
            f"no driver for {parsed.drivername} ({exc}); install it with: "
            f"pip install 'slotgen[{extra}]'"
        ) from None
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for every transaction.

    A plain deferred BEGIN lets two writers both read, then one fails with "database is
    locked" when it upgrades to write; IMMEDIATE makes the second wait its turn instead.
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
        connection.exec_driver_sql("BEGIN IMMEDIATE")
