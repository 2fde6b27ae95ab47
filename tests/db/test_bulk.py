"""The bulk insert writes exactly the plan and skips what is stored at its keys."""

from datetime import UTC, datetime, timedelta
from typing import Any

from slotgen.core.model import PlannedSlot
from slotgen.db.bulk import insert_slots
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, add_slot, slot_keys

FIRST = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


def test_a_plan_across_facilities_is_stored_once_each_and_the_taken_rows_kept(
    database: DatabaseUnderTest,
) -> None:
    """Every planned slot is stored once, with its own facility, rule and end, whatever
    order the backend's bulk path writes the rows in, and a slot already stored at a
    planned key is neither counted nor changed."""
    engine = database.engine
    north, south = add_facility(engine, "North"), add_facility(engine, "South", "Asia/Kathmandu")
    doctors = [add_doctor(engine, f"Dr. {index}") for index in range(4)]
    rules = {
        doctor: add_rule(engine, north if index % 2 else south, doctor, 0)
        for index, doctor in enumerate(doctors)
    }
    plan = sorted(
        PlannedSlot(
            doctor,
            FIRST + timedelta(minutes=20 * step),
            FIRST + timedelta(minutes=20 * step + 15 + index),
            north if index % 2 else south,
            None,
            rules[doctor],
        )
        for index, doctor in enumerate(doctors)
        for step in range(25)
    )
    taken = plan[7]
    add_slot(engine, taken.facility_id, taken.doctor_id, taken.start_at, 45, status="booked")

    with engine.begin() as connection:
        created = insert_slots(connection, plan, datetime.now(UTC))

    assert created == len(plan) - 1
    stored = slot_keys(engine)
    assert len(stored) == len(plan)
    expected: set[tuple[Any, ...]] = {(*slot, "open") for slot in plan if slot != taken}
    expected.add((*taken[:2], taken.start_at + timedelta(minutes=45), *taken[3:5], None, "booked"))
    assert set(stored) == expected
