"""`slots`: the bookable slots as the clinic sees them, in each facility's local time."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from slotgen.core.dates import (
    UnknownZoneError,
    facility_window,
    load_zone,
    local_text,
    parse_date_spec,
)
from slotgen.db import lookup
from slotgen.db import slot_view as store
from slotgen.db.database import Database
from slotgen.db.slot_view import FacilityRange, ListedSlot
from slotgen.errors import BadInput
from slotgen.services.common import require_known
from slotgen.vocabulary import SLOT_BUCKETS, SlotStatus

DEFAULT_DAYS = 6
"""today .. today + 6: one week."""
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class SlotsRequest:
    facility_ids: tuple[int, ...] = ()
    doctor_ids: tuple[int, ...] = ()
    on_date: str | None = None
    from_date: str | None = None
    to_date: str | None = None
    status: SlotStatus | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if self.on_date is not None and (self.from_date is not None or self.to_date is not None):
            raise BadInput("give --date, or --from and --to, not both")
        if self.limit < 0:
            raise BadInput(f"--limit must not be negative, got {self.limit}")
        for text in (self.on_date, self.from_date, self.to_date):
            if text is not None:
                _spec(text)


def _spec(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return parse_date_spec(text)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


@dataclass(frozen=True)
class DayCount:
    day: date
    facility_id: int
    facility: str
    timezone: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "facility_id": self.facility_id,
            "facility": self.facility,
            "timezone": self.timezone,
            **self.counts,
            "total": self.total,
        }


@dataclass(frozen=True)
class SlotsResult:
    """The slots as a stream, then the day counts, read when first asked for.

    Both read from an open connection: use them inside `view_slots`'s block. The list
    comes first so its first rows show at once; the counts of a long range take longer.
    """

    slots: Iterator[ListedSlot]
    ranges: list[FacilityRange]
    limit: int
    warnings: list[str]
    name_widths: tuple[int, int, int]
    """The longest doctor, facility and service name, to align a streamed list."""
    count_days: Callable[[], list[DayCount]]

    @cached_property
    def days(self) -> list[DayCount]:
        return self.count_days()

    @property
    def total(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def listed(self) -> int:
        """How many slots `slots` yields: the limit, or every match if there are fewer."""
        return min(self.limit, self.total)

    def zone_of(self, facility_id: int) -> ZoneInfo:
        return next(scope.zone for scope in self.ranges if scope.facility_id == facility_id)

    def slot_json(self, slot: ListedSlot) -> dict[str, Any]:
        zone = self.zone_of(slot.facility_id)
        return {
            "id": slot.id,
            "facility_id": slot.facility_id,
            "facility": slot.facility,
            "doctor_id": slot.doctor_id,
            "doctor": slot.doctor,
            "service_id": slot.service_id,
            "service": slot.service,
            "rule_id": slot.rule_id,
            "status": slot.status,
            "start_at": slot.start_at.astimezone(UTC).isoformat(),
            "end_at": slot.end_at.astimezone(UTC).isoformat(),
            "start_local": local_text(slot.start_at, zone),
            "end_local": local_text(slot.end_at, zone),
            "timezone": zone.key,
        }

    def summary_json(self) -> dict[str, Any]:
        """Everything but the slots, which a caller streams before it."""
        return {
            "days": [day.json() for day in self.days],
            "total": self.total,
            "limit": self.limit,
            "ranges": [
                {
                    "facility_id": scope.facility_id,
                    "timezone": scope.zone.key,
                    "first_day": scope.first_day.isoformat(),
                    "last_day": scope.last_day.isoformat(),
                }
                for scope in self.ranges
            ],
        }


def _zone_or_utc(name: str, facility_id: int, warnings: list[str]) -> ZoneInfo:
    """A facility's zone; a bad one is read as UTC, with a warning, so one bad row does not
    hide every other facility's slots."""
    try:
        return load_zone(name)
    except UnknownZoneError as exc:
        warnings.append(f"facility {facility_id} has an {exc}; its times are shown in UTC.")
        return ZoneInfo("UTC")


@contextmanager
def view_slots(database: Database, request: SlotsRequest, now: datetime) -> Iterator[SlotsResult]:
    """The first `limit` slots in time order, then per local day counts of every match.

    The slots stream from an index that stops at the limit, so the first rows show at once
    and a long list never sits in memory; the counts, a grouped query over the whole range,
    are read from the same connection when asked for.
    """
    first_text = request.on_date if request.on_date is not None else request.from_date
    last_text = request.on_date if request.on_date is not None else request.to_date
    first, last = _spec(first_text), _spec(last_text)
    statuses = [request.status] if request.status is not None else []
    with database.engine.connect() as connection:
        require_known(connection, request.facility_ids, request.doctor_ids)
        known = lookup.all_facilities(connection)
        ranges: list[FacilityRange] = []
        warnings: list[str] = []
        for facility_id in sorted(request.facility_ids or known):
            zone = _zone_or_utc(known[facility_id].timezone, facility_id, warnings)
            try:
                window = facility_window(
                    zone.key, now, first, last, None if last else DEFAULT_DAYS, True
                )
            except ValueError as exc:
                raise BadInput(str(exc)) from None
            ranges.append(FacilityRange(facility_id, zone, window.first_day, window.last_day))
        zone_of = {scope.facility_id: scope.zone.key for scope in ranges}

        def count_days() -> list[DayCount]:
            counts = store.day_counts(connection, ranges, request.doctor_ids, statuses)
            return [
                DayCount(
                    day,
                    facility_id,
                    known[facility_id].name,
                    zone_of[facility_id],
                    {bucket: counts[facility_id, day, bucket] for bucket in SLOT_BUCKETS},
                )
                for day, facility_id in sorted({(day, fid) for fid, day, _ in counts})
            ]

        slots = store.iter_slots(connection, ranges, request.doctor_ids, statuses, request.limit)
        yield SlotsResult(
            slots,
            ranges,
            request.limit,
            warnings,
            store.longest_names(connection),
            count_days,
        )
