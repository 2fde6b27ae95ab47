"""No run ends with an open slot overlapping a taken one of the same doctor.

The web app books while a re-generate changes a rule's slot length from 15 to 20 minutes:
slots it takes before the run can change them keep their old times, and the run's new
slots next to them would overlap them, so a patient could book the doctor twice at once.
"""

import random
from datetime import time
from itertools import groupby
from typing import Any

import pytest
from sqlalchemy import select, update

from slotgen.db.schema import availability_rules, availability_slots
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule
from tests.helpers import run_installed, start_installed

SERVERS = ["postgresql", "mariadb"]
GENERATE = ("generate", "--start-date", "2083-03-01", "--days", "13", "--json")
SLOTS = availability_slots.c


def overlaps(database: DatabaseUnderTest) -> list[tuple[int, int]]:
    """(open slot, taken slot) pairs of one doctor whose times overlap."""
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(SLOTS.id, SLOTS.doctor_id, SLOTS.start_at, SLOTS.end_at, SLOTS.status).order_by(
                SLOTS.doctor_id, SLOTS.start_at
            )
        ).all()
    found = []
    for doctor_id, slots in groupby(rows, key=lambda row: row.doctor_id):
        earlier: list[Any] = []
        for slot in slots:
            for other in earlier:
                if (
                    other.end_at > slot.start_at
                    and "open" in (other.status, slot.status)
                    and (other.status != slot.status)
                ):
                    opened, taken = (other, slot) if other.status == "open" else (slot, other)
                    found.append((int(opened.id), int(taken.id)))
            earlier = [other for other in [*earlier, slot] if other.end_at > slot.start_at]
        del doctor_id
    return found


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_booking_during_a_slot_length_change_leaves_no_double_booking(
    database: DatabaseUnderTest,
) -> None:
    facility = add_facility(database.engine, "North", "Europe/Berlin")
    for index in range(100):
        doctor = add_doctor(database.engine, f"Doctor {index}")
        for day in range(1, 6):
            add_rule(database.engine, facility, doctor, day, "09:00", "17:00", 15)
    first = run_installed(*GENERATE, "--database-url", database.url)
    assert first.exit_code == 0, first.stderr
    with database.engine.begin() as connection:
        connection.execute(update(availability_rules).values(slot_duration_minutes=20))
        old = list(connection.scalars(select(SLOTS.id).order_by(SLOTS.id)))
    random.Random(7).shuffle(old)  # bookings land all over the run's chunks

    # Quiet, and no --json: a child that fills its pipes would wait for the test to read.
    process = start_installed("-q", *GENERATE[:-1], "--database-url", database.url)
    booked = 0
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as web_app:
        for slot_id in old:
            if process.poll() is not None:
                break
            booked += web_app.execute(
                update(availability_slots)
                .where(SLOTS.id == slot_id, SLOTS.status == "open")
                .values(status="booked")
            ).rowcount
    _, err = process.communicate(timeout=300)

    assert process.returncode == 0, err
    assert booked, "the web app booked nothing while the run worked: no race was tried"
    assert overlaps(database) == []
    again = run_installed(*GENERATE, "--database-url", database.url)
    assert again.exit_code == 0, again.stderr
    assert overlaps(database) == []


def test_booked_slots_keep_their_times_and_their_neighbours_move(
    database: DatabaseUnderTest,
) -> None:
    """The same change without a race, on every backend: the booked 15-minute slot stays,
    and the new 20-minute slots around it leave its time free."""
    facility = add_facility(database.engine, "North", "UTC")
    doctor = add_doctor(database.engine)
    rule = add_rule(database.engine, facility, doctor, 1, "09:00", "11:00", 15)
    assert run_installed(*GENERATE, "--database-url", database.url).exit_code == 0
    with database.engine.begin() as connection:
        target = connection.scalar(
            select(SLOTS.id).where(SLOTS.start_at.is_not(None)).order_by(SLOTS.start_at).offset(2)
        )
        connection.execute(
            update(availability_slots).where(SLOTS.id == target).values(status="booked")
        )
        connection.execute(
            update(availability_rules)
            .where(availability_rules.c.id == rule)
            .values(slot_duration_minutes=20, start_time=time(9))
        )

    result = run_installed(*GENERATE, "--database-url", database.url)

    assert result.exit_code == 0, result.stderr
    assert overlaps(database) == []
    with database.engine.connect() as connection:
        kept = connection.execute(select(SLOTS.status).where(SLOTS.id == target)).scalar_one()
    assert kept == "booked"
