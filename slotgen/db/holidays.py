"""Reading and writing what `holidays sync` manages: facilities' calendars, their synced
exceptions, and the holidays a facility opens on anyway."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, delete, insert, select, update

from slotgen.core.holidays import Change, Holiday, SyncedRow
from slotgen.db.schema import availability_exceptions, facilities, holiday_openings
from slotgen.vocabulary import HOLIDAYS_SOURCE, ExceptionType

_E = availability_exceptions.c
_F = facilities.c
_O = holiday_openings.c


@dataclass(frozen=True, slots=True)
class CalendarFacility:
    id: int
    name: str
    timezone: str
    holiday_country: str | None
    holiday_subdivision: str | None


@dataclass(frozen=True, slots=True)
class Opening:
    id: int
    facility_id: int
    facility: str
    holiday_date: date
    name: str | None
    source: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredException:
    id: int
    facility_id: int
    start_date: date
    reason: str | None
    source: str | None


def calendar_facilities(
    connection: Connection, facility_ids: Collection[int] = ()
) -> list[CalendarFacility]:
    """Facilities in id order with their holiday calendar (None: no country set)."""
    query = select(
        _F.id, _F.name, _F.timezone, _F.holiday_country, _F.holiday_subdivision
    ).order_by(_F.id)
    if facility_ids:
        query = query.where(_F.id.in_(facility_ids))
    return [CalendarFacility(*row) for row in connection.execute(query)]


def synced_rows(connection: Connection, facility_id: int) -> list[SyncedRow]:
    """The facility's exceptions that `holidays sync` wrote, whatever their calendar."""
    query = (
        select(
            _E.id,
            _E.start_date,
            _E.end_date,
            (_E.start_time.is_(None) & _E.end_time.is_(None)),
            _E.doctor_id.is_(None),
            _E.type,
            _E.reason,
            _E.source,
        )
        .where(_E.facility_id == facility_id, _E.source.like(f"{HOLIDAYS_SOURCE}:%"))
        .order_by(_E.start_date, _E.id)
    )
    return [
        SyncedRow(row[0], row[1], row[2], bool(row[3]), bool(row[4]), *row[5:])
        for row in connection.execute(query)
    ]


def opened_days(connection: Connection, facility_id: int) -> list[date]:
    query = select(_O.holiday_date).where(_O.facility_id == facility_id)
    return list(connection.scalars(query))


def insert_synced(connection: Connection, facility_id: int, holiday: Holiday, source: str) -> int:
    result = connection.execute(
        insert(availability_exceptions)
        .values(
            facility_id=facility_id,
            start_date=holiday.day,
            type=ExceptionType.BLOCKED,
            reason=holiday.name,
            source=source,
        )
        .returning(_E.id)
    )
    return int(result.scalar_one())


def update_synced(connection: Connection, change: Change, source: str, now: datetime) -> None:
    """Bring one synced row back to its holiday's shape: one whole day, facility-wide."""
    connection.execute(
        update(availability_exceptions)
        .where(_E.id == change.id)
        .values(
            doctor_id=None,
            start_date=change.holiday.day,
            end_date=None,
            start_time=None,
            end_time=None,
            type=ExceptionType.BLOCKED,
            reason=change.holiday.name,
            source=source,
            updated_at=now,
        )
    )


def delete_synced(connection: Connection, exception_ids: Collection[int]) -> None:
    if exception_ids:
        connection.execute(delete(availability_exceptions).where(_E.id.in_(sorted(exception_ids))))


def stored_exception(connection: Connection, exception_id: int) -> StoredException | None:
    query = select(_E.id, _E.facility_id, _E.start_date, _E.reason, _E.source).where(
        _E.id == exception_id
    )
    row = connection.execute(query).one_or_none()
    return None if row is None else StoredException(*row)


def remember_opening(
    connection: Connection, facility_id: int, day: date, name: str | None, source: str | None
) -> int:
    """Record that the facility opens on this holiday (once per day); returns its id."""
    found = connection.scalar(
        select(_O.id).where(_O.facility_id == facility_id, _O.holiday_date == day)
    )
    if found is not None:
        return int(found)
    result = connection.execute(
        insert(holiday_openings)
        .values(facility_id=facility_id, holiday_date=day, name=name, source=source)
        .returning(_O.id)
    )
    return int(result.scalar_one())


def list_openings(
    connection: Connection, facility_ids: Collection[int] = (), opening_ids: Collection[int] = ()
) -> list[Opening]:
    query = (
        select(_O.id, _O.facility_id, _F.name, _O.holiday_date, _O.name, _O.source, _O.created_at)
        .join(facilities, _F.id == _O.facility_id)
        .order_by(_O.holiday_date, _O.facility_id)
    )
    if facility_ids:
        query = query.where(_O.facility_id.in_(facility_ids))
    if opening_ids:
        query = query.where(_O.id.in_(opening_ids))
    return [Opening(*row) for row in connection.execute(query)]


def forget_opening(connection: Connection, opening_id: int) -> bool:
    result = connection.execute(delete(holiday_openings).where(_O.id == opening_id))
    return bool(result.rowcount)
