"""`runs`: what the jobs did, when, and why one failed; and pruning that record."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from slotgen.core.dates import parse_date_spec
from slotgen.db import history
from slotgen.db.database import Database
from slotgen.errors import BadInput
from slotgen.monitoring.durations import parse_duration, parse_since
from slotgen.monitoring.health import JobSummary
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import RunStatus

PRUNE_BATCH = 1000
"""Runs deleted per transaction: short enough not to hold up a job recording its run."""


def iso(moment: datetime | None) -> str | None:
    """Instants in JSON: ISO 8601 in UTC, whatever the operator's zone."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def run_json(run: RunRecord, now: datetime) -> dict[str, Any]:
    duration = run.duration(now) if run.finished_at is not None else None
    return {
        "id": run.id,
        "job": run.job,
        "status": run.status,
        "trigger": run.trigger,
        "attempt": run.attempt,
        "retry_of": run.retry_of,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "heartbeat_at": iso(run.heartbeat_at),
        "duration_seconds": None if duration is None else duration.total_seconds(),
        "host": run.host,
        "pid": run.pid,
        "params": run.params,
        "stats": run.stats,
        "error": run.error,
    }


def _run_ref(run: RunRecord | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "status": run.status,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "error": run.error_line or None,
    }


def summary_json(summary: JobSummary) -> dict[str, Any]:
    return {
        "last_run": _run_ref(summary.last_run),
        "last_success": _run_ref(summary.last_success),
        "last_failure": _run_ref(summary.last_failure),
        "succeeded_24h": summary.succeeded_24h,
        "failed_24h": summary.failed_24h,
        "succeeded_7d": summary.succeeded_7d,
        "failed_7d": summary.failed_7d,
    }


@dataclass(frozen=True)
class RunsRequest:
    job: str | None = None
    status: str | None = None
    since: str | None = None
    limit: int = 20

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in set(RunStatus):
            raise BadInput(f"unknown status {self.status!r}: use one of {', '.join(RunStatus)}")
        if self.limit < 1:
            raise BadInput(f"--limit must be 1 or more, got {self.limit}")
        self.since_instant(datetime.now(UTC))

    def since_instant(self, now: datetime) -> datetime | None:
        """An ISO date or time, a span back from now (`24h`), or a date as `generate`
        reads one (`today`, `yesterday`, `-2w`): that day's local midnight."""
        if self.since is None:
            return None
        try:
            return parse_since(self.since, now)
        except ValueError as exc:
            try:
                day = parse_date_spec(self.since).resolve(now.astimezone().date())
            except ValueError:
                raise BadInput(
                    f"--since: {exc}, or a date word: today, yesterday, -7d, -2w"
                ) from None
            return datetime.combine(day, time(0)).astimezone().astimezone(UTC)


@dataclass(frozen=True)
class RunsResult:
    now: datetime
    job: str | None
    summaries: dict[str, JobSummary] = field(default_factory=dict)
    runs: list[RunRecord] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {
            "summary": {name: summary_json(summary) for name, summary in self.summaries.items()},
            "runs": [run_json(run, self.now) for run in self.runs],
        }


def list_runs(database: Database, request: RunsRequest, now: datetime) -> RunsResult:
    """A summary per job (unfiltered but for the job), then the matching runs, newest first."""
    since = request.since_instant(now)
    with database.engine.connect() as connection:
        summaries = history.job_summaries(connection, now, request.job)
        runs = history.list_runs(
            connection,
            job=request.job,
            status=request.status,
            since=since,
            limit=request.limit,
        )
    return RunsResult(now, request.job, summaries, runs)


@dataclass(frozen=True)
class RunDetail:
    now: datetime
    run: RunRecord
    retried_by: list[int]

    def json(self) -> dict[str, Any]:
        run = self.run
        return {
            **run_json(run, self.now),
            "details": run.details,
            "created_at": iso(run.created_at),
            "updated_at": iso(run.updated_at),
            "retried_by": self.retried_by,
        }


def show_run(database: Database, run_id: int, now: datetime) -> RunDetail:
    with database.engine.connect() as connection:
        run = history.get_run(connection, run_id)
        followers = history.retried_by(connection, run_id) if run is not None else []
    if run is None:
        raise BadInput(f"no run with id {run_id}; `slotgen runs` lists them")
    return RunDetail(now, run, followers)


@dataclass(frozen=True)
class PruneRequest:
    older_than: str
    dry_run: bool = False


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    before: datetime
    dry_run: bool

    def json(self) -> dict[str, Any]:
        return {"deleted": self.deleted, "dry_run": self.dry_run, "before": iso(self.before)}


def prune(database: Database, request: PruneRequest, now: datetime) -> PruneResult:
    """Delete finished runs started before `older_than` ago, a short batch at a time."""
    try:
        before = now - parse_duration(request.older_than)
    except ValueError as exc:
        raise BadInput(f"--older-than: {exc}") from None
    if request.dry_run:
        with database.engine.connect() as connection:
            return PruneResult(history.count_prunable(connection, before), before, dry_run=True)
    deleted = 0
    while True:
        with database.engine.begin() as connection:
            batch = history.prune_batch(connection, before, PRUNE_BATCH)
        deleted += batch
        if batch < PRUNE_BATCH:
            return PruneResult(deleted, before, dry_run=False)
