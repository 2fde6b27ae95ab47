"""`slotgen exceptions`: close a facility or a doctor for days or hours without writing SQL,
and see at once what that does to the slots already offered."""

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from sqlalchemy import Connection

from slotgen.cli.common import (
    DatabaseUrlOption,
    FacilityFilter,
    JsonOption,
    open_database,
    print_json,
    stderr,
    stdout,
)
from slotgen.cli.rules import require_known
from slotgen.cli.slots import local_text
from slotgen.core.blocking import Closures
from slotgen.core.dates import MIDNIGHT, UnknownZoneError, load_zone, parse_date_spec
from slotgen.core.model import OPEN, AvailabilityException, FacilityWindow
from slotgen.core.rule_check import clock, describe_window
from slotgen.core.validate import exception_problem
from slotgen.db import schedule
from slotgen.errors import BadInput

SHOWN_TAKEN = 100

app = typer.Typer(
    help="Close a facility or a doctor for whole days or hours (holidays, time off).",
    no_args_is_help=True,
)


class ExceptionType(StrEnum):
    BLOCKED = "blocked"
    EMERGENCY = "emergency"


def _clock(text: str, option: str) -> time:
    """HH:MM; 24:00 is accepted for the end of the day and stored as 00:00."""
    if text.strip() == "24:00":
        return MIDNIGHT
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise BadInput(f"{option}: bad time {text!r}: use HH:MM, e.g. 13:30") from None


def _times(start: str | None, end: str | None) -> tuple[time | None, time | None]:
    if (start is None) != (end is None):
        raise BadInput("give both --from and --to, or neither for whole days")
    if start is None or end is None:
        return None, None
    opens, closes = _clock(start, "--from"), _clock(end, "--to")
    if closes <= opens and closes != MIDNIGHT:
        raise BadInput(
            f"--to {clock(closes)} is not after --from {clock(opens)} (24:00 is the end of the day)"
        )
    return opens, closes


def _day(text: str, option: str, today: date) -> date:
    """A date as `generate` reads one, with "today" in the facility's zone."""
    try:
        return parse_date_spec(text).resolve(today)
    except ValueError as exc:
        raise BadInput(f"{option}: {exc}") from None


@app.command("add")
def add_command(
    facility: Annotated[int, typer.Option("--facility", help="The facility it applies to.")],
    on_date: Annotated[
        str,
        typer.Option(
            "--date",
            help="First day, in the facility's zone: YYYY-MM-DD, today, tomorrow, +7d.",
        ),
    ],
    doctor: Annotated[
        int | None,
        typer.Option("--doctor", help="Only this doctor. Default: everyone at the facility."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day (inclusive). Default: --date.")
    ] = None,
    from_time: Annotated[
        str | None,
        typer.Option("--from", help="Start of the closed window each day, HH:MM local time."),
    ] = None,
    to_time: Annotated[
        str | None,
        typer.Option("--to", help="End of the window, HH:MM; 24:00 = end of the day."),
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
    opens, closes = _times(from_time, to_time)
    now = datetime.now(UTC)
    with open_database(database_url) as database, database.engine.begin() as connection:
        zone_name = schedule.facility_zone(connection, facility)
        if zone_name is None:
            raise BadInput(f"unknown facility id {facility}")
        require_known(connection, [], [] if doctor is None else [doctor])
        try:
            zone = load_zone(zone_name)
        except UnknownZoneError as exc:
            raise BadInput(
                f"facility {facility} has an {exc}; fix facilities.timezone first"
            ) from None
        today = now.astimezone(zone).date()
        first = _day(on_date, "--date", today)
        last = _day(until, "--until", today) if until is not None else None
        if last is not None and last < first:
            raise BadInput(f"--until {last} is before --date {first}")
        draft = AvailabilityException(
            0, facility, doctor, first, last, opens, closes, exception_type.value, reason, zone_name
        )
        if problem := exception_problem(draft):
            raise BadInput(problem)
        new_id = schedule.add_exception(
            connection,
            facility_id=facility,
            doctor_id=doctor,
            start_date=first,
            end_date=last,
            start_time=opens,
            end_time=closes,
            type=exception_type.value,
            reason=reason,
        )
        added = draft._replace(id=new_id)
        to_remove, taken = _touched(connection, added, now)
        (listing,) = schedule.list_exceptions(connection, exception_ids=[new_id])
    if as_json:
        print_json(
            {
                "exception": _exception_json(listing),
                "open_slots_to_remove": to_remove,
                "taken_slots": [_taken_json(slot, zone_name) for slot in taken],
            }
        )
        return
    stdout.print(f"Added exception {new_id}: {_describe(listing)}.", markup=False)
    stdout.print(
        f"The next `slotgen generate` will remove {to_remove:,} open slot(s) inside it.",
        markup=False,
    )
    if taken:
        stdout.print(
            f"{len(taken):,} reserved or booked slot(s) fall inside it and are kept; "
            "call these patients:",
            markup=False,
        )
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("slot", "doctor", "starts", "status"):
            table.add_column(column, overflow="fold")
        for slot in taken[:SHOWN_TAKEN]:
            table.add_row(
                str(slot.id),
                f"{slot.doctor} ({slot.doctor_id})",
                local_text(slot.start_at, zone),
                slot.status,
            )
        stdout.print(table)
        if len(taken) > SHOWN_TAKEN:
            stdout.print(f"… and {len(taken) - SHOWN_TAKEN:,} more (see --json)", markup=False)


def _touched(
    connection: Connection, exc: AvailabilityException, now: datetime
) -> tuple[int, list[schedule.TouchedSlot]]:
    """Open slots generate will remove, and taken slots it will report, under `exc`.

    The closed intervals come from the planner's own `Closures`, so the preview reads
    whole days, DST nights and 24:00 exactly as `generate` will. Only slots generate
    owns (rule_id set) and that start from now on are removed; taken slots are listed
    whoever made them.
    """
    window = FacilityWindow(exc.timezone, exc.start_date, exc.end_date or exc.start_date, True)
    closures = Closures([exc], {exc.facility_id: window})
    indexes = closures.for_doctor(exc.facility_id, -1 if exc.doctor_id is None else exc.doctor_id)
    if not indexes or not len(indexes[0]):
        return 0, []
    index = indexes[0]
    to_remove, taken = 0, []
    slots = schedule.future_slots_between(
        connection,
        exc.facility_id,
        exc.doctor_id,
        since=index.starts[0],
        until=max(index.ends),
        now=now,
    )
    for slot in slots:
        if not index.overlapping(slot.start_at, slot.end_at):
            continue
        if slot.status != OPEN:
            taken.append(slot)
        elif slot.rule_id is not None:
            to_remove += 1
    return to_remove, taken


def _taken_json(slot: schedule.TouchedSlot, zone_name: str) -> dict[str, Any]:
    return {
        "id": slot.id,
        "doctor_id": slot.doctor_id,
        "doctor": slot.doctor,
        "start_at": slot.start_at.astimezone(UTC).isoformat(),
        "start_local": local_text(slot.start_at, load_zone(zone_name)),
        "status": slot.status,
    }


def _dates(exc: AvailabilityException) -> str:
    if exc.end_date is None or exc.end_date == exc.start_date:
        return exc.start_date.isoformat()
    return f"{exc.start_date} to {exc.end_date}"


def _hours(exc: AvailabilityException) -> str:
    if exc.start_time is None or exc.end_time is None:
        return "whole day"
    return describe_window(exc.start_time, exc.end_time)


def _who(listing: schedule.ExceptionListing) -> str:
    exc = listing.exception
    if exc.doctor_id is None:
        return "all doctors"
    return f"{listing.doctor} ({exc.doctor_id})"


def _describe(listing: schedule.ExceptionListing) -> str:
    exc = listing.exception
    return (
        f"{_who(listing)} at {listing.facility} ({exc.facility_id}), {_dates(exc)}, "
        f"{_hours(exc)} {exc.timezone} ({exc.type})"
    )


def _exception_json(listing: schedule.ExceptionListing) -> dict[str, Any]:
    exc = listing.exception
    return {
        "id": exc.id,
        "facility_id": exc.facility_id,
        "facility": listing.facility,
        "doctor_id": exc.doctor_id,
        "doctor": listing.doctor,
        "timezone": exc.timezone,
        "start_date": exc.start_date.isoformat(),
        "end_date": None if exc.end_date is None else exc.end_date.isoformat(),
        "start_time": None if exc.start_time is None else clock(exc.start_time),
        "end_time": None if exc.end_time is None else clock(exc.end_time),
        "type": exc.type,
        "reason": exc.reason,
    }


@app.command("list")
def list_command(
    facility: FacilityFilter = None,
    doctor: Annotated[
        list[int] | None,
        typer.Option(
            "--doctor",
            help="Only exceptions naming this doctor (repeatable); facility-wide ones have "
            "no doctor.",
        ),
    ] = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the exceptions, by first date: who, which days, which hours, and why."""
    facility_ids, doctor_ids = list(facility or ()), list(doctor or ())
    with open_database(database_url) as database, database.engine.connect() as connection:
        require_known(connection, facility_ids, doctor_ids)
        listings = schedule.list_exceptions(connection, facility_ids, doctor_ids)
    if as_json:
        print_json({"exceptions": [_exception_json(listing) for listing in listings]})
        return
    if not listings:
        stderr.print("No exceptions match.")
        return
    table = Table(
        title="Availability exceptions", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for column in ("id", "facility", "doctor", "dates", "hours", "zone", "type", "reason"):
        table.add_column(column, overflow="fold")
    for listing in listings:
        exc = listing.exception
        table.add_row(
            str(exc.id),
            f"{listing.facility} ({exc.facility_id})",
            _who(listing),
            _dates(exc),
            _hours(exc),
            exc.timezone,
            exc.type,
            exc.reason or "",
        )
    stdout.print(table)


@app.command("remove")
def remove_command(
    exception_id: Annotated[
        int, typer.Argument(metavar="ID", help="The exception's id, from `exceptions list`.")
    ],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Delete an exception; the next `slotgen generate` offers its slots again."""
    with open_database(database_url) as database, database.engine.begin() as connection:
        if not schedule.remove_exception(connection, exception_id):
            raise BadInput(
                f"no exception with id {exception_id}; `slotgen exceptions list` shows them"
            )
    stdout.print(
        f"Removed exception {exception_id}. The next `slotgen generate` recreates the slots "
        "it closed.",
        markup=False,
    )
