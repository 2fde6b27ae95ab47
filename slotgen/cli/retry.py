"""`slotgen retry`: run failed runs again, with the parameters they were given."""

from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from slotgen.cli.common import DatabaseUrlOption, JsonOption, open_database, print_json, stdout
from slotgen.cli.jobs import BackoffOption, TriesOption, perform
from slotgen.db import runs as store
from slotgen.db.database import Database
from slotgen.errors import BadInput, ExitCode
from slotgen.services.jobs import job_call
from slotgen.services.runner import RunRequest

RETRYABLE = (store.FAILED, store.ABANDONED)


def retry_command(
    run_id: Annotated[int | None, typer.Argument(help="The failed run to retry.")] = None,
    all_failed: Annotated[
        bool,
        typer.Option("--all-failed", help="Retry every failed run that nothing has put right."),
    ] = False,
    tries: TriesOption = 1,
    backoff: BackoffOption = 5.0,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run failed runs again with their stored parameters (trigger 'retry').

    A run already retried successfully is not run again; two retries of one run at once
    make one run (the second is recorded as skipped).
    """
    if (run_id is None) == (not all_failed):
        raise BadInput("give a run id or --all-failed (not both)")
    results: list[dict[str, Any]] = []
    with open_database(database_url) as database:
        targets = store.failed_runs(database.engine) if all_failed else [run_id or 0]
        worst = ExitCode.OK
        for target in targets:
            result, code = _retry(database, target, tries, backoff)
            results.append(result)
            worst = max(worst, code)
    if as_json:
        print_json({"retries": results})
    elif not results:
        stdout.print("No failed runs to retry.")
    else:
        for result in results:
            stdout.print(_line(result), markup=False)
    if worst:
        raise typer.Exit(worst)


def _retry(
    database: Database, target: int, tries: int, backoff: float
) -> tuple[dict[str, Any], ExitCode]:
    original = store.find(database.engine, target)
    if original is None:
        raise BadInput(f"there is no run {target}")
    if original.status not in RETRYABLE:
        raise BadInput(f"run {target} {original.status}; only failed runs can be retried")
    request = RunRequest(
        original.job,
        original.params or {},
        "retry",
        tries,
        backoff,
        retry_of=target,
        unless=lambda engine: _already_put_right(engine, target),
    )
    finished = perform(database, request, job_call(original.job, request.params), dry_run=False)
    result = {"retry_of": target, "job": original.job, **finished.json()}
    return result, finished.exit_code


def _already_put_right(engine: Engine, target: int) -> str | None:
    done = store.successful_retry(engine, target)
    return None if done is None else f"run {target} was already retried successfully by run {done}"


def _line(result: dict[str, Any]) -> str:
    retry = f"retry run {result['run_id']} {result['status']}"
    return f"Run {result['retry_of']} ({result['job']}): {retry}"
