"""Reading what generate needs and writing its plan, one chunk of doctors at a time."""

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)

from slotgen.core.model import AvailabilityException, ExistingSlot, PlannedSlot, Rule
from slotgen.db.bulk import instant_column, instant_param, instant_reader
from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    availability_slots,
    facilities,
)
from slotgen.vocabulary import SlotStatus

ID_BATCH = 1000
"""Ids per IN (...) list: well under every backend's parameter limit."""


def doctors_in_scope(
    connection: Connection, facility_ids: Collection[int], doctor_ids: Collection[int]
) -> list[int]:
    """Doctors with a rule at an in-scope facility: the ones a run has to plan."""
    query = select(availability_rules.c.doctor_id).distinct()
    if facility_ids:
        query = query.where(availability_rules.c.facility_id.in_(facility_ids))
    if doctor_ids:
        query = query.where(availability_rules.c.doctor_id.in_(doctor_ids))
    return sorted(connection.scalars(query))


_RULE = availability_rules.c
RULE_COLUMNS = (
    _RULE.id,
    _RULE.facility_id,
    _RULE.doctor_id,
    _RULE.service_id,
    _RULE.day_of_week,
    _RULE.start_time,
    _RULE.end_time,
    _RULE.slot_duration_minutes,
    _RULE.buffer_minutes,
    _RULE.valid_from,
    _RULE.valid_until,
    _RULE.is_active,
    facilities.c.timezone,
    _RULE.recurrence,
)
"""The columns of a core Rule, in its field order (join facilities for the zone)."""


def rules_of(connection: Connection, doctor_ids: Collection[int]) -> list[Rule]:
    """Every rule of these doctors, at any facility, active or not, in id order."""
    query = (
        select(*RULE_COLUMNS)
        .join(facilities, facilities.c.id == _RULE.facility_id)
        .where(_RULE.doctor_id.in_(doctor_ids))
        .order_by(_RULE.id)
    )
    return [Rule._make(row) for row in connection.execute(query)]


_EXCEPTION = availability_exceptions.c
EXCEPTION_COLUMNS = (
    _EXCEPTION.id,
    _EXCEPTION.facility_id,
    _EXCEPTION.doctor_id,
    _EXCEPTION.start_date,
    _EXCEPTION.end_date,
    _EXCEPTION.start_time,
    _EXCEPTION.end_time,
    _EXCEPTION.type,
    _EXCEPTION.reason,
    facilities.c.timezone,
)
"""The columns of a core AvailabilityException, in its field order (join facilities)."""


def exceptions_between(
    connection: Connection, first_day: date, last_day: date
) -> list[AvailabilityException]:
    """Exceptions touching [first_day, last_day], and malformed ones whose dates cannot tell."""
    e = availability_exceptions.c
    query = (
        select(*EXCEPTION_COLUMNS)
        .join(facilities, facilities.c.id == e.facility_id)
        .where(
            e.start_date <= last_day,
            or_(func.coalesce(e.end_date, e.start_date) >= first_day, e.end_date < e.start_date),
        )
        .order_by(e.id)
    )
    return [AvailabilityException._make(row) for row in connection.execute(query)]


def existing_slots(
    connection: Connection, doctor_ids: Collection[int], since: datetime, until: datetime
) -> list[ExistingSlot]:
    """The doctors' slots starting in [since, until), read through the driver for speed."""
    read = instant_reader(connection)
    start_at, end_at = (instant_column(connection, name) for name in ("start_at", "end_at"))
    columns = f"id, doctor_id, {start_at}, {end_at}, facility_id, service_id, rule_id, status"
    result = slots_between(connection, columns, doctor_ids, since, until)
    return [
        ExistingSlot(row[0], row[1], read(row[2]), read(row[3]), row[4], row[5], row[6], row[7])
        for row in result.all()
    ]


def slots_between(
    connection: Connection,
    columns: str,
    doctor_ids: Collection[int],
    since: datetime,
    until: datetime,
    *,
    rest: str = "",
) -> CursorResult[*tuple[Any, ...]]:
    """SELECT `columns` of the doctors' slots starting in [since, until), then `rest`: a
    range of the unique key's index per doctor, with raw driver parameters."""
    query = text(
        f"SELECT {columns} FROM availability_slots"
        f" WHERE doctor_id IN :doctor_ids AND start_at >= :since AND start_at < :until{rest}"
    ).bindparams(bindparam("doctor_ids", expanding=True))
    return connection.execute(
        query,
        {
            "doctor_ids": list(doctor_ids),
            "since": instant_param(connection, since),
            "until": instant_param(connection, until),
        },
    )


def update_open_slots(
    connection: Connection, updates: Sequence[tuple[int, PlannedSlot]], now: datetime
) -> int:
    """Rewrite open slots to what the rules say; a slot taken meanwhile is left alone."""
    if not updates:
        return 0
    s = availability_slots.c
    statement = (
        update(availability_slots)
        .where(s.id == bindparam("slot_id"), s.status == SlotStatus.OPEN)
        .values(
            facility_id=bindparam("new_facility_id"),
            service_id=bindparam("new_service_id"),
            rule_id=bindparam("new_rule_id"),
            end_at=bindparam("new_end_at"),
            updated_at=now,
        )
    )
    rows = [
        {
            "slot_id": slot_id,
            "new_facility_id": slot.facility_id,
            "new_service_id": slot.service_id,
            "new_rule_id": slot.rule_id,
            "new_end_at": slot.end_at,
        }
        for slot_id, slot in updates
    ]
    if connection.dialect.supports_sane_multi_rowcount:
        return connection.execute(statement, rows).rowcount
    return sum(connection.execute(statement, row).rowcount for row in rows)


def delete_open_slots(connection: Connection, slot_ids: Sequence[int]) -> int:
    """Delete these slots if they are still open; a slot taken meanwhile is left alone."""
    s = availability_slots.c
    deleted = 0
    for batch in _batches(slot_ids, ID_BATCH):
        deleted += connection.execute(
            delete(availability_slots).where(and_(s.id.in_(batch), s.status == SlotStatus.OPEN))
        ).rowcount
    return deleted


def clear_overlaps_of_taken(
    connection: Connection,
    slot_ids: Sequence[int],
    facility_ids: Collection[int],
    now: datetime,
) -> int:
    """Delete the open slots that overlap whichever of `slot_ids` are now taken.

    These are slots this chunk meant to update or delete, which the web app took first:
    they keep their old times, so the chunk's new slots next to them may overlap them.
    Only slotgen's own open slots (rule_id set) from `now` on, at the run's facilities,
    are deleted, each still guarded by its status, in (doctor, start) order. On MariaDB
    the taken rows are read with a locking read, which sees the newest committed
    version rather than the transaction's snapshot.
    """
    if not slot_ids:
        return 0
    s = availability_slots.c
    query = (
        select(s.id, s.doctor_id, s.start_at, s.end_at)
        .where(s.id.in_(slot_ids), s.status != SlotStatus.OPEN)
        .order_by(s.doctor_id, s.start_at)
    )
    if connection.dialect.name == "mysql":
        query = query.with_for_update(read=True)
    deleted = 0
    for taken in connection.execute(query).all():
        deleted += connection.execute(
            delete(availability_slots).where(
                s.doctor_id == taken.doctor_id,
                s.start_at < taken.end_at,
                s.end_at > taken.start_at,
                s.id != taken.id,
                s.status == SlotStatus.OPEN,
                s.rule_id.is_not(None),
                s.start_at >= now,
                s.facility_id.in_(facility_ids),
            )
        ).rowcount
    return deleted


def _batches(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    """itertools.batched, which arrives only in Python 3.12."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
