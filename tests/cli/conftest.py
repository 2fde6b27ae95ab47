"""Schedules big enough that a run is still at work when a test interferes with it."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, add_slots


@pytest.fixture
def busy_clinic(database: DatabaseUnderTest) -> DatabaseUnderTest:
    """120 doctors in three zones, weekdays 08:00-18:00 in 15-minute slots."""
    facilities = [
        add_facility(database.engine, zone, zone)
        for zone in ("America/New_York", "Europe/Berlin", "Asia/Kathmandu")
    ]
    for index in range(120):
        doctor = add_doctor(database.engine, f"Doctor {index}")
        for day in range(1, 6):
            add_rule(database.engine, facilities[index % 3], doctor, day, "08:00", "18:00", 15)
    return database


@pytest.fixture
def backlog(database: DatabaseUnderTest) -> DatabaseUnderTest:
    """Five thousand expired reservations: with --batch-size 1 a release takes a while."""
    add_facility(database.engine, "North", "Europe/Berlin")
    add_doctor(database.engine)
    add_slots(database.engine, 5000, reserved_until=datetime.now(UTC) - timedelta(minutes=1))
    return database
