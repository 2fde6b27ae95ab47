"""`slotgen release`: return abandoned reservations to the pool."""

from datetime import UTC, datetime
from typing import Annotated

import typer

from slotgen.cli.options import (
    DEFAULT_TRIGGER,
    BackoffOption,
    DatabaseUrlOption,
    JsonOption,
    MetricsFileOption,
    TriesOption,
    TriggerOption,
    database,
    ping_url_option,
)
from slotgen.cli.output import line, print_json
from slotgen.cli.views import job_outcome
from slotgen.vocabulary import Job

DEFAULT_BATCH_SIZE = 5000


def release_command(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", metavar="", help="Count what would be released; change nothing."),
    ] = False,
    batch_size: Annotated[
        int,
        typer.Option(min=1, help="Reservations released per transaction."),
    ] = DEFAULT_BATCH_SIZE,
    tries: TriesOption = 1,
    backoff: BackoffOption = 5.0,
    trigger: TriggerOption = DEFAULT_TRIGGER,
    ping_url: Annotated[str | None, ping_url_option("release")] = None,
    metrics_file: MetricsFileOption = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Set reservations whose reserved_until has passed back to open (safe while booking).

    Booked slots, reservations still running and reservations without an expiry are left
    alone; the last are counted and warned about. A dry run is not recorded in job_runs.
    """
    from slotgen.services.params import ReleaseParams
    from slotgen.services.release import ReleaseRequest, release
    from slotgen.services.runner import RunOptions

    request = ReleaseRequest(
        ReleaseParams(batch_size),
        dry_run=dry_run,
        options=RunOptions(trigger, tries, backoff, ping_url, metrics_file),
    )
    metered = None if dry_run else (metrics_file, Job.RELEASE)
    with database(database_url, metered=metered) as opened:
        result = release(opened, request, datetime.now(UTC))
    job_outcome(result)
    if as_json:
        print_json({**result.json(), "dry_run": dry_run})
    elif result.report is not None:
        line(result.report.summary())
    if result.exit_code:
        raise typer.Exit(result.exit_code)
