"""The job lock: one holder per job and database, and a holder that knows when it lost it."""

import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from slotgen.db.engine import open_engine
from slotgen.db.locks import job_lock, lock_name
from slotgen.errors import LockLost
from tests.conftest import DatabaseUnderTest
from tests.factories import end_connection

SERVERS = ["postgresql", "mariadb"]


def holder_of(database: DatabaseUnderTest, job: str) -> int:
    with database.engine.connect() as connection:
        if database.backend == "postgresql":
            found = connection.scalar(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                    "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        else:
            name = lock_name(make_url(database.url).database, job)
            found = connection.scalar(text("SELECT IS_USED_LOCK(:name)"), {"name": name})
    assert found is not None
    return int(found)


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_one_holder_per_job_and_other_jobs_are_free(database: DatabaseUnderTest) -> None:
    with job_lock(database.engine, "generate") as held:
        assert held is not None
        held.verify()
        with job_lock(database.engine, "generate") as second:
            assert second is None
        with job_lock(database.engine, "release") as other:
            assert other is not None
    with job_lock(database.engine, "generate") as again:
        assert again is not None, "released when the holder left"


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_a_holder_whose_connection_is_killed_learns_it_lost_the_lock(
    database: DatabaseUnderTest,
) -> None:
    with job_lock(database.engine, "generate") as held:
        assert held is not None
        end_connection(database.engine, holder_of(database, "generate"))
        with pytest.raises(LockLost, match="lost the generate lock"):
            held.verify()
        with pytest.raises(LockLost):
            held.verify()  # and it stays lost
        with job_lock(database.engine, "generate") as next_run:
            assert next_run is not None, "the server freed it: the next run may go ahead"


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
def test_on_sqlite_the_lock_is_the_heartbeat_and_verify_asks_nothing(
    database: DatabaseUnderTest,
) -> None:
    with (
        job_lock(database.engine, "generate") as held,
        job_lock(database.engine, "generate") as also,
    ):
        assert held is not None
        assert also is not None
        held.verify()


@pytest.mark.parametrize("migrated_database", ["postgresql"], indirect=True)
def test_the_lock_connection_outlives_a_servers_idle_session_timeout(
    database: DatabaseUnderTest,
) -> None:
    """A server that ends idle sessions after a second must not take the lock with them;
    an ordinary connection idling as long is ended, so the timeout is really in force."""
    name = make_url(database.url).database
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text(f"ALTER DATABASE {name} SET idle_session_timeout = '1s'"))
    engine = open_engine(database.url)
    try:
        ordinary_connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with job_lock(engine, "generate") as held, ordinary_connection as ordinary:
            assert held is not None
            ordinary.execute(text("SELECT 1"))
            time.sleep(2.5)
            held.verify()
            with pytest.raises(DBAPIError):
                ordinary.execute(text("SELECT 1"))
    finally:
        engine.dispose()
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.execute(text(f"ALTER DATABASE {name} RESET idle_session_timeout"))
