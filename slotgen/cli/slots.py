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
from slotgen.cli.output import line, message, print_json_streaming, stdout, table
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
    with database(database_url) as opened, view_slots(opened, request, datetime.now(UTC)) as result:
        for warning in result.warnings:
            message(f"Warning: {warning}")
        if as_json:
            print_json_streaming(
                "slots", (result.slot_json(slot) for slot in result.slots), result.summary_json
            )
            return
        listed = _print_slots(result)
        total = result.total
    if not total:
        message("No slots match.")
        return
    _print_days(result)
    if listed < total:
        message(f"Listed {listed:,} of {total:,} slots; raise --limit or narrow the range.")


def _print_slots(result: "SlotsResult") -> int:
    """The list, a line per slot as it is read: the first lines show at once, and a list of
    any length is never held whole to size a table's columns. Returns how many it listed."""
    doctor_width, facility_width, service_width = result.name_widths
    id_width = 8
    columns = [
        ("id", id_width),
        ("starts", len("2027-03-01 09:00 +05:45")),
        ("ends", len("09:30 +05:45")),
        ("doctor", doctor_width + id_width + 3),
        ("facility", facility_width + id_width + 3),
        ("service", max(service_width, len("any"))),
        ("status", 0),
    ]
    widths = [width for _, width in columns]
    listed = 0
    for slot in result.slots:
        if not listed:
            line("Slots (local time)")
            line("  ".join(name.ljust(width) for name, width in columns).rstrip())
            line("  ".join("─" * max(width, len(name)) for name, width in columns))
        shown = result.slot_json(slot)
        cells = (
            str(slot.id),
            shown["start_local"],
            shown["end_local"][11:],
            f"{slot.doctor} ({slot.doctor_id})",
            f"{slot.facility} ({slot.facility_id})",
            slot.service or "any",
            slot.status,
        )
        line("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))
        listed += 1
    if listed:
        line("")
    return listed


def _print_days(result: "SlotsResult") -> None:
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
    stdout().print(per_day)
