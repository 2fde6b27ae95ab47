"""`slotgen exceptions`: close a facility or a doctor for days or hours without writing SQL,
and see at once what that does to the slots already offered."""

from datetime import UTC, datetime
from typing import Annotated

import typer

from slotgen.cli.options import DatabaseUrlOption, FacilityFilter, JsonOption, database, ids
from slotgen.cli.output import line, message, print_json, stdout, table
from slotgen.vocabulary import ExceptionType

SHOWN_TAKEN = 100

app = typer.Typer(
    help="Close a facility or a doctor for whole days or hours (holidays, time off).",
    no_args_is_help=True,
)


@app.command("add")
def add_command(
    facility: Annotated[
        int, typer.Option("--facility", metavar="ID", help="The facility it applies to.")
    ],
    on_date: Annotated[
        str,
        typer.Option(
            "--date",
            metavar="DATE",
            help="First day, in the facility's zone: YYYY-MM-DD, today, tomorrow, +7d.",
        ),
    ],
    doctor: Annotated[
        int | None,
        typer.Option(
            "--doctor", metavar="ID", help="Only this doctor. Default: everyone at the facility."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="Last day (inclusive). Default: --date."),
    ] = None,
    from_time: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="HH:MM", help="Start of the closed window each day, local time."
        ),
    ] = None,
    to_time: Annotated[
        str | None,
        typer.Option("--to", metavar="HH:MM", help="End of the window; 24:00 = end of the day."),
    ] = None,
    exception_type: Annotated[
        ExceptionType, typer.Option("--type", help="Why: planned (blocked) or emergency.")
    ] = ExceptionType.BLOCKED,
    reason: Annotated[str | None, typer.Option(help="A note for people, e.g. 'holiday'.")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Close a facility (or one doctor there) on some days, whole days or a window each day.

    Prints the new exception's id, how many open slots the next `slotgen generate` will
    remove because of it, and the reserved and booked slots inside it: those are never
    removed, so call those patients.
    """
    from slotgen.core.dates import load_zone, local_text
    from slotgen.services.exceptions import AddExceptionRequest, add_exception, describe

    request = AddExceptionRequest(
        facility, on_date, doctor, until, from_time, to_time, exception_type, reason
    )
    with database(database_url) as opened:
        added = add_exception(opened, request, datetime.now(UTC))
    if as_json:
        print_json(added.json())
        return
    exc = added.listing.exception
    line(f"Added exception {exc.id}: {describe(added.listing)}.")
    line(
        f"The next `slotgen generate` will remove {added.open_slots_to_remove:,} open "
        "slot(s) inside it."
    )
    if not added.taken:
        return
    line(
        f"{len(added.taken):,} reserved or booked slot(s) fall inside it and are kept; "
        "call these patients:"
    )
    taken = table()
    for column in ("slot", "doctor", "starts", "status"):
        taken.add_column(column, overflow="fold")
    zone = load_zone(exc.timezone)
    for slot in added.taken[:SHOWN_TAKEN]:
        taken.add_row(
            str(slot.id),
            f"{slot.doctor} ({slot.doctor_id})",
            local_text(slot.start_at, zone),
            slot.status,
        )
    stdout().print(taken)
    if len(added.taken) > SHOWN_TAKEN:
        line(f"… and {len(added.taken) - SHOWN_TAKEN:,} more (see --json)")


@app.command("list")
def list_command(
    facility: FacilityFilter = None,
    doctor: Annotated[
        list[int] | None,
        typer.Option(
            "--doctor",
            metavar="ID",
            help="Only exceptions naming this doctor (repeatable); facility-wide ones have "
            "no doctor.",
        ),
    ] = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the exceptions, by first date: who, which days, which hours, and why."""
    from slotgen.services.exceptions import (
        ExceptionsRequest,
        dates,
        hours,
        list_exceptions,
        who,
    )

    request = ExceptionsRequest(ids(facility), ids(doctor))
    with database(database_url) as opened:
        result = list_exceptions(opened, request, datetime.now(UTC))
    if as_json:
        print_json(result.json())
        return
    if not result.listings:
        message("No exceptions match.")
        return
    listed = table("Availability exceptions")
    for column in (
        "id",
        "facility",
        "doctor",
        "dates",
        "hours",
        "zone",
        "type",
        "reason",
        "source",
    ):
        listed.add_column(column, overflow="fold")
    for listing in result.listings:
        exc = listing.exception
        listed.add_row(
            str(exc.id),
            f"{listing.facility} ({exc.facility_id})",
            who(listing),
            dates(exc),
            hours(exc),
            exc.timezone,
            exc.type,
            exc.reason or "",
            listing.source or "",
        )
    stdout().print(listed)


@app.command("remove")
def remove_command(
    exception_id: Annotated[
        int, typer.Argument(metavar="ID", help="The exception's id, from `exceptions list`.")
    ],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Delete an exception; the next `slotgen generate` offers its slots again.

    Removing a synced public holiday opens the facility that day for good: `holidays sync`
    remembers it and does not close the day again (`holidays restore` undoes it).
    """
    from slotgen.services.exceptions import remove_exception

    with database(database_url) as opened:
        removed = remove_exception(opened, exception_id, datetime.now(UTC))
    line(
        f"Removed exception {exception_id}. The next `slotgen generate` recreates the slots "
        "it closed."
    )
    if removed.opening is not None:
        opening = removed.opening
        line(
            f"It was the public holiday {opening.name or ''} ({opening.source}): facility "
            f"{opening.facility_id} now opens on {opening.holiday_date}, and "
            "`slotgen holidays sync` leaves that day open. To close it again: "
            f"`slotgen holidays restore {opening.id}`."
        )
