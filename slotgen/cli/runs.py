"""`slotgen runs`: what the jobs did, when, and why one failed; and pruning that record."""

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from slotgen.cli.options import DatabaseUrlOption, JsonOption, database
from slotgen.cli.output import line, moment, print_json, status_text, stdout
from slotgen.cli.views import duration, runs_tables, silent_for
from slotgen.monitoring.durations import DURATION_SYNTAX, SINCE_SYNTAX
from slotgen.vocabulary import RunStatus

app = typer.Typer()


@app.callback(invoke_without_command=True)
def list_runs(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option(help="Only runs of this job, e.g. generate.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help=f"Only runs in this status: {', '.join(RunStatus)}."),
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
    from slotgen.services.runs import RunsRequest
    from slotgen.services.runs import list_runs as service

    request = RunsRequest(job, status, since, limit)
    with database(database_url) as opened:
        result = service(opened, request, datetime.now(UTC))
    if as_json:
        print_json(result.json())
    else:
        runs_tables(result)


@app.command()
def show(
    run_id: Annotated[int, typer.Argument(metavar="ID", help="The run's id, from `slotgen runs`.")],
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Everything recorded about one run: parameters, counts, the error and its traceback."""
    from rich.text import Text

    from slotgen.services.runs import show_run

    now = datetime.now(UTC)
    with database(database_url) as opened:
        detail = show_run(opened, run_id, now)
    if as_json:
        print_json(detail.json())
        return
    run = detail.run
    trigger = f"{run.trigger}, attempt {run.attempt}"
    if run.retry_of is not None:
        trigger += f", retry of run {run.retry_of}"
    facts: list[tuple[str, str | Text]] = [
        ("run", f"{run.id} ({run.job})"),
        ("status", status_text(run.status)),
        ("trigger", trigger),
        ("retried by", ", ".join(f"run {follower}" for follower in detail.retried_by) or "-"),
        ("started", moment(run.started_at)),
        ("finished", moment(run.finished_at)),
        ("heartbeat", moment(run.heartbeat_at) + silent_for(run, now)),
        ("duration", duration(run, now)),
        ("host", f"{run.host} (pid {run.pid})" if run.host else "-"),
        ("recorded", f"{moment(run.created_at)}, updated {moment(run.updated_at)}"),
        ("params", _pretty(run.params)),
        ("stats", _pretty(run.stats)),
        ("error", run.error or "-"),
        ("details", run.details or "-"),
    ]
    indent = max(len(key) for key, _ in facts) + 2
    for key, value in facts:
        first, *rest = (value if isinstance(value, Text) else Text(value)).split("\n")
        stdout().print(Text(key.ljust(indent), style="bold") + first)
        for more in rest:
            stdout().print(Text(" " * indent) + more)


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
        bool,
        typer.Option("--dry-run", metavar="", help="Count what would be deleted; delete nothing."),
    ] = False,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Delete old finished runs so the record stays small; running ones are kept.

    A run that retried a deleted one is kept, with its retry_of cleared.
    """
    from slotgen.services.runs import PruneRequest
    from slotgen.services.runs import prune as service

    request = PruneRequest(older_than, dry_run)
    with database(database_url) as opened:
        result = service(opened, request, datetime.now(UTC))
    if as_json:
        print_json(result.json())
        return
    verb = "Would delete" if dry_run else "Deleted"
    runs = "run" if result.deleted == 1 else "runs"
    line(
        f"{verb} {result.deleted:,} finished {runs} started before "
        f"{moment(result.before, seconds=False)}"
    )


def _pretty(value: Any) -> str:
    return "-" if value is None else json.dumps(value, indent=2, sort_keys=True, default=str)
