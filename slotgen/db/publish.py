"""What the FHIR feed reads: facilities with their contact data, schedules, and slots.

Slots come through the driver in `STREAM_ROWS` batches from a server-side cursor
(PostgreSQL, MariaDB) or SQLite's own stepping, so memory does not grow with the feed.
"""

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, select, text, union

from slotgen.db.bulk import instant_param, instant_reader
from slotgen.db.engine import READ_ONLY
from slotgen.db.schema import availability_rules, availability_slots, doctors, facilities, services
from slotgen.vocabulary import SlotStatus

STREAM_ROWS = 5000


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that reads the whole feed from one snapshot of the database and never
    holds up the booking app's writes: REPEATABLE READ on PostgreSQL (MariaDB's InnoDB
    default already is), a deferred transaction in WAL mode on SQLite."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as connection:
        yield connection


class FacilityRow(NamedTuple):
    id: int
    name: str
    timezone: str
    phone: str | None
    website: str | None
    address_line: str | None
    city: str | None
    district: str | None
    state: str | None
    postal_code: str | None
    country: str | None


class ScheduleRow(NamedTuple):
    facility_id: int
    doctor_id: int
    doctor: str


class SlotRow(NamedTuple):
    id: int
    doctor_id: int
    service_id: int | None
    start_at: datetime
    end_at: datetime
    status: str


def feed_facilities(connection: Connection, ids: Collection[int]) -> list[FacilityRow]:
    f = facilities.c
    query = select(
        f.id,
        f.name,
        f.timezone,
        f.phone,
        f.website,
        f.address_line,
        f.city,
        f.district,
        f.state,
        f.postal_code,
        f.country,
    ).order_by(f.id)
    if ids:
        query = query.where(f.id.in_(ids))
    return [FacilityRow(*row) for row in connection.execute(query)]


def feed_schedules(
    connection: Connection, facility_ids: Collection[int], since: datetime
) -> list[ScheduleRow]:
    """Every (facility, doctor) with an active rule or a slot from `since` on: a slot
    added by hand needs its Schedule as much as one a rule made."""
    r, s = availability_rules.c, availability_slots.c
    pairs = union(
        select(r.facility_id, r.doctor_id).where(r.is_active, r.facility_id.in_(facility_ids)),
        select(s.facility_id, s.doctor_id)
        .where(s.facility_id.in_(facility_ids), s.start_at > since)
        .distinct(),
    ).subquery()
    query = (
        select(pairs.c.facility_id, pairs.c.doctor_id, doctors.c.name)
        .join(doctors, doctors.c.id == pairs.c.doctor_id)
        .order_by(pairs.c.facility_id, pairs.c.doctor_id)
    )
    return [ScheduleRow(*row) for row in connection.execute(query)]


def schedule_services(
    connection: Connection, facility_ids: Collection[int]
) -> dict[tuple[int, int], list[tuple[int, str]]]:
    """The services each (facility, doctor) offers by its active rules, by service id."""
    r = availability_rules.c
    query = (
        select(r.facility_id, r.doctor_id, services.c.id, services.c.name)
        .join(services, services.c.id == r.service_id)
        .where(r.is_active, r.facility_id.in_(facility_ids))
        .distinct()
        .order_by(r.facility_id, r.doctor_id, services.c.id)
    )
    found: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for facility_id, doctor_id, service_id, name in connection.execute(query):
        found.setdefault((facility_id, doctor_id), []).append((service_id, name))
    return found


def service_names(connection: Connection) -> dict[int, str]:
    return {row.id: row.name for row in connection.execute(select(services.c.id, services.c.name))}


def feed_slots(
    connection: Connection,
    facility_id: int,
    since: datetime,
    until: datetime,
    *,
    include_taken: bool,
) -> Iterator[list[SlotRow]]:
    """A facility's slots starting after `since` and before `until`, in start order, in
    batches of `STREAM_ROWS`.

    Read through the driver, streamed: the raw rows skip SQLAlchemy's per-value work, and
    each distinct instant is converted once (slots of many doctors share them).
    """
    read = instant_reader(connection)
    sql = (
        "SELECT id, doctor_id, service_id, start_at, end_at, status FROM availability_slots"
        " WHERE facility_id = :facility_id AND start_at > :since AND start_at < :until"
        + ("" if include_taken else " AND status = :open")
        + " ORDER BY start_at, doctor_id"
    )
    params: dict[str, Any] = {
        "facility_id": facility_id,
        "since": instant_param(connection, since),
        "until": instant_param(connection, until),
    }
    if not include_taken:
        params["open"] = SlotStatus.OPEN.value
    result = connection.execute(
        text(sql),
        params,
        execution_options={"stream_results": True, "yield_per": STREAM_ROWS},
    )
    with result:
        for batch in result.partitions(STREAM_ROWS):
            yield [
                SlotRow(number, doctor_id, service_id, read(start_at), read(end_at), status)
                for number, doctor_id, service_id, start_at, end_at, status in batch
            ]
