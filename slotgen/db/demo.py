"""The SQL of `demo`: stand in for patients, and count slots for the summary.

Only `slotgen demo` uses this. It touches the first few future slots of each facility, so
running the demo again picks the same slots instead of taking more and more.
"""

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, select, update

from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    doctors,
    facilities,
    services,
)
from slotgen.db.schema import availability_slots as slots
from slotgen.vocabulary import SlotStatus

BOOKED, RESERVED, OPEN = SlotStatus.BOOKED, SlotStatus.RESERVED, SlotStatus.OPEN
LIVE_HOLD = timedelta(minutes=15)
EXPIRED_AGO = timedelta(minutes=5)


def play_patients(connection: Connection, now: datetime, *, expired_per_facility: int = 2) -> int:
    """Per facility: book its first future slot, hold the next one for 15 minutes, and
    leave the next `expired_per_facility` with a reservation that ran out 5 minutes ago,
    as a patient who gave up on the booking form would. Returns how many ran out."""
    expired = 0
    for facility_id in connection.scalars(select(facilities.c.id).order_by(facilities.c.id)):
        first = list(
            connection.scalars(
                select(slots.c.id)
                .where(slots.c.facility_id == facility_id, slots.c.start_at > now)
                .order_by(slots.c.start_at, slots.c.id)
                .limit(2 + expired_per_facility)
            )
        )
        if not first:
            continue
        connection.execute(
            update(slots)
            .where(slots.c.id == first[0], slots.c.status == OPEN)
            .values(status=BOOKED, updated_at=now)
        )
        connection.execute(
            update(slots)
            .where(slots.c.id.in_(first[1:2]), slots.c.status.in_((OPEN, RESERVED)))
            .values(status=RESERVED, reserved_until=now + LIVE_HOLD, updated_at=now)
        )
        result = connection.execute(
            update(slots)
            .where(slots.c.id.in_(first[2:]), slots.c.status == OPEN)
            .values(status=RESERVED, reserved_until=now - EXPIRED_AGO, updated_at=now)
        )
        expired += int(result.rowcount)
    return expired


class FacilitySlot(NamedTuple):
    """A facility with its zone, and one of its slots (None, None when it has none)."""

    facility_id: int
    facility: str
    timezone: str
    start_at: datetime | None
    status: str | None


def slots_between(connection: Connection, start: datetime, end: datetime) -> list[FacilitySlot]:
    """Each facility with its zone, and the start and status of its slots in [start, end)."""
    result = connection.execute(
        select(
            facilities.c.id,
            facilities.c.name,
            facilities.c.timezone,
            slots.c.start_at,
            slots.c.status,
        )
        .select_from(
            facilities.outerjoin(
                slots,
                (slots.c.facility_id == facilities.c.id)
                & (slots.c.start_at >= start)
                & (slots.c.start_at < end),
            )
        )
        .order_by(facilities.c.id, slots.c.start_at)
    )
    return [FacilitySlot(*row) for row in result]


def holds_a_schedule(connection: Connection) -> bool:
    """Whether any schedule or slot row exists: a database someone already uses."""
    tables = (facilities, doctors, services, availability_rules, availability_exceptions, slots)
    return any(connection.scalar(select(table.c.id).limit(1)) is not None for table in tables)
