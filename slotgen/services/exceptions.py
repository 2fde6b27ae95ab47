"""`exceptions add/list/remove`: close a facility or a doctor for days or hours without SQL,
and see at once what that does to the slots already offered."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection

from slotgen.core.blocking import closed_by, exception_effect
from slotgen.core.dates import (
    MIDNIGHT,
    UnknownZoneError,
    load_zone,
    local_text,
    parse_date_spec,
)
from slotgen.core.model import AvailabilityException
from slotgen.core.rule_check import clock, describe_window
from slotgen.core.validate import exception_problem
from slotgen.db import holidays as holiday_store
from slotgen.db import lookup
from slotgen.db import schedule as store
from slotgen.db.database import Database
from slotgen.db.holidays import Opening
from slotgen.db.schedule import ExceptionListing, TouchedSlot
from slotgen.errors import BadInput
from slotgen.services.common import require_known
from slotgen.vocabulary import ExceptionType, is_holiday_source


def parse_clock(text: str, option: str) -> time:
    """HH:MM; 24:00 is accepted for the end of the day and stored as 00:00."""
    if text.strip() == "24:00":
        return MIDNIGHT
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise BadInput(f"{option}: bad time {text!r}: use HH:MM, e.g. 13:30") from None


def describe(listing: ExceptionListing) -> str:
    exc = listing.exception
    return (
        f"{who(listing)} at {listing.facility} ({exc.facility_id}), {dates(exc)}, "
        f"{hours(exc)} {exc.timezone} ({exc.type})"
    )


def dates(exc: AvailabilityException) -> str:
    if exc.end_date is None or exc.end_date == exc.start_date:
        return exc.start_date.isoformat()
    return f"{exc.start_date} to {exc.end_date}"


def hours(exc: AvailabilityException) -> str:
    if exc.start_time is None or exc.end_time is None:
        return "whole day"
    return describe_window(exc.start_time, exc.end_time)


def who(listing: ExceptionListing) -> str:
    exc = listing.exception
    return "all doctors" if exc.doctor_id is None else f"{listing.doctor} ({exc.doctor_id})"


def exception_json(listing: ExceptionListing) -> dict[str, Any]:
    exc = listing.exception
    return {
        "id": exc.id,
        "facility_id": exc.facility_id,
        "facility": listing.facility,
        "doctor_id": exc.doctor_id,
        "doctor": listing.doctor,
        "timezone": exc.timezone,
        "start_date": exc.start_date.isoformat(),
        "end_date": None if exc.end_date is None else exc.end_date.isoformat(),
        "start_time": None if exc.start_time is None else clock(exc.start_time),
        "end_time": None if exc.end_time is None else clock(exc.end_time),
        "type": exc.type,
        "reason": exc.reason,
        "source": listing.source,
    }


def taken_json(slot: TouchedSlot, zone_name: str) -> dict[str, Any]:
    return {
        "id": slot.id,
        "doctor_id": slot.doctor_id,
        "doctor": slot.doctor,
        "start_at": slot.start_at.astimezone(UTC).isoformat(),
        "start_local": local_text(slot.start_at, load_zone(zone_name)),
        "status": slot.status,
    }


@dataclass(frozen=True)
class AddExceptionRequest:
    facility_id: int
    date: str
    doctor_id: int | None = None
    until: str | None = None
    from_time: str | None = None
    to_time: str | None = None
    type: ExceptionType = ExceptionType.BLOCKED
    reason: str | None = None
    window: tuple[time | None, time | None] = field(init=False)

    def __post_init__(self) -> None:
        if (self.from_time is None) != (self.to_time is None):
            raise BadInput("give both --from and --to, or neither for whole days")
        if self.from_time is None or self.to_time is None:
            object.__setattr__(self, "window", (None, None))
            return
        opens, closes = parse_clock(self.from_time, "--from"), parse_clock(self.to_time, "--to")
        if closes <= opens and closes != MIDNIGHT:
            raise BadInput(
                f"--to {clock(closes)} is not after --from {clock(opens)} "
                "(24:00 is the end of the day)"
            )
        object.__setattr__(self, "window", (opens, closes))


@dataclass(frozen=True)
class AddedException:
    listing: ExceptionListing
    open_slots_to_remove: int
    taken: list[TouchedSlot]

    def json(self) -> dict[str, Any]:
        zone = self.listing.exception.timezone
        return {
            "exception": exception_json(self.listing),
            "open_slots_to_remove": self.open_slots_to_remove,
            "taken_slots": [taken_json(slot, zone) for slot in self.taken],
        }


def _day(text: str, option: str, today: date) -> date:
    """A date as `generate` reads one, with "today" in the facility's zone."""
    try:
        return parse_date_spec(text).resolve(today)
    except ValueError as exc:
        raise BadInput(f"{option}: {exc}") from None


def add_exception(
    database: Database, request: AddExceptionRequest, now: datetime
) -> AddedException:
    """Insert the exception and preview it, in one transaction: bad input writes nothing."""
    opens, closes = request.window
    with database.engine.begin() as connection:
        facility = lookup.facility(connection, request.facility_id)
        if facility is None:
            raise BadInput(f"unknown facility id {request.facility_id}")
        require_known(
            connection, doctor_ids=() if request.doctor_id is None else (request.doctor_id,)
        )
        try:
            zone = load_zone(facility.timezone)
        except UnknownZoneError as exc:
            raise BadInput(
                f"facility {facility.id} has an {exc}; fix facilities.timezone first"
            ) from None
        today = now.astimezone(zone).date()
        first = _day(request.date, "--date", today)
        last = _day(request.until, "--until", today) if request.until is not None else None
        if last is not None and last < first:
            raise BadInput(f"--until {last} is before --date {first}")
        draft = AvailabilityException(
            0,
            facility.id,
            request.doctor_id,
            first,
            last,
            opens,
            closes,
            request.type,
            request.reason,
            facility.timezone,
        )
        if problem := exception_problem(draft):
            raise BadInput(problem)
        new_id = store.add_exception(connection, draft)
        to_remove, taken = preview(connection, draft, now)
        (listing,) = store.list_exceptions(connection, exception_ids=[new_id])
    return AddedException(listing, to_remove, taken)


def preview(
    connection: Connection, draft: AvailabilityException, now: datetime
) -> tuple[int, list[TouchedSlot]]:
    """What an exception does to the slots already offered, read as generate reads it: how
    many open future slots the next generate removes, and the taken slots inside it,
    which generate keeps (someone calls those patients). Its zone must be known."""
    closed = closed_by(draft)
    slots = store.future_slots_between(
        connection,
        draft.facility_id,
        draft.doctor_id,
        since=closed.starts[0],
        until=max(closed.ends),
        now=now,
    )
    return exception_effect(closed, slots)


@dataclass(frozen=True)
class ExceptionsRequest:
    facility_ids: tuple[int, ...] = ()
    doctor_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExceptionsResult:
    listings: list[ExceptionListing]

    def json(self) -> dict[str, Any]:
        return {"exceptions": [exception_json(listing) for listing in self.listings]}


def list_exceptions(
    database: Database, request: ExceptionsRequest, now: datetime
) -> ExceptionsResult:
    with database.engine.connect() as connection:
        require_known(connection, request.facility_ids, request.doctor_ids)
        return ExceptionsResult(
            store.list_exceptions(connection, request.facility_ids, request.doctor_ids)
        )


@dataclass(frozen=True)
class RemovedException:
    id: int
    opening: Opening | None = None
    """For a synced public holiday: the day now remembered as open, so `holidays sync`
    does not close it again (`holidays restore ID` forgets it)."""


def remove_exception(database: Database, exception_id: int, now: datetime) -> RemovedException:
    """Delete one exception; the next generate offers its slots again.

    Removing a synced public holiday is a decision to open that day: it is remembered in
    the same transaction, or the next `holidays sync` would close the day again.
    """
    with database.engine.begin() as connection:
        stored = holiday_store.stored_exception(connection, exception_id)
        if stored is None or not store.remove_exception(connection, exception_id):
            raise BadInput(
                f"no exception with id {exception_id}; `slotgen exceptions list` shows them"
            )
        if not is_holiday_source(stored.source):
            return RemovedException(exception_id)
        opening_id = holiday_store.remember_opening(
            connection, stored.facility_id, stored.start_date, stored.reason, stored.source
        )
        (opening,) = holiday_store.list_openings(connection, opening_ids=[opening_id])
    return RemovedException(exception_id, opening)
