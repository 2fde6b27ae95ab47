"""One run per job per database, across hosts: a lock that dies with its holder.

PostgreSQL and MariaDB have session locks that the server frees when the holding
connection goes away (a crash, SIGKILL, a reboot, a killed connection). They live on a
connection of their own, in autocommit, so the lock outlasts the job's transactions and
no transaction stays open for the length of the run. SQLite has no such lock: there the
fresh heartbeat of the job's 'running' row is the lock (see slotgen.db.runs.claim).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import blake2b

from sqlalchemy import Engine, text


def _lock_name(engine: Engine, job: str) -> str:
    return f"slotgen:{engine.url.database}:{job}"


def _lock_key(name: str) -> int:
    """A stable bigint for pg_try_advisory_lock (Python's hash() changes per process)."""
    return int.from_bytes(blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def job_lock(engine: Engine, job: str) -> Iterator[bool]:
    """Yield True when this process now holds the job's lock, False when another does."""
    dialect = engine.dialect.name
    if dialect not in ("postgresql", "mysql"):
        yield True
        return
    name = _lock_name(engine, job)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if dialect == "postgresql":
            key = _lock_key(name)
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            release = text("SELECT pg_advisory_unlock(:key)").bindparams(key=key)
        else:
            held = connection.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": name[:64]}) == 1
            release = text("SELECT RELEASE_LOCK(:name)").bindparams(name=name[:64])
        try:
            yield held
        finally:
            if held and not connection.closed and not connection.invalidated:
                try:
                    connection.execute(release)
                except Exception:
                    connection.invalidate()
