"""Reading and pruning `job_runs`: the run history that `runs` shows and `check` judges.

Every function works inside the caller's connection and transaction. The summary reads
a handful of rows per job whatever the table's size: a window function ranks each job's
runs by kind, and only the few latest of each kind leave the database.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, case, delete, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from slotgen.db.schema import job_runs
from slotgen.monitoring.health import FAILURE_STREAK, JobSummary, summarize
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import FAILURES, RunStatus

runs = job_runs.c

LISTED = [column for column in job_runs.columns if column.name != "details"]
"""What a listing reads: everything but the tracebacks, which only `show` needs."""
_FIELDS = frozenset(RunRecord.__dataclass_fields__)


def record_of(row: Row[*tuple[Any, ...]]) -> RunRecord:
    """A job_runs row, whole or in part, as the one record every view reads."""
    values = {key: value for key, value in row._mapping.items() if key in _FIELDS}
    if "retried" in values:
        values["retried"] = bool(values["retried"])
    return RunRecord(**values)


def list_runs(
    connection: Connection,
    *,
    job: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 20,
) -> list[RunRecord]:
    """Runs newest first, optionally of one job, in one status, started at or after `since`."""
    query = select(*LISTED).order_by(runs.started_at.desc(), runs.id.desc()).limit(limit)
    if job is not None:
        query = query.where(runs.job == job)
    if status is not None:
        query = query.where(runs.status == status)
    if since is not None:
        query = query.where(runs.started_at >= since)
    return [record_of(row) for row in connection.execute(query)]


def get_run(connection: Connection, run_id: int) -> RunRecord | None:
    row = connection.execute(select(job_runs).where(runs.id == run_id)).one_or_none()
    return None if row is None else record_of(row)


def retried_by(connection: Connection, run_id: int) -> list[int]:
    """The runs that followed `run_id` up: its next attempt, or a `slotgen retry` of it."""
    query = select(runs.id).where(runs.retry_of == run_id).order_by(runs.id)
    return [int(run_id) for run_id in connection.scalars(query)]


def taken_up() -> ColumnElement[bool]:
    """A later attempt or retry that did work (not a skip) took this run up."""
    later = job_runs.alias("later")
    return (
        select(later.c.id)
        .where(later.c.retry_of == runs.id, later.c.status != RunStatus.SKIPPED)
        .exists()
    )


def recent_runs(connection: Connection, job: str | None = None) -> list[RunRecord]:
    """Per job: the latest few runs of each kind, and every running one.

    Enough for `summarize`: ranking within (job, kind, taken up) keeps the latest run,
    the latest failure, and the latest few successes and failures no retry took up.
    """
    kind = case(
        (runs.status == RunStatus.SUCCEEDED, "success"),
        (runs.status.in_(FAILURES), "failure"),
        else_=runs.status,
    )
    base = select(
        runs.id,
        runs.job,
        runs.status,
        runs.started_at,
        runs.finished_at,
        runs.heartbeat_at,
        runs.error,
        runs.stats,
        runs.host,
        runs.pid,
        taken_up().label("retried"),
        kind.label("kind"),
    )
    if job is not None:
        base = base.where(runs.job == job)
    inner = base.subquery()
    nth = (
        func.row_number()
        .over(
            partition_by=(inner.c.job, inner.c.kind, inner.c.retried),
            order_by=(inner.c.started_at.desc(), inner.c.id.desc()),
        )
        .label("nth")
    )
    ranked = select(inner, nth).subquery()
    query = select(ranked).where(
        or_(ranked.c.nth <= FAILURE_STREAK, ranked.c.status == RunStatus.RUNNING)
    )
    return [record_of(row) for row in connection.execute(query)]


def _how_many(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    # SUM(CASE ...) rather than COUNT(*) FILTER (...): MariaDB has no FILTER clause.
    return func.sum(case((condition, 1), else_=0))


def run_counts(
    connection: Connection, now: datetime, job: str | None = None
) -> dict[str, dict[str, int]]:
    """Per job: finished runs, and successes and failures started in the last day and week."""
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    succeeded, failed = runs.status == RunStatus.SUCCEEDED, runs.status.in_(FAILURES)
    query = select(
        runs.job,
        # A skipped run did no work: it is not an outcome the job can be judged by.
        _how_many(runs.status.notin_((RunStatus.RUNNING, RunStatus.SKIPPED))).label(
            "finished_runs"
        ),
        _how_many(succeeded & (runs.started_at >= day)).label("succeeded_24h"),
        _how_many(failed & (runs.started_at >= day)).label("failed_24h"),
        _how_many(succeeded & (runs.started_at >= week)).label("succeeded_7d"),
        _how_many(failed & (runs.started_at >= week)).label("failed_7d"),
    ).group_by(runs.job)
    if job is not None:
        query = query.where(runs.job == job)
    return {
        row.job: {key: int(value or 0) for key, value in row._mapping.items() if key != "job"}
        for row in connection.execute(query)
    }


def job_summaries(
    connection: Connection, now: datetime, job: str | None = None
) -> dict[str, JobSummary]:
    """Every job that has runs (or just `job`), by name."""
    counts = run_counts(connection, now, job)
    recent = recent_runs(connection, job)
    return {name: summarize(name, recent, **counts[name]) for name in sorted(counts)}


def _prunable(before: datetime) -> ColumnElement[bool]:
    return (runs.status != RunStatus.RUNNING) & (runs.started_at < before)


def count_prunable(connection: Connection, before: datetime) -> int:
    return int(connection.scalar(select(func.count()).where(_prunable(before))) or 0)


def prune_batch(connection: Connection, before: datetime, limit: int) -> int:
    """Delete up to `limit` finished runs started before `before`; returns how many.

    A run still `running` is never deleted, however old: it is stuck, and `check` says
    so. Runs that retried a deleted one keep their row; the foreign key's ON DELETE SET
    NULL clears their `retry_of`.
    """
    ids = connection.scalars(
        select(runs.id).where(_prunable(before)).order_by(runs.id).limit(limit)
    ).all()
    if not ids:
        return 0
    # Two statements, not DELETE ... WHERE id IN (SELECT ... LIMIT): MariaDB refuses a
    # subquery on the table a statement deletes from.
    return int(
        connection.execute(delete(job_runs).where(runs.id.in_(ids), _prunable(before))).rowcount
    )
