"""Running a job the way every command does: on record, or as a dry run that records nothing.

A command and `slotgen retry` go through the same door, so a retry runs exactly what the
failed run was asked to do.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

from slotgen.db.database import Database
from slotgen.errors import ExitCode
from slotgen.services.metrics import recording
from slotgen.services.runner import JobWork, ReportT, RunOptions, run_job

DRY_RUN = "dry_run"
"""The status a dry run reports: it took no lock and wrote no job_runs row."""


@dataclass(frozen=True)
class JobResult(Generic[ReportT]):
    """What a job command shows: the report when there is one, and the run on record."""

    report: ReportT | None
    run_id: int | None
    status: str
    exit_code: int
    error: str | None = None
    attempts: int = 1
    holder: int | None = None

    def json(self) -> dict[str, Any]:
        stats = self.report.stats() if self.report is not None else {}
        return {**stats, "run_id": self.run_id, "status": self.status, "error": self.error}


def perform(
    database: Database,
    work: JobWork[ReportT],
    options: RunOptions,
    now: datetime,
    *,
    dry_run: bool,
) -> JobResult[ReportT]:
    """Run the job on record, or read-only for a dry run (no lock, no job_runs row, no
    metrics)."""
    if dry_run:
        work.check(database.engine, now)
        report = work.run(database.engine, now, lambda: None)
        return JobResult(report, None, DRY_RUN, ExitCode.OK)
    with recording(options.metrics_file, work.params.job) as metrics:
        outcome = run_job(database, work, options)
        stats = outcome.report.stats() if outcome.report is not None else None
        metrics.outcome(outcome.status, outcome.exit_code, stats)
    return JobResult(
        outcome.report,
        outcome.run_id,
        outcome.status,
        outcome.exit_code,
        outcome.error,
        outcome.attempts,
        outcome.holder,
    )
