"""Fixtures: every test that takes `database` runs on SQLite, PostgreSQL and MariaDB.

Server URLs come from SLOTGEN_TEST_POSTGRESQL_URL / SLOTGEN_TEST_MARIADB_URL (an account
allowed to create databases). An unreachable server skips its tests, unless its name is
in SLOTGEN_TEST_REQUIRE (CI sets `sqlite,postgresql,mariadb`): then they fail.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from slotgen.db import migrate
from slotgen.db.database import Database
from slotgen.db.engine import open_engine
from slotgen.db.schema import metadata

# rich fixes a console's width for good if COLUMNS is set when the console is made (at
# import); a parallel worker starts with COLUMNS=80. Without it, the width is read at each
# print, from the COLUMNS each test sets (see hermetic_environment).
os.environ.pop("COLUMNS", None)

BACKENDS = ("sqlite", "postgresql", "mariadb")
SERVER_URLS = {
    "postgresql": os.environ.get(
        "SLOTGEN_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "SLOTGEN_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
}
REQUIRED = {name.strip() for name in os.environ.get("SLOTGEN_TEST_REQUIRE", "").split(",") if name}
RUN_ID = uuid.uuid4().hex[:8]


@dataclass
class DatabaseUnderTest:
    backend: str
    url: str
    engine: Engine

    @property
    def opened(self) -> Database:
        """The database as a service is given it: what `slotgen.cli.options.database` opens."""
        return Database(self.engine, make_url(self.url), is_embedded_default=False)

    def clean(self) -> None:
        """Empty every table: each test starts from a fresh, migrated database."""
        tables = [table.name for table in reversed(metadata.sorted_tables)]
        with self.engine.begin() as connection:
            if self.backend == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))


def _unavailable(backend: str, reason: str) -> None:
    message = f"{backend} is not reachable: {reason}"
    if backend in REQUIRED:
        pytest.fail(f"{message} (required by SLOTGEN_TEST_REQUIRE)", pytrace=False)
    pytest.skip(message)


@contextmanager
def server_database(backend: str, suffix: str) -> Iterator[str]:
    """A new, empty database on the server for `backend`, dropped afterwards."""
    admin_url = make_url(SERVER_URLS[backend])
    name = f"slotgen_test_{RUN_ID}_{suffix}"
    admin = open_engine(admin_url)
    options = {"isolation_level": "AUTOCOMMIT"}
    try:
        with admin.connect().execution_options(**options) as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        _unavailable(backend, str(exc.orig).splitlines()[0])
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(**options) as connection:
            force = " WITH (FORCE)" if backend == "postgresql" else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseUnderTest]:
    backend: str = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'slotgen.db'}"
        engine = open_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield DatabaseUnderTest(backend, url, engine)
        return
    with server_database(backend, "main") as url:
        engine = open_engine(url)
        migrate.upgrade(engine)
        try:
            yield DatabaseUnderTest(backend, url, engine)
        finally:
            engine.dispose()


@pytest.fixture
def database(migrated_database: DatabaseUnderTest, tmp_path: Path) -> Iterator[DatabaseUnderTest]:
    """A fresh, migrated database on each backend; asserts the test leaked no connection."""
    if migrated_database.backend == "sqlite":
        template = Path(make_url(migrated_database.url).database or "")
        shutil.copyfile(template, tmp_path / "slotgen.db")
        url = f"sqlite:///{tmp_path / 'slotgen.db'}"
        fresh = DatabaseUnderTest("sqlite", url, open_engine(url))
    else:
        migrated_database.clean()
        fresh = migrated_database
    yield fresh
    pool: Any = fresh.engine.pool
    assert pool.checkedout() == 0, "a connection was left checked out"
    if fresh is not migrated_database:
        fresh.engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all, on each backend."""
    backend: str = request.param
    if backend == "sqlite":
        (tmp_path / "empty.db").touch()  # an empty file is an empty SQLite database
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with server_database(backend, f"empty_{uuid.uuid4().hex[:6]}") as url:
        yield url


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SLOTGEN_* setting leaks in, and the embedded default lives in a temp folder."""
    for name in list(os.environ):
        if name.startswith("SLOTGEN_") and not name.startswith("SLOTGEN_TEST_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    # Tables are as wide as a wide terminal, whether or not the tests run on one (a
    # parallel worker's output never does); a test of narrow output sets its own.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("HOME", str(home))
    return home
