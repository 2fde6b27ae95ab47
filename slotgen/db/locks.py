"""One run per job per database, across hosts: a lock that dies with its holder.

PostgreSQL and MariaDB have session locks that the server frees when the holding
connection goes away (a crash, SIGKILL, a reboot, a killed connection). They live on a
connection of their own, in autocommit, so the lock outlasts the job's transactions and
no transaction stays open for the length of the run. SQLite has no such lock: there the
fresh heartbeat of the job's 'running' row is the lock (see slotgen.db.runs.claim).

Because the server frees the lock when that one connection dies, a run must notice when
it does, or it would go on working without the lock while a second run starts: `verify`
asks the server whether this connection still holds the lock, and the runner calls it at
every chunk and every heartbeat. The connection is also told not to idle out
(`idle_session_timeout`, `wait_timeout`), since it sits silent between those checks.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import blake2b

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from slotgen.errors import LockLost, first_line

MYSQL_LOCK_NAME_LENGTH = 64
MYSQL_LONGEST_WAIT_TIMEOUT = 31_536_000
POSTGRESQL_IDLE_SESSION_TIMEOUT = 140_000
"""server_version_num from which PostgreSQL has idle_session_timeout (14)."""


def lock_name(database_name: str | None, job: str) -> str:
    """The job's lock, per database: one name per (database, job) on a shared server."""
    return f"slotgen:{database_name}:{job}"[:MYSQL_LOCK_NAME_LENGTH]


def _lock_key(name: str) -> int:
    """A stable bigint for pg_try_advisory_lock (Python's hash() changes per process)."""
    return int.from_bytes(blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class HeldLock:
    """The job's lock as this process holds it; `verify` raises LockLost once it is gone."""

    def __init__(self, connection: Connection | None, job: str) -> None:
        self._connection = connection
        self._job = job
        self._mutex = threading.Lock()
        self.lost: str | None = None

    def verify(self) -> None:
        """Ask the server whether this connection still holds the lock (on SQLite: nothing
        to ask). Safe to call from the heartbeat thread and the job at once."""
        if self._connection is None:
            return
        with self._mutex:
            if self.lost is None:
                self.lost = self._ask(self._connection)
        if self.lost is not None:
            raise LockLost(self.lost)

    def _ask(self, connection: Connection) -> str | None:
        if connection.dialect.name == "postgresql":
            question = text(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
            )
        else:
            question = text("SELECT IS_USED_LOCK(:name) = CONNECTION_ID()").bindparams(
                name=lock_name(connection.engine.url.database, self._job)
            )
        try:
            held = bool(connection.scalar(question))
        except SQLAlchemyError as exc:
            return (
                f"lost the {self._job} lock: the database closed the connection that held it "
                f"({first_line(exc)}); stopped so that no second run works alongside this one"
            )
        if not held:
            return f"lost the {self._job} lock: the database no longer holds it for this run"
        return None


@contextmanager
def job_lock(engine: Engine, job: str) -> Iterator[HeldLock | None]:
    """Yield the held lock, or None when another process holds it."""
    dialect = engine.dialect.name
    if dialect not in ("postgresql", "mysql"):
        yield HeldLock(None, job)
        return
    name = lock_name(engine.url.database, job)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if dialect == "postgresql":
            key = _lock_key(name)
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            release = text("SELECT pg_advisory_unlock(:key)").bindparams(key=key)
        else:
            held = connection.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": name}) == 1
            release = text("SELECT RELEASE_LOCK(:name)").bindparams(name=name)
        if not held:
            yield None
            return
        _never_idle_out(connection)
        try:
            yield HeldLock(connection, job)
        finally:
            if not connection.closed and not connection.invalidated:
                try:
                    connection.execute(release)
                except SQLAlchemyError:
                    connection.invalidate()


def _never_idle_out(connection: Connection) -> None:
    """The lock connection is silent between checks: a server set to drop idle sessions
    must not take the lock with it."""
    if connection.dialect.name == "postgresql":
        version = int(connection.scalar(text("SHOW server_version_num")) or 0)
        if version >= POSTGRESQL_IDLE_SESSION_TIMEOUT:
            connection.execute(text("SET idle_session_timeout = 0"))
    else:
        connection.execute(text(f"SET SESSION wait_timeout = {MYSQL_LONGEST_WAIT_TIMEOUT}"))
