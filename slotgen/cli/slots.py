"""`slotgen slots`: the bookable slots as the clinic sees them, in each facility's time."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from slotgen.cli.options import (
    DatabaseUrlOption,
    DoctorFilter,
    FacilityFilter,
    JsonOption,
    database,
    ids,
)
from slotgen.cli.output import message, print_json, stdout, table
from slotgen.vocabulary import OTHER, SLOT_BUCKETS, SlotStatus

if TYPE_CHECKING:
    from slotgen.services.slots import SlotsResult


def slots_command(
    facility: FacilityFilter = None,
    doctor: DoctorFilter = None,
    on_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="DATE",
            help="One day, in each facility's own zone: YYYY-MM-DD, today, tomorrow, +7d.",
        ),
    ] = None,
    from_date: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="First day (inclusive). Default: today."),
    ] = None,
    to_date: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="DATE", help="Last day (inclusive). Default: the first day + 6."
        ),
    ] = None,
    status: Annotated[
        SlotStatus | None, typer.Option(help="Only slots in this status. Default: all.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=0, help="List at most this many slots; the day counts cover all.")
    ] = 200,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show slots in each facility's local time (with its UTC offset), and per local day
    how many are open, reserved and booked.

    Dates are calendar dates in each facility's own zone, inclusive; a range may span at
    most 366 days. The list is capped by --limit; the day counts always cover every slot.
    """
    from slotgen.services.slots import SlotsRequest, view_slots

    request = SlotsRequest(ids(facility), ids(doctor), on_date, from_date, to_date, status, limit)
    with database(database_url) as opened:
        result = view_slots(opened, request, datetime.now(UTC))
    for warning in result.warnings:
        message(f"Warning: {warning}")
    if as_json:
        print_json(result.json())
        return
    if not result.total:
        message("No slots match.")
        return
    _print_tables(result)
    if len(result.slots) < result.total:
        message(
            f"Listed {len(result.slots):,} of {result.total:,} slots; raise --limit or narrow "
            "the range."
        )


def _print_tables(result: "SlotsResult") -> None:
    if result.slots:
        listed = table("Slots (local time)")
        for column in ("id", "starts", "ends", "doctor", "facility", "service", "status"):
            listed.add_column(column, overflow="fold", no_wrap=column in {"starts", "ends"})
        for slot in result.slots:
            shown = result.slot_json(slot)
            listed.add_row(
                str(slot.id),
                shown["start_local"],
                shown["end_local"][11:],
                f"{slot.doctor} ({slot.doctor_id})",
                f"{slot.facility} ({slot.facility_id})",
                slot.service or "any",
                slot.status,
            )
        stdout.print(listed)
    buckets = [b for b in SLOT_BUCKETS if b != OTHER or any(d.counts[OTHER] for d in result.days)]
    per_day = table("Per local day")
    for column in ("date", "facility", *buckets, "total"):
        per_day.add_column(column, justify="left" if column in {"date", "facility"} else "right")
    for day in result.days:
        per_day.add_row(
            day.day.isoformat(),
            f"{day.facility} ({day.facility_id})",
            *(f"{day.counts[bucket]:,}" for bucket in buckets),
            f"{day.total:,}",
        )
    stdout.print(per_day)
