"""What every job command shares: the run options and running the job on record."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from slotgen.cli.common import stderr
from slotgen.db.database import Database
from slotgen.db.runs import FAILED, SKIPPED
from slotgen.errors import ExitCode
from slotgen.services.runner import JobCall, JobReport, RunRequest, run_job


class Trigger(StrEnum):
    MANUAL = "manual"
    CRON = "cron"


TriesOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=10,
        help="Attempts before the run counts as failed, each its own job_runs row. "
        "Bad input is never retried.",
    ),
]
BackoffOption = Annotated[
    float,
    typer.Option(
        min=0,
        help="Seconds before the second attempt; doubles with each attempt (with jitter, "
        "capped at 10 minutes).",
    ),
]
TriggerOption = Annotated[
    Trigger,
    typer.Option(
        envvar="SLOTGEN_TRIGGER",
        show_envvar=True,
        help="Who started the run, as `slotgen runs` shows it.",
    ),
]


def ping_url_option(job: str) -> Any:
    return typer.Option(
        "--ping-url",
        envvar=f"SLOTGEN_{job.upper()}_PING_URL",
        show_envvar=True,
        help="Tell a cron monitor about this run: POST URL/start, URL on success, "
        "URL/EXIT_CODE on failure, each with ?rid=RUN_ID and a 3-second timeout.",
    )


@dataclass(frozen=True)
class Finished:
    """What a job command prints: the report when there is one, and the run on record."""

    report: JobReport | None
    run_id: int | None
    status: str
    exit_code: ExitCode

    def json(self) -> dict[str, Any]:
        stats = self.report.stats() if self.report is not None else {}
        return {**stats, "run_id": self.run_id, "status": self.status}


def perform(
    database: Database,
    request: RunRequest,
    call: JobCall,
    *,
    dry_run: bool,
) -> Finished:
    """Run the job on record, or read-only for a dry run (no lock, no job_runs row), and
    say on stderr what became of a run that did no work."""
    if dry_run:
        return Finished(call(database.engine, datetime.now(UTC)), None, "dry_run", ExitCode.OK)
    outcome = run_job(database.engine, request, call, scrub=database.scrub)
    if outcome.status == SKIPPED:
        stderr.print(f"Skipped: {outcome.error} (recorded as run {outcome.run_id})", markup=False)
    elif outcome.status == FAILED:
        stderr.print(f"Error: run {outcome.run_id} failed: {outcome.error}", markup=False)
        if outcome.attempts > 1:
            stderr.print(f"Gave up after {outcome.attempts} attempts.", markup=False)
    return Finished(outcome.report, outcome.run_id, outcome.status, outcome.exit_code)
