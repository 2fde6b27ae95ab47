"""Builders for the core tests: rows with sensible defaults, so each test shows what matters."""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from itertools import count
from zoneinfo import ZoneInfo

from slotgen.core.model import (
    AvailabilityException,
    ChunkPlan,
    ExistingSlot,
    FacilityWindow,
    PlannedSlot,
    Rule,
)
from slotgen.core.plan import plan_chunk

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
"""A `now` before every test date, for tests where the past does not matter."""


def rule(
    id: int = 1,
    *,
    facility_id: int = 1,
    doctor_id: int = 1,
    service_id: int | None = None,
    day_of_week: int = 1,
    start: time = time(9),
    end: time = time(17),
    duration: int = 30,
    buffer: int = 0,
    valid_from: date | None = None,
    valid_until: date | None = None,
    active: bool = True,
    zone: str = "UTC",
    recurrence: str | None = None,
) -> Rule:
    return Rule(
        id,
        facility_id,
        doctor_id,
        service_id,
        day_of_week,
        start,
        end,
        duration,
        buffer,
        valid_from,
        valid_until,
        active,
        zone,
        recurrence,
    )


def closure(
    id: int = 1,
    *,
    facility_id: int = 1,
    doctor_id: int | None = None,
    start_date: date,
    end_date: date | None = None,
    start: time | None = None,
    end: time | None = None,
    type: str = "blocked",
    zone: str = "UTC",
) -> AvailabilityException:
    return AvailabilityException(
        id, facility_id, doctor_id, start_date, end_date, start, end, type, None, zone
    )


def window(
    zone: str, first: date, last: date | None = None, in_scope: bool = True
) -> FacilityWindow:
    return FacilityWindow(zone, first, last or first, in_scope)


def plan(
    rules: Iterable[Rule],
    exceptions: Iterable[AvailabilityException] = (),
    existing: Iterable[ExistingSlot] = (),
    *,
    windows: Mapping[int, FacilityWindow],
    now: datetime = LONG_AGO,
) -> ChunkPlan:
    return plan_chunk(list(rules), list(exceptions), list(existing), windows, now)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_starts(slots: Iterable[PlannedSlot], zone: str) -> list[str]:
    """Slot starts as the facility's wall clock shows them, with the offset in force."""
    return [f"{s.start_at.astimezone(ZoneInfo(zone)):%H:%M%z}" for s in slots]


def stored(slot: PlannedSlot, id: int, status: str = "open") -> ExistingSlot:
    return ExistingSlot(id, *slot, status)


def apply(plan_: ChunkPlan, existing: Iterable[ExistingSlot]) -> list[ExistingSlot]:
    """The slot table after a writer applies the plan, as the database layer would."""
    rows = {s.id: s for s in existing}
    for slot_id in plan_.deletes:
        del rows[slot_id]
    for slot_id, new in plan_.updates:
        rows[slot_id] = ExistingSlot(slot_id, *new, rows[slot_id].status)
    ids = count(max(rows, default=0) + 1)
    for new in plan_.inserts:
        slot_id = next(ids)
        rows[slot_id] = ExistingSlot(slot_id, *new, "open")
    return sorted(rows.values())
