"""`slotgen slots`: the bookable slots as the clinic sees them, in each facility's time."""

from collections import Counter
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.table import Table

from slotgen.cli.common import (
    DatabaseUrlOption,
    DoctorFilter,
    FacilityFilter,
    JsonOption,
    open_database,
    print_json,
    stderr,
    stdout,
)
from slotgen.core.dates import UnknownZoneError, facility_window, load_zone, parse_date_spec
from slotgen.db import slot_view
from slotgen.db.schema import doctors, facilities
from slotgen.db.slots import missing_ids
from slotgen.errors import BadInput

DEFAULT_DAYS = 6
"""today .. today + 6: one week."""
BUCKETS = ("open", "reserved", "booked", "other")


class Status(StrEnum):
    OPEN = "open"
    RESERVED = "reserved"
    BOOKED = "booked"


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """A local wall-clock time with its UTC offset, e.g. `2027-03-28 01:30 +01:00`.

    The offset is what tells the two 02:30s of a fall-back night apart.
    """
    text = moment.astimezone(zone).isoformat(" ", "minutes")
    return f"{text[:16]} {text[16:]}"


def zone_or_utc(name: str, facility_id: int) -> ZoneInfo:
    """A facility's zone; a bad one is read as UTC, with a warning, so one bad row does not
    hide every other facility's slots."""
    try:
        return load_zone(name)
    except UnknownZoneError as exc:
        stderr.print(
            f"Warning: facility {facility_id} has an {exc}; its times are shown in UTC.",
            markup=False,
        )
        return ZoneInfo("UTC")


def slots_command(
    facility: FacilityFilter = None,
    doctor: DoctorFilter = None,
    on_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="One day, in each facility's own zone: YYYY-MM-DD, today, tomorrow, +7d.",
        ),
    ] = None,
    from_date: Annotated[
        str | None, typer.Option("--from", help="First day (inclusive). Default: today.")
    ] = None,
    to_date: Annotated[
        str | None,
        typer.Option("--to", help="Last day (inclusive). Default: the first day + 6."),
    ] = None,
    status: Annotated[
        Status | None, typer.Option(help="Only slots in this status. Default: all.")
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
    if on_date is not None and (from_date is not None or to_date is not None):
        raise BadInput("give --date, or --from and --to, not both")
    first_text = on_date if on_date is not None else from_date
    last_text = on_date if on_date is not None else to_date
    try:
        first = parse_date_spec(first_text) if first_text is not None else None
        last = parse_date_spec(last_text) if last_text is not None else None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    facility_ids, doctor_ids = list(facility or ()), list(doctor or ())
    statuses = [status.value] if status is not None else []
    now = datetime.now(UTC)
    with open_database(database_url) as database, database.engine.connect() as connection:
        for table, ids, noun in (
            (facilities, facility_ids, "facility"),
            (doctors, doctor_ids, "doctor"),
        ):
            if missing := missing_ids(connection, table, ids):
                raise BadInput(f"unknown {noun} id {', '.join(map(str, missing))}")
        known = slot_view.facility_names_and_zones(connection)
        ranges = []
        for facility_id in sorted(facility_ids or known):
            zone = zone_or_utc(known[facility_id][1], facility_id)
            try:
                window = facility_window(
                    zone.key, now, first, last, None if last else DEFAULT_DAYS, True
                )
            except ValueError as exc:
                raise BadInput(str(exc)) from None
            ranges.append(
                slot_view.FacilityRange(facility_id, zone, window.first_day, window.last_day)
            )
        rows = slot_view.list_slots(connection, ranges, doctor_ids, statuses, limit)
        counts = slot_view.day_counts(connection, ranges, doctor_ids, statuses)
    zone_of = {scope.facility_id: scope.zone for scope in ranges}
    total = sum(counts.values())
    listed = [_slot_json(row._mapping, zone_of[row.facility_id]) for row in rows]
    days = _days_json(counts, {key: name for key, (name, _) in known.items()}, ranges)
    if as_json:
        print_json(
            {
                "slots": listed,
                "days": days,
                "total": total,
                "limit": limit,
                "ranges": [
                    {
                        "facility_id": scope.facility_id,
                        "timezone": scope.zone.key,
                        "first_day": scope.first_day.isoformat(),
                        "last_day": scope.last_day.isoformat(),
                    }
                    for scope in ranges
                ],
            }
        )
        return
    if not total:
        stderr.print("No slots match.")
        return
    _print_tables(listed, days)
    if len(listed) < total:
        stderr.print(
            f"Listed {len(listed):,} of {total:,} slots; raise --limit or narrow the range.",
            markup=False,
        )


def _slot_json(row: Any, zone: ZoneInfo) -> dict[str, Any]:
    start, end = row["start_at"], row["end_at"]
    return {
        "id": row["id"],
        "facility_id": row["facility_id"],
        "facility": row["facility"],
        "doctor_id": row["doctor_id"],
        "doctor": row["doctor"],
        "service_id": row["service_id"],
        "service": row["service"],
        "rule_id": row["rule_id"],
        "status": row["status"],
        "start_at": start.astimezone(UTC).isoformat(),
        "end_at": end.astimezone(UTC).isoformat(),
        "start_local": local_text(start, zone),
        "end_local": local_text(end, zone),
        "timezone": zone.key,
    }


def _days_json(
    counts: Counter[tuple[int, date, str]],
    names: dict[int, str],
    ranges: list[slot_view.FacilityRange],
) -> list[dict[str, Any]]:
    """One entry per local day and facility that has a slot, in date order."""
    keys = sorted({(day, facility_id) for facility_id, day, _ in counts})
    zone_of = {scope.facility_id: scope.zone.key for scope in ranges}
    return [
        {
            "date": day.isoformat(),
            "facility_id": facility_id,
            "facility": names[facility_id],
            "timezone": zone_of[facility_id],
            **{bucket: counts[facility_id, day, bucket] for bucket in BUCKETS},
            "total": sum(counts[facility_id, day, bucket] for bucket in BUCKETS),
        }
        for day, facility_id in keys
    ]


def _print_tables(listed: list[dict[str, Any]], days: list[dict[str, Any]]) -> None:
    if listed:
        table = Table(
            title="Slots (local time)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
        )
        for column in ("id", "starts", "ends", "doctor", "facility", "service", "status"):
            table.add_column(column, overflow="fold", no_wrap=column in {"starts", "ends"})
        for slot in listed:
            table.add_row(
                str(slot["id"]),
                slot["start_local"],
                slot["end_local"][11:],
                f"{slot['doctor']} ({slot['doctor_id']})",
                f"{slot['facility']} ({slot['facility_id']})",
                slot["service"] or "any",
                slot["status"],
            )
        stdout.print(table)
    shown = [bucket for bucket in BUCKETS if bucket != "other" or any(d["other"] for d in days)]
    table = Table(title="Per local day", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("date", "facility", *shown, "total"):
        table.add_column(column, justify="left" if column in {"date", "facility"} else "right")
    for day in days:
        table.add_row(
            day["date"],
            f"{day['facility']} ({day['facility_id']})",
            *(f"{day[bucket]:,}" for bucket in shown),
            f"{day['total']:,}",
        )
    stdout.print(table)
