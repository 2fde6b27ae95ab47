"""Writing `job_runs`: a row per attempt, committed before the work and after it.

Every function takes its own short transaction through the engine, never the job's: the
row must be on record even when the job's connection is dead or its transaction rolls
back. A run only ever writes its own row while that row is still `running`: once another
run has marked it abandoned, that verdict stands.
"""

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from slotgen.db.history import record_of, taken_up
from slotgen.db.schema import job_runs
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import RunStatus

FINISH_TRIES = 3
"""Writes of a run's outcome on a fresh connection after a lost one."""

runs = job_runs.c

ABANDONED_ERROR = (
    "abandoned: the run stopped without recording an outcome (killed, or its host went down)"
)


@dataclass(frozen=True)
class Attempt:
    """Who an attempt is: the job, how it was started, and which run it follows up."""

    job: str
    params: Mapping[str, Any]
    trigger: str
    attempt: int = 1
    retry_of: int | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        return {
            "job": self.job,
            "trigger": self.trigger,
            "attempt": self.attempt,
            "retry_of": self.retry_of,
            "params": dict(self.params),
            "started_at": now,
            "created_at": now,
            "updated_at": now,
            **_where_am_i(),
        }


def _where_am_i() -> dict[str, Any]:
    return {"host": socket.gethostname()[:255], "pid": os.getpid()}


def claim(
    engine: Engine, attempt: Attempt, now: datetime, *, lease: timedelta | None
) -> tuple[int, int | None]:
    """Record the start of an attempt: (its run id, None), or (a 'skipped' row, the holder).

    The caller holds the job's lock, so any other 'running' row of the job belongs to a
    run that died without saying so: it is marked 'abandoned'. Where there is no lock
    (SQLite, `lease` given) a 'running' row with a heartbeat fresher than the lease is
    the lock; SQLite runs this transaction alone (BEGIN IMMEDIATE), so two runs cannot
    both see the job free.
    """
    job = attempt.job
    row = {**attempt.row(now), "heartbeat_at": now}
    with engine.begin() as connection:
        if lease is not None:
            holder = connection.scalar(
                select(runs.id)
                .where(
                    runs.job == job,
                    runs.status == RunStatus.RUNNING,
                    runs.heartbeat_at > now - lease,
                )
                .order_by(runs.id.desc())
                .limit(1)
            )
            if holder is not None:
                skipped = {**row, "status": RunStatus.SKIPPED, "finished_at": now}
                return _insert(connection, skipped), holder
        connection.execute(
            update(job_runs)
            .where(runs.job == job, runs.status == RunStatus.RUNNING)
            .values(
                status=RunStatus.ABANDONED,
                finished_at=now,
                updated_at=now,
                error=ABANDONED_ERROR,
            )
        )
        return _insert(connection, {**row, "status": RunStatus.RUNNING}), None


def record_skipped(
    engine: Engine, attempt: Attempt, now: datetime, *, reason: str | None = None
) -> tuple[int, int | None]:
    """A run that found the job's lock taken (or nothing to do): on record, so `runs`
    shows the overlap."""
    with engine.begin() as connection:
        holder = connection.scalar(
            select(runs.id)
            .where(runs.job == attempt.job, runs.status == RunStatus.RUNNING)
            .order_by(runs.id.desc())
            .limit(1)
        )
        row = {
            **attempt.row(now),
            "status": RunStatus.SKIPPED,
            "finished_at": now,
            "error": reason,
        }
        return _insert(connection, row), holder


def _insert(connection: Connection, row: Mapping[str, Any]) -> int:
    key = connection.execute(insert(job_runs).values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def beat(engine: Engine, run_id: int, now: datetime) -> bool:
    """Refresh a running run's heartbeat; False when the row is no longer `running` (another
    run marked it abandoned), so the run knows it has lost the job."""
    with engine.begin() as connection:
        result = connection.execute(
            update(job_runs)
            .where(runs.id == run_id, runs.status == RunStatus.RUNNING)
            .values(heartbeat_at=now)
        )
        return bool(result.rowcount)


def finish(
    engine: Engine,
    run_id: int,
    now: datetime,
    *,
    status: RunStatus,
    stats: Mapping[str, Any] | None = None,
    error: str | None = None,
    details: str | None = None,
) -> bool:
    """Record how the run ended; False, writing nothing, when the row is no longer
    `running`: another run's verdict (abandoned) is never overwritten.

    A run often fails because its connections were cut (a failover, a killed session); the
    pool then holds dead connections, and the outcome is written on a fresh one, a few
    times if need be, so that the record says `failed` rather than `running`.
    """
    statement = (
        update(job_runs)
        .where(runs.id == run_id, runs.status == RunStatus.RUNNING)
        .values(
            status=status,
            finished_at=now,
            heartbeat_at=now,
            updated_at=now,
            stats=None if stats is None else dict(stats),
            error=error,
            details=details,
        )
    )
    for attempt in range(1, FINISH_TRIES + 1):
        try:
            with engine.begin() as connection:
                return bool(connection.execute(statement).rowcount)
        except DBAPIError as exc:
            if not exc.connection_invalidated or attempt == FINISH_TRIES:
                raise
    raise AssertionError("unreachable")


def find(engine: Engine, run_id: int) -> RunRecord | None:
    """One run, everything included, or None."""
    with engine.connect() as connection:
        row = connection.execute(select(job_runs).where(runs.id == run_id)).one_or_none()
    return None if row is None else record_of(row)


def put_right_by(engine: Engine, run_id: int) -> int | None:
    """The id of a run that succeeded in `run_id`'s chain of attempts and retries, if any.

    The chain is everything retried from the same first run: once any of it succeeded,
    each failure in it is put right, whichever failure the successful retry followed.
    """
    with engine.connect() as connection:
        root = run_id
        while (
            parent := connection.scalar(select(runs.retry_of).where(runs.id == root))
        ) is not None:
            root = int(parent)
        frontier = [root]
        while frontier:
            rows = connection.execute(
                select(runs.id, runs.status).where(runs.retry_of.in_(frontier))
            ).all()
            for row in rows:
                if row.status == RunStatus.SUCCEEDED:
                    return int(row.id)
            frontier = [int(row.id) for row in rows]
    return None


def failed_runs(engine: Engine) -> list[int]:
    """Failed runs, oldest first, that no later attempt or retry has taken up and whose
    chain nothing has put right since.

    Only the last failure of a chain of attempts is returned: retrying it retries them all.
    """
    with engine.connect() as connection:
        candidates = list(
            connection.scalars(
                select(runs.id)
                .where(runs.status == RunStatus.FAILED, ~taken_up())
                .order_by(runs.id)
            ).all()
        )
    return [run_id for run_id in candidates if put_right_by(engine, run_id) is None]
