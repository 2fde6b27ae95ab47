"""`slotgen demo`: a sample clinic with real slots and runs on record, in one command."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from slotgen.cli.options import DatabaseUrlOption, database
from slotgen.cli.output import line, message, stdout, table
from slotgen.cli.views import job_outcome, runs_tables
from slotgen.errors import BadInput, ExitCode
from slotgen.vocabulary import OTHER, SLOT_BUCKETS

if TYPE_CHECKING:
    from rich.table import Table

    from slotgen.services.demo import FacilityDay
    from slotgen.services.jobs import JobResult


def demo_command(
    not_production: Annotated[
        bool,
        typer.Option(
            "--yes-this-is-not-production",
            metavar="",
            help="Run on a database that already holds a schedule: the demo rewrites rules "
            "and makes fake bookings there.",
        ),
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Load a sample clinic, generate 30 days of slots, release stale reservations, show it.

    Three facilities (Berlin, Brooklyn, Kathmandu), nine doctors, weekly and rotating
    rules and exceptions from the shipped sample schedule, plus a holiday and an
    afternoon off dated from today. Safe to run again: rows keep their ids and generate
    changes nothing twice. Runs on the embedded default or an empty database; anything else needs
    --yes-this-is-not-production.
    """
    from slotgen.services.demo import SUMMARY_DAYS, demo

    with database(database_url) as opened:
        result = demo(opened, datetime.now(UTC), not_production=not_production)
    message(f"Demo clinic in {result.location}")
    if result.imported.problems:
        for problem in result.imported.problems:
            message(str(problem))
        raise BadInput(result.imported.problem_line())
    line(result.imported.summary())
    if result.generated is not None:
        _job(result.generated)
        if result.generated.exit_code:
            raise typer.Exit(result.generated.exit_code)
        line(
            "Booked a slot and held one for 15 minutes at each facility; "
            f"{result.expired} reservations ran out 5 minutes ago"
        )
    if result.released is not None:
        _job(result.released)
    stdout().print(_slot_table(result.days, SUMMARY_DAYS))
    if result.runs is not None:
        runs_tables(result.runs)
    if result.released is not None and result.released.exit_code != ExitCode.OK:
        raise typer.Exit(result.released.exit_code)


def _job(result: "JobResult[Any]") -> None:
    job_outcome(result)
    if result.report is not None:
        line(result.report.summary())


def _slot_table(days: "tuple[FacilityDay, ...]", per_facility: int) -> "Table":
    """Slots per facility and local day; an other column only when the web app's own
    statuses appear."""
    buckets = [b for b in SLOT_BUCKETS if b != OTHER or any(day.counts[OTHER] for day in days)]
    shown = table(f"Slots in the next {per_facility} days, by local date")
    shown.add_column("facility", no_wrap=True)
    shown.add_column("day", no_wrap=True)
    for bucket in buckets:
        shown.add_column(bucket, justify="right")
    for index, day in enumerate(days):
        offset = index % per_facility
        labels = [day.facility, f"({day.timezone})"]
        shown.add_row(
            labels[offset] if offset < len(labels) else "",
            f"{day.day:%a %Y-%m-%d}",
            *(str(day.counts[bucket]) for bucket in buckets),
            end_section=offset == per_facility - 1,
        )
    return shown
