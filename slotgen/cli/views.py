"""Renderings that more than one command shows: a job's outcome, the runs tables."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slotgen.cli.output import message, moment, status_text, stdout, table
from slotgen.monitoring.durations import format_duration
from slotgen.vocabulary import RunStatus

if TYPE_CHECKING:
    from rich.table import Table

    from slotgen.monitoring.health import JobSummary
    from slotgen.monitoring.records import RunRecord
    from slotgen.services.jobs import JobResult
    from slotgen.services.runs import RunsResult


def job_outcome(result: "JobResult[Any]") -> None:
    """Say on stderr what became of a run that did no work or failed."""
    if result.status == RunStatus.SKIPPED:
        message(f"Skipped: {result.error} (recorded as run {result.run_id})")
    elif result.status == RunStatus.FAILED:
        message(f"Error: run {result.run_id} failed: {result.error}")
        if result.attempts > 1:
            message(f"Gave up after {result.attempts} attempts.")
    elif result.status == RunStatus.INTERRUPTED:
        message(f"Error: run {result.run_id} {result.error}; the next run finishes the work")


def runs_tables(result: "RunsResult") -> None:
    """The summary per job, then the runs: what `slotgen runs` prints."""
    if not result.summaries:
        message(f"No runs of {result.job} recorded yet." if result.job else "No runs recorded yet.")
        return
    stdout().print(_summary_table(result.summaries, result.now))
    if result.runs:
        stdout().print(_runs_table(result.runs, result.now))
    else:
        message("No runs match these filters.")


def duration(run: "RunRecord", now: datetime) -> str:
    span = run.duration(now)
    return "-" if span is None else format_duration(span)


def ago(run: "RunRecord | None", now: datetime) -> str:
    return f"{format_duration(now - run.started_at)} ago" if run is not None else "never"


def _summary_table(summaries: Mapping[str, "JobSummary"], now: datetime) -> "Table":
    from rich.text import Text  # rich loads with the first table: see output.stdout

    summary_table = table("Jobs", compact=True)
    summary_table.add_column("job", no_wrap=True)
    summary_table.add_column("last run")
    summary_table.add_column("last success")
    summary_table.add_column("last failure")
    summary_table.add_column("24 h\nok/failed", justify="center", no_wrap=True)
    summary_table.add_column("7 days\nok/failed", justify="center", no_wrap=True)
    for name, summary in summaries.items():
        last = summary.last_run
        last_run = Text("never")
        if last is not None:
            last_run = status_text(last.status).append(f" {ago(last, now)}")
        summary_table.add_row(
            Text(name),
            last_run,
            ago(summary.last_success, now),
            ago(summary.last_failure, now),
            f"{summary.succeeded_24h} / {summary.failed_24h}",
            f"{summary.succeeded_7d} / {summary.failed_7d}",
        )
    return summary_table


def _runs_table(runs: list["RunRecord"], now: datetime) -> "Table":
    from rich.text import Text

    runs_table = table("Runs, newest first", compact=True)
    runs_table.add_column("id", justify="right", no_wrap=True)
    runs_table.add_column("job", no_wrap=True)
    runs_table.add_column("status", no_wrap=True)
    runs_table.add_column("trigger", max_width=7)
    runs_table.add_column("started", no_wrap=True)
    runs_table.add_column("duration", max_width=8)
    runs_table.add_column("outcome", overflow="fold", ratio=1)
    for run in runs:
        trigger = run.trigger + (f", try {run.attempt}" if run.attempt > 1 else "")
        parts = (run.key_counts, _silence(run, now), run.error_line)
        runs_table.add_row(
            str(run.id),
            Text(run.job),
            status_text(run.status),
            Text(trigger),
            moment(run.started_at, seconds=False),
            duration(run, now),
            Text("; ".join(part for part in parts if part)),
        )
    return runs_table


def _silence(run: "RunRecord", now: datetime) -> str:
    """How long a running run has been silent: the first sign that it is stuck."""
    if run.status != RunStatus.RUNNING:
        return ""
    if run.heartbeat_at is None:
        return "no heartbeat yet"
    return f"heartbeat {format_duration(now - run.heartbeat_at)} ago"


def silent_for(run: "RunRecord", now: datetime) -> str:
    """For `runs show`: the heartbeat's age, while the run is running."""
    if run.status != RunStatus.RUNNING or run.heartbeat_at is None:
        return ""
    return f" ({format_duration(max(timedelta(0), now - run.heartbeat_at))} ago)"
