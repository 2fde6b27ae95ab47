"""Reading slots for people: a capped list with names, and per-local-day counts of all.

A facility's range is given as the UTC instants of its first local midnight and of the
midnight after its last day, so each facility is read in its own calendar.
"""

from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, or_, select, type_coerce
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import NullType

from slotgen.core.dates import MIDNIGHT, local_instant
from slotgen.db.bulk import instant_reader
from slotgen.db.schema import availability_slots, doctors, facilities, services
from slotgen.vocabulary import slot_bucket

STREAM_ROWS = 5000


class ListedSlot(NamedTuple):
    id: int
    facility_id: int
    facility: str
    doctor_id: int
    doctor: str
    service_id: int | None
    service: str | None
    rule_id: int | None
    start_at: datetime
    end_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class FacilityRange:
    """The local dates shown for one facility, and the zone they are read in."""

    facility_id: int
    zone: ZoneInfo
    first_day: date
    last_day: date

    def boundaries(self) -> list[datetime]:
        """Each local midnight from the first day to the one after the last, as UTC.

        Read like the planner reads a day's edges, so a slot falls on the local day
        `generate` made it for, DST nights and days without a midnight included.
        """
        days = (self.last_day - self.first_day).days + 2
        return [
            local_instant(self.first_day + timedelta(days=n), MIDNIGHT, self.zone)
            for n in range(days)
        ]


def _where(
    ranges: Sequence[FacilityRange], doctor_ids: Collection[int], statuses: Collection[str]
) -> ColumnElement[bool]:
    s = availability_slots.c
    spans: dict[tuple[datetime, datetime], list[int]] = {}
    for scope in ranges:
        edges = scope.boundaries()
        spans.setdefault((edges[0], edges[-1]), []).append(scope.facility_id)
    clauses: list[ColumnElement[bool]] = [
        or_(
            *(
                and_(s.facility_id.in_(ids), s.start_at >= lo, s.start_at < hi)
                for (lo, hi), ids in spans.items()
            )
        )
    ]
    if doctor_ids:
        clauses.append(s.doctor_id.in_(doctor_ids))
    if statuses:
        clauses.append(s.status.in_(statuses))
    return and_(*clauses)


def list_slots(
    connection: Connection,
    ranges: Sequence[FacilityRange],
    doctor_ids: Collection[int],
    statuses: Collection[str],
    limit: int,
) -> list[ListedSlot]:
    """The first `limit` slots in time order, with doctor, facility and service names."""
    if not ranges or limit <= 0:
        return []
    s = availability_slots.c
    query = (
        select(
            s.id,
            s.facility_id,
            facilities.c.name.label("facility"),
            s.doctor_id,
            doctors.c.name.label("doctor"),
            s.service_id,
            services.c.name.label("service"),
            s.rule_id,
            s.start_at,
            s.end_at,
            s.status,
        )
        .join(facilities, facilities.c.id == s.facility_id)
        .join(doctors, doctors.c.id == s.doctor_id)
        .outerjoin(services, services.c.id == s.service_id)
        .where(_where(ranges, doctor_ids, statuses))
        .order_by(s.start_at, s.doctor_id, s.id)
        .limit(limit)
    )
    return [ListedSlot(*row) for row in connection.execute(query)]


def day_counts(
    connection: Connection,
    ranges: Sequence[FacilityRange],
    doctor_ids: Collection[int],
    statuses: Collection[str],
) -> Counter[tuple[int, date, str]]:
    """Slots per (facility, local date, status bucket) over every matching row.

    A local day is not a fixed stretch of UTC (23 or 25 hours on DST nights, offsets of
    :30 and :45), so SQL cannot group by it portably; rows are streamed instead, and each
    is placed by bisecting its facility's local midnights. Memory holds the counts only.
    """
    counts: Counter[tuple[int, date, str]] = Counter()
    if not ranges:
        return counts
    s = availability_slots.c
    edges = {scope.facility_id: (scope.first_day, scope.boundaries()) for scope in ranges}
    query = select(s.facility_id, type_coerce(s.start_at, NullType()), s.status).where(
        _where(ranges, doctor_ids, statuses)
    )
    read = instant_reader(connection)
    result = connection.execution_options(yield_per=STREAM_ROWS).execute(query)
    for facility_id, raw_start, status in result:
        first_day, midnights = edges[facility_id]
        index = bisect_right(midnights, read(raw_start)) - 1
        counts[facility_id, first_day + timedelta(days=index), slot_bucket(status)] += 1
    return counts
