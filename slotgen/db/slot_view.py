"""Reading slots for people: a capped list with names, and per-local-day counts of all.

A facility's range is given as the UTC instants of its first local midnight and of the
midnight after its last day, so each facility is read in its own calendar.
"""

from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from heapq import merge
from itertools import islice
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Select,
    and_,
    func,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import NullType

from slotgen.core.dates import MIDNIGHT, local_instant
from slotgen.db.bulk import instant_reader
from slotgen.db.schema import availability_slots, doctors, facilities, services
from slotgen.vocabulary import slot_bucket

STREAM_ROWS = 5000
SQLITE_COMPOUND_TERMS = 250
"""Facility lists per UNION ALL on SQLite, whose compound SELECT stops at 500 terms."""


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


def _spans(ranges: Sequence[FacilityRange]) -> dict[tuple[datetime, datetime], list[int]]:
    """The facilities that share one UTC window (the same zone, the same days), by window."""
    spans: dict[tuple[datetime, datetime], list[int]] = {}
    for scope in ranges:
        edges = scope.boundaries()
        spans.setdefault((edges[0], edges[-1]), []).append(scope.facility_id)
    return spans


def _where(
    facility_ids: Collection[int],
    window: tuple[datetime, datetime],
    doctor_ids: Collection[int],
    statuses: Collection[str],
) -> ColumnElement[bool]:
    """One window of facilities: a single range of the `(facility_id, start_at, status)`
    index per facility, which an OR of windows would turn into a sort of every match."""
    s = availability_slots.c
    clauses = [s.facility_id.in_(facility_ids), s.start_at >= window[0], s.start_at < window[1]]
    if doctor_ids:
        clauses.append(s.doctor_id.in_(doctor_ids))
    if statuses:
        clauses.append(s.status.in_(statuses))
    return and_(*clauses)


def iter_slots(
    connection: Connection,
    ranges: Sequence[FacilityRange],
    doctor_ids: Collection[int],
    statuses: Collection[str],
    limit: int,
) -> Iterator[ListedSlot]:
    """The first `limit` slots in time order, with doctor, facility and service names.

    Every facility's slots come from its `(facility_id, start_at, ...)` index in time
    order; one ordered scan of all facilities' ranges at once would read and sort every
    matching row before the first could be shown. Rows are streamed, so memory does not
    grow with the limit.
    """
    if not ranges or limit <= 0:
        return
    arms = [_where([scope.facility_id], _window(scope), doctor_ids, statuses) for scope in ranges]
    if connection.dialect.name != "sqlite":
        yield from _stream(connection, _cut_then_sorted(arms, limit))
        return
    streams = [
        _stream(connection, _merged(arms[first : first + SQLITE_COMPOUND_TERMS], limit))
        for first in range(0, len(arms), SQLITE_COMPOUND_TERMS)
    ]
    yield from streams[0] if len(streams) == 1 else islice(merge(*streams, key=_order), limit)


def _merged(arms: Sequence[ColumnElement[bool]], limit: int) -> CompoundSelect[Any] | Select[Any]:
    """SQLite merges a UNION ALL whose arms each come in the compound's order, reading
    each facility's index as it goes and stopping at the limit, so the first rows show
    at once whatever the limit."""
    union = union_all(*(_named(arm) for arm in arms)) if len(arms) > 1 else _named(arms[0])
    listed = union.selected_columns
    return union.order_by(listed.start_at, listed.doctor_id, listed.id).limit(limit)


def _cut_then_sorted(arms: Sequence[ColumnElement[bool]], limit: int) -> Select[Any]:
    """PostgreSQL and MariaDB would sort every arm's rows for a union's order: each
    facility's list is cut at the limit from its index first, and only the short lists
    are sorted, then named."""
    s = availability_slots.c
    cut = [
        select(
            s.id,
            s.facility_id,
            s.doctor_id,
            s.service_id,
            s.rule_id,
            s.start_at,
            s.end_at,
            s.status,
        )
        .where(arm)
        .order_by(s.start_at, s.doctor_id, s.id)
        .limit(limit)
        .subquery()
        .select()
        for arm in arms
    ]
    listed = (union_all(*cut) if len(cut) > 1 else cut[0]).subquery()
    return (
        select(
            listed.c.id,
            listed.c.facility_id,
            facilities.c.name.label("facility"),
            listed.c.doctor_id,
            doctors.c.name.label("doctor"),
            listed.c.service_id,
            services.c.name.label("service"),
            listed.c.rule_id,
            listed.c.start_at,
            listed.c.end_at,
            listed.c.status,
        )
        .join(facilities, facilities.c.id == listed.c.facility_id)
        .join(doctors, doctors.c.id == listed.c.doctor_id)
        .outerjoin(services, services.c.id == listed.c.service_id)
        .order_by(listed.c.start_at, listed.c.doctor_id, listed.c.id)
        .limit(limit)
    )


def _named(arm: ColumnElement[bool]) -> Select[Any]:
    """One facility's slots with the names shown beside them; every column is named, as
    SQLite matches a compound's ORDER BY to the names (`id` alone would be ambiguous)."""
    s = availability_slots.c
    return (
        select(
            s.id.label("id"),
            s.facility_id.label("facility_id"),
            facilities.c.name.label("facility"),
            s.doctor_id.label("doctor_id"),
            doctors.c.name.label("doctor"),
            s.service_id.label("service_id"),
            services.c.name.label("service"),
            s.rule_id.label("rule_id"),
            s.start_at.label("start_at"),
            s.end_at.label("end_at"),
            s.status.label("status"),
        )
        .join(facilities, facilities.c.id == s.facility_id)
        .join(doctors, doctors.c.id == s.doctor_id)
        .outerjoin(services, services.c.id == s.service_id)
        .where(arm)
    )


def _stream(
    connection: Connection, query: CompoundSelect[Any] | Select[Any]
) -> Iterator[ListedSlot]:
    result = connection.execute(query.execution_options(yield_per=STREAM_ROWS))
    for row in result:
        yield ListedSlot(*row)


def _order(slot: ListedSlot) -> tuple[datetime, int, int]:
    """The listing's order, for merging streams as the database orders each."""
    return slot.start_at, slot.doctor_id, slot.id


def _window(scope: FacilityRange) -> tuple[datetime, datetime]:
    edges = scope.boundaries()
    return edges[0], edges[-1]


def longest_names(connection: Connection) -> tuple[int, int, int]:
    """The longest doctor, facility and service name: column widths for a streamed list."""
    lengths = [
        connection.scalar(select(func.max(func.length(table.c.name)))) or 0
        for table in (doctors, facilities, services)
    ]
    return lengths[0], lengths[1], lengths[2]


def day_counts(
    connection: Connection,
    ranges: Sequence[FacilityRange],
    doctor_ids: Collection[int],
    statuses: Collection[str],
) -> Counter[tuple[int, date, str]]:
    """Slots per (facility, local date, status bucket) over every matching row.

    A local day is not a fixed stretch of UTC (23 or 25 hours on DST nights, offsets of
    :30 and :45), so SQL cannot group by it portably. It can group by the instant: the
    doctors of a facility share their start times, so a week of a large clinic is a few
    thousand groups, each placed by bisecting its facility's local midnights. A query per
    window of facilities keeps each one an index range that SQL groups as it reads.
    """
    counts: Counter[tuple[int, date, str]] = Counter()
    if not ranges:
        return counts
    s = availability_slots.c
    edges = {scope.facility_id: (scope.first_day, scope.boundaries()) for scope in ranges}
    start = type_coerce(s.start_at, NullType())
    read = instant_reader(connection)
    for window, facility_ids in _spans(ranges).items():
        query = (
            select(s.facility_id, start, s.status, func.count())
            .where(_where(facility_ids, window, doctor_ids, statuses))
            .group_by(s.facility_id, s.start_at, s.status)
        )
        for facility_id, raw_start, status, number in connection.execute(query):
            first_day, midnights = edges[facility_id]
            index = bisect_right(midnights, read(raw_start)) - 1
            counts[facility_id, first_day + timedelta(days=index), slot_bucket(status)] += number
    return counts
