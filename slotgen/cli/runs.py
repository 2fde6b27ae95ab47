"""`slotgen runs`: what the jobs did, when, and why one failed; and pruning that record."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from slotgen.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    open_database,
    print_json,
    stderr,
    stdout,
)
from slotgen.core.durations import (
    DURATION_SYNTAX,
    SINCE_SYNTAX,
    format_duration,
    parse_duration,
    parse_since,
)
from slotgen.core.health import RUNNING, STATUSES, JobSummary, RunFacts
from slotgen.db import history
from slotgen.errors import BadInput

PRUNE_BATCH = 1000
"""Runs deleted per transaction: short enough not to hold up a job recording its run."""

STATUS_STYLES = {
    "running": "cyan",
    "succeeded": "green",
    "failed": "bold red",
    "abandoned": "red",
    "skipped": "yellow",
}
KEY_COUNTS = {"generate": ("created", "updated", "removed", "conflicts"), "release": ("released",)}
"""Per job, the stats that say at a glance what a run did."""

app = typer.Typer()


@app.callback(invoke_without_command=True)
def list_runs(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option(help="Only runs of this job, e.g. generate.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help=f"Only runs in this status: {', '.join(STATUSES)}."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help=f"Only runs started at or after this: {SINCE_SYNTAX}; local time."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many runs.")] = 20,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show what the jobs did: a summary per job, then the runs, newest first.

    Times are in your local time zone. Failures count failed and abandoned runs
    (abandoned: the process died before it could record an outcome).
    `slotgen runs show ID` tells the whole story of one run.
    """
    if ctx.invoked_subcommand is not None:
        return
    now = datetime.now(UTC)
    if status is not None and status not in STATUSES:
        raise BadInput(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    try:
        start = parse_since(since, now) if since is not None else None
    except ValueError as exc:
        raise BadInput(f"--since: {exc}") from None
    with open_database(database_url) as database, database.engine.connect() as connection:
        summaries = history.job_summaries(connection, now, job)
        rows = history.list_runs(connection, job=job, status=status, since=start, limit=limit)
    if as_json:
        print_json(
            {
                "summary": {name: _summary_json(summary) for name, summary in summaries.items()},
                "runs": [_run_json(row._mapping) for row in rows],
            }
        )
        return
    if not summaries:
        stderr.print(
            f"No runs of {job} recorded yet." if job else "No runs recorded yet.", markup=False
        )
        return
    stdout.print(_summary_table(summaries, now))
    if rows:
        stdout.print(_runs_table(rows, now))
    else:
        stderr.print("No runs match these filters.")


@app.command()
def show(
    run_id: Annotated[int, typer.Argument(metavar="ID", help="The run's id, from `slotgen runs`.")],
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Everything recorded about one run: parameters, counts, the error and its traceback."""
    now = datetime.now(UTC)
    with open_database(database_url) as database, database.engine.connect() as connection:
        row = history.get_run(connection, run_id)
        followers = history.retried_by(connection, run_id) if row is not None else []
    if row is None:
        raise BadInput(f"no run with id {run_id}; `slotgen runs` lists them")
    run = row._mapping
    if as_json:
        print_json(
            {
                **_run_json(run),
                "details": run["details"],
                "created_at": _iso(run["created_at"]),
                "updated_at": _iso(run["updated_at"]),
                "retried_by": followers,
            }
        )
        return
    trigger = f"{run['trigger']}, attempt {run['attempt']}"
    if run["retry_of"] is not None:
        trigger += f", retry of run {run['retry_of']}"
    facts: list[tuple[str, str | Text]] = [
        ("run", f"{run['id']} ({run['job']})"),
        ("status", _status(run["status"])),
        ("trigger", trigger),
        ("retried by", ", ".join(f"run {follower}" for follower in followers) or "-"),
        ("started", _moment(run["started_at"])),
        ("finished", _moment(run["finished_at"])),
        ("heartbeat", _moment(run["heartbeat_at"]) + _age_if_running(run, now)),
        ("duration", _duration(run, now)),
        ("host", f"{run['host']} (pid {run['pid']})" if run["host"] else "-"),
        ("recorded", f"{_moment(run['created_at'])}, updated {_moment(run['updated_at'])}"),
        ("params", _pretty(run["params"])),
        ("stats", _pretty(run["stats"])),
        ("error", run["error"] or "-"),
        ("details", run["details"] or "-"),
    ]
    indent = max(len(key) for key, _ in facts) + 2
    for key, value in facts:
        first, *rest = (value if isinstance(value, Text) else Text(value)).split("\n")
        stdout.print(Text(key.ljust(indent), style="bold") + first)
        for line in rest:
            stdout.print(Text(" " * indent) + line)


@app.command()
def prune(
    older_than: Annotated[
        str,
        typer.Option(
            envvar="SLOTGEN_PRUNE_OLDER_THAN",
            show_envvar=True,
            help=f"Delete finished runs that started longer ago than this: {DURATION_SYNTAX}.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Delete old finished runs so the record stays small; running ones are kept.

    A run that retried a deleted one is kept, with its retry_of cleared.
    """
    now = datetime.now(UTC)
    try:
        before = now - parse_duration(older_than)
    except ValueError as exc:
        raise BadInput(f"--older-than: {exc}") from None
    with open_database(database_url) as database:
        if dry_run:
            with database.engine.connect() as connection:
                deleted = history.count_prunable(connection, before)
        else:
            deleted = 0
            while True:
                with database.engine.begin() as connection:
                    batch = history.prune_batch(connection, before, PRUNE_BATCH)
                deleted += batch
                if batch < PRUNE_BATCH:
                    break
    if as_json:
        print_json({"deleted": deleted, "dry_run": dry_run, "before": _iso(before)})
        return
    verb = "Would delete" if dry_run else "Deleted"
    runs = "run" if deleted == 1 else "runs"
    stdout.out(
        f"{verb} {deleted:,} finished {runs} started before {_moment(before, seconds=False)}",
        highlight=False,
    )


def _table(title: str) -> Table:
    """A plain table: rules but no boxes, so more of each row fits an 80-column terminal."""
    return Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        title=title,
        title_justify="left",
    )


def _summary_table(summaries: Mapping[str, JobSummary], now: datetime) -> Table:
    table = _table("Jobs")
    table.add_column("job", no_wrap=True)
    table.add_column("last run")
    table.add_column("last success")
    table.add_column("last failure")
    table.add_column("24 h\nok/failed", justify="center", no_wrap=True)
    table.add_column("7 days\nok/failed", justify="center", no_wrap=True)
    for name, summary in summaries.items():
        last = summary.last_run
        last_run = Text("never")
        if last is not None:
            last_run = _status(last.status).append(f" {_ago(last, now)}")
        table.add_row(
            Text(name),
            last_run,
            _ago(summary.last_success, now),
            _ago(summary.last_failure, now),
            f"{summary.succeeded_24h} / {summary.failed_24h}",
            f"{summary.succeeded_7d} / {summary.failed_7d}",
        )
    return table


def _runs_table(rows: Any, now: datetime) -> Table:
    table = _table("Runs, newest first")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("job", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("trigger", max_width=7)
    table.add_column("started", no_wrap=True)
    table.add_column("duration", max_width=8)
    table.add_column("outcome", overflow="fold", ratio=1)
    for row in rows:
        run = row._mapping
        trigger = run["trigger"] + (f", try {run['attempt']}" if run["attempt"] > 1 else "")
        parts = (_counts(run["job"], run["stats"]), _heartbeat(run, now), _first_line(run["error"]))
        outcome = "; ".join(part for part in parts if part)
        table.add_row(
            str(run["id"]),
            Text(run["job"]),
            _status(run["status"]),
            Text(trigger),
            _moment(run["started_at"], seconds=False),
            _duration(run, now),
            Text(outcome),
        )
    return table


def _status(status: str) -> Text:
    """The status word itself, coloured: readable without colour, in a pipe or in mail."""
    return Text(status, style=STATUS_STYLES.get(status, ""))


def _moment(moment: datetime | None, *, seconds: bool = True) -> str:
    """An instant in the operator's local zone, where they read every other clock."""
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M" + (":%S %Z" if seconds else ""))


def _ago(run: RunFacts | None, now: datetime) -> str:
    return f"{format_duration(now - run.started_at)} ago" if run is not None else "never"


def _duration(run: Mapping[Any, Any], now: datetime) -> str:
    if run["finished_at"] is not None:
        return format_duration(run["finished_at"] - run["started_at"])
    if run["status"] != RUNNING:
        return "-"
    return format_duration(now - run["started_at"])  # so far: the status says running


def _age_if_running(run: Mapping[Any, Any], now: datetime) -> str:
    if run["status"] != RUNNING or run["heartbeat_at"] is None:
        return ""
    return f" ({format_duration(now - run['heartbeat_at'])} ago)"


def _heartbeat(run: Mapping[Any, Any], now: datetime) -> str:
    """How long a running run has been silent: the first sign that it is stuck."""
    if run["status"] != RUNNING:
        return ""
    if run["heartbeat_at"] is None:
        return "no heartbeat yet"
    return f"heartbeat {format_duration(now - run['heartbeat_at'])} ago"


def _counts(job: str, stats: Any) -> str:
    """What a run changed, zeros left out: `104 created, 3 removed`, or `no changes`."""
    keys = KEY_COUNTS.get(job, ())
    if not isinstance(stats, Mapping) or not any(isinstance(stats.get(k), int) for k in keys):
        return ""
    shown = [
        f"{stats[key]:,} {key}" for key in keys if isinstance(stats.get(key), int) and stats[key]
    ]
    return ", ".join(shown) or "no changes"


def _first_line(error: str | None) -> str:
    lines = (error or "").strip().splitlines()
    return lines[0] if lines else ""


def _pretty(value: Any) -> str:
    return "-" if value is None else json.dumps(value, indent=2, sort_keys=True, default=str)


def _iso(moment: datetime | None) -> str | None:
    """Instants in JSON: ISO 8601 in UTC, whatever the operator's zone."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _run_ref(run: RunFacts | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "status": run.status,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "error": run.error_line or None,
    }


def _summary_json(summary: JobSummary) -> dict[str, Any]:
    return {
        "last_run": _run_ref(summary.last_run),
        "last_success": _run_ref(summary.last_success),
        "last_failure": _run_ref(summary.last_failure),
        "succeeded_24h": summary.succeeded_24h,
        "failed_24h": summary.failed_24h,
        "succeeded_7d": summary.succeeded_7d,
        "failed_7d": summary.failed_7d,
    }


def _run_json(run: Mapping[Any, Any]) -> dict[str, Any]:
    finished, started = run["finished_at"], run["started_at"]
    return {
        "id": run["id"],
        "job": run["job"],
        "status": run["status"],
        "trigger": run["trigger"],
        "attempt": run["attempt"],
        "retry_of": run["retry_of"],
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "heartbeat_at": _iso(run["heartbeat_at"]),
        "duration_seconds": (finished - started).total_seconds() if finished else None,
        "host": run["host"],
        "pid": run["pid"],
        "params": run["params"],
        "stats": run["stats"],
        "error": run["error"],
    }
