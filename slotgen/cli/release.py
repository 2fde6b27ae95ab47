"""`slotgen release`: return abandoned reservations to the pool."""

from typing import Annotated

import typer

from slotgen.cli.common import DatabaseUrlOption, JsonOption, open_database, print_json, stdout
from slotgen.cli.jobs import (
    BackoffOption,
    TriesOption,
    Trigger,
    TriggerOption,
    perform,
    ping_url_option,
)
from slotgen.services.jobs import release_job
from slotgen.services.release import DEFAULT_BATCH_SIZE, ReleaseReport
from slotgen.services.runner import RunRequest


def release_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be released; change nothing.")
    ] = False,
    batch_size: Annotated[
        int,
        typer.Option(min=1, help="Reservations released per transaction."),
    ] = DEFAULT_BATCH_SIZE,
    tries: TriesOption = 1,
    backoff: BackoffOption = 5.0,
    trigger: TriggerOption = Trigger.MANUAL,
    ping_url: Annotated[str | None, ping_url_option("release")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Set reservations whose reserved_until has passed back to open (safe while booking).

    Booked slots, reservations still running and reservations without an expiry are left
    alone; the last are counted and warned about. A dry run is not recorded in job_runs.
    """
    params = {"batch_size": batch_size, "dry_run": dry_run}
    request = RunRequest("release", params, trigger, tries, backoff, ping_url=ping_url)
    with open_database(database_url) as database:
        finished = perform(database, request, release_job(params), dry_run=dry_run)
    if as_json:
        print_json({**finished.json(), "dry_run": dry_run})
    elif isinstance(finished.report, ReleaseReport):
        stdout.print(finished.report.summary(), markup=False)
    if finished.exit_code:
        raise typer.Exit(finished.exit_code)
