"""Reading rules and exceptions with the names people know them by; adding and removing
exceptions; and the slots an exception's windows touch."""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, delete, insert, select
from sqlalchemy.sql import ColumnElement

from slotgen.core.model import AvailabilityException, Rule
from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    availability_slots,
    doctors,
    facilities,
    services,
)
from slotgen.db.slots import EXCEPTION_COLUMNS, RULE_COLUMNS

AnySelect = TypeVar("AnySelect", bound=Select[Any])

STREAM_ROWS = 2000
"""Rows fetched at a time when a result may be large: memory stays flat."""


@dataclass(frozen=True, slots=True)
class RuleListing:
    rule: Rule
    doctor: str
    facility: str
    service: str | None


@dataclass(frozen=True, slots=True)
class ExceptionListing:
    exception: AvailabilityException
    facility: str
    doctor: str | None
    source: str | None = None
    """Where the row came from: `holidays:DE-BY` for a synced public holiday, None when
    people entered it."""


@dataclass(frozen=True, slots=True)
class TouchedSlot:
    id: int
    doctor_id: int
    doctor: str
    start_at: datetime
    end_at: datetime
    status: str
    rule_id: int | None


def _filtered(
    query: AnySelect,
    facility_column: ColumnElement[int],
    doctor_column: ColumnElement[int | None],
    facility_ids: Collection[int],
    doctor_ids: Collection[int],
) -> AnySelect:
    if facility_ids:
        query = query.where(facility_column.in_(facility_ids))
    if doctor_ids:
        query = query.where(doctor_column.in_(doctor_ids))
    return query


def list_rules(
    connection: Connection,
    facility_ids: Collection[int] = (),
    doctor_ids: Collection[int] = (),
    rule_ids: Collection[int] = (),
) -> list[RuleListing]:
    """Rules in id order, active or not, each with its facility's zone and the names."""
    r = availability_rules.c
    query = (
        select(*RULE_COLUMNS, doctors.c.name, facilities.c.name, services.c.name)
        .join(facilities, facilities.c.id == r.facility_id)
        .join(doctors, doctors.c.id == r.doctor_id)
        .outerjoin(services, services.c.id == r.service_id)
        .order_by(r.id)
    )
    query = _filtered(query, r.facility_id, r.doctor_id, facility_ids, doctor_ids)
    if rule_ids:
        query = query.where(r.id.in_(rule_ids))
    width = len(RULE_COLUMNS)
    return [RuleListing(Rule._make(row[:width]), *row[width:]) for row in connection.execute(query)]


def list_exceptions(
    connection: Connection,
    facility_ids: Collection[int] = (),
    doctor_ids: Collection[int] = (),
    exception_ids: Collection[int] = (),
) -> list[ExceptionListing]:
    """Exceptions by first date; a doctor filter shows only exceptions naming the doctor."""
    e = availability_exceptions.c
    query = (
        select(*EXCEPTION_COLUMNS, facilities.c.name, doctors.c.name, e.source)
        .join(facilities, facilities.c.id == e.facility_id)
        .outerjoin(doctors, doctors.c.id == e.doctor_id)
        .order_by(e.start_date, e.id)
    )
    query = _filtered(query, e.facility_id, e.doctor_id, facility_ids, doctor_ids)
    if exception_ids:
        query = query.where(e.id.in_(exception_ids))
    width = len(EXCEPTION_COLUMNS)
    return [
        ExceptionListing(AvailabilityException._make(row[:width]), *row[width:])
        for row in connection.execute(query)
    ]


def add_exception(connection: Connection, draft: AvailabilityException) -> int:
    """Insert the exception (its id and zone are ignored); returns the new id."""
    result = connection.execute(
        insert(availability_exceptions)
        .values(
            facility_id=draft.facility_id,
            doctor_id=draft.doctor_id,
            start_date=draft.start_date,
            end_date=draft.end_date,
            start_time=draft.start_time,
            end_time=draft.end_time,
            type=draft.type,
            reason=draft.reason,
        )
        .returning(availability_exceptions.c.id)
    )
    return int(result.scalar_one())


def remove_exception(connection: Connection, exception_id: int) -> bool:
    """Delete one exception; False when there was none with that id."""
    result = connection.execute(
        delete(availability_exceptions).where(availability_exceptions.c.id == exception_id)
    )
    return bool(result.rowcount)


def future_slots_between(
    connection: Connection,
    facility_id: int,
    doctor_id: int | None,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
) -> Iterator[TouchedSlot]:
    """Slots at a facility (of one doctor, or all) that start from `now` on and overlap
    [since, until), streamed in start order: a long closure may cover many thousands."""
    s = availability_slots.c
    query = (
        select(s.id, s.doctor_id, doctors.c.name, s.start_at, s.end_at, s.status, s.rule_id)
        .join(doctors, doctors.c.id == s.doctor_id)
        .where(
            s.facility_id == facility_id,
            s.start_at >= now,
            s.start_at < until,
            s.end_at > since,
        )
        .order_by(s.start_at, s.doctor_id)
    )
    if doctor_id is not None:
        query = query.where(s.doctor_id == doctor_id)
    result = connection.execute(query.execution_options(yield_per=STREAM_ROWS))
    for row in result:
        yield TouchedSlot(*row)
