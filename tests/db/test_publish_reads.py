"""The feed is read from one snapshot, and reading it never holds up the booking app."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from slotgen.db import publish as store
from tests.conftest import DatabaseUnderTest
from tests.factories import FIRST_START, add_doctor, add_facility, add_slots


def test_a_booking_during_a_publish_goes_through_and_the_feed_reads_one_snapshot(
    database: DatabaseUnderTest,
) -> None:
    facility = add_facility(database.engine, "North", "Europe/Berlin")
    add_doctor(database.engine)
    first, *_ = add_slots(database.engine, 4, status="open")
    since, until = FIRST_START - timedelta(days=1), FIRST_START + timedelta(days=1)

    with store.snapshot(database.engine) as reading:
        before = [row for batch in store.feed_slots(
            reading, facility, since, until, include_taken=True
        ) for row in batch]  # fmt: skip
        with database.engine.begin() as booking:  # SQLite: would wait for a BEGIN IMMEDIATE
            booking.execute(
                text("UPDATE availability_slots SET status = 'booked' WHERE id = :id"),
                {"id": first},
            )
        again = [row for batch in store.feed_slots(
            reading, facility, since, until, include_taken=True
        ) for row in batch]  # fmt: skip

    with store.snapshot(database.engine) as later:
        after = next(store.feed_slots(later, facility, since, until, include_taken=True))

    assert [row.status for row in before] == ["open"] * 4
    assert again == before  # the same snapshot all through one publish
    assert [row.status for row in after] == ["booked", "open", "open", "open"]
    assert after[0].start_at == FIRST_START
    assert after[0].start_at.tzinfo is UTC
    assert datetime(2027, 3, 1, tzinfo=UTC) < after[-1].start_at
