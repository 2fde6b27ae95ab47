"""`slotgen release`: return abandoned reservations to the pool."""

from datetime import UTC, datetime
from typing import Annotated

import typer

from slotgen.cli.common import DatabaseUrlOption, JsonOption, open_database, print_json, stdout
from slotgen.services.release import DEFAULT_BATCH_SIZE, release


def release_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be released; change nothing.")
    ] = False,
    batch_size: Annotated[
        int,
        typer.Option(min=1, help="Reservations released per transaction."),
    ] = DEFAULT_BATCH_SIZE,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Set reservations whose reserved_until has passed back to open (safe while booking).

    Booked slots, reservations still running and reservations without an expiry are left
    alone; the last are counted and warned about.
    """
    with open_database(database_url) as database:
        report = release(database.engine, datetime.now(UTC), batch_size=batch_size, dry_run=dry_run)
    if as_json:
        print_json({**report.stats(), "dry_run": report.dry_run})
    else:
        stdout.print(report.summary(), markup=False)
