"""`slotgen generate` end to end, through the CLI, on SQLite, PostgreSQL and MariaDB."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from slotgen.db.schema import availability_rules, availability_slots
from slotgen.services.generate import generate_slots
from slotgen.services.params import GenerateParams
from tests.conftest import DatabaseUnderTest
from tests.factories import (
    add_doctor,
    add_exception,
    add_facility,
    add_rule,
    add_service,
    add_slot,
    slot_keys,
    slots,
    utc,
)
from tests.helpers import CliResult, run_cli, start_installed

MONDAY = date(2083, 3, 1)
RANGE = ("--start-date", "2083-03-01", "--end-date", "2083-03-14")
"""Two future weeks: Monday 1 March to Sunday 14 March 2083."""


def generate(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli("generate", "--database-url", database.url, *args)


def generate_json(database: DatabaseUnderTest, *args: str, exit_code: int = 0) -> dict[str, Any]:
    result = generate(database, *args, "--json")
    assert result.exit_code == exit_code, result.stderr
    return dict(json.loads(result.stdout))


def count_slots(database: DatabaseUnderTest) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(availability_slots)) or 0)


@pytest.fixture
def clinic(database: DatabaseUnderTest) -> dict[str, int]:
    """Dr. Lee at North (Berlin), Monday to Friday 09:00-12:00 in 30-minute slots."""
    north = add_facility(database.engine, "North", "Europe/Berlin")
    lee = add_doctor(database.engine, "Dr. Lee")
    rules = [
        add_rule(database.engine, north, lee, day, "09:00", "12:00", 30) for day in range(1, 6)
    ]
    return {"north": north, "lee": lee, "monday_rule": rules[0], "tuesday_rule": rules[1]}


def test_generate_then_rerun_changes_nothing(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    first = generate(database, *RANGE)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("Created 60 slots, updated 0, removed 0, unchanged 0")
    created = slot_keys(database.engine)
    assert len(created) == 60
    first_slot = created[0]
    assert first_slot[1] == utc(2083, 3, 1, 8, 0)  # 09:00 in Berlin (CET) is 08:00 UTC
    assert first_slot[2] == utc(2083, 3, 1, 8, 30)
    assert {row[6] for row in created} == {"open"}

    again = generate(database, *RANGE)
    assert again.exit_code == 0
    assert "Created 0 slots, updated 0, removed 0, unchanged 60" in again.stdout
    assert "nothing to change" in again.stdout
    assert slot_keys(database.engine) == created


def test_the_daily_run_counts_the_new_day_and_reads_the_rest_as_unchanged(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    """Cron's run a day later: the range moves on, only the new day's slots are new."""
    generate_json(database, *RANGE)
    moved = generate_json(database, "--start-date", "2083-03-02", "--end-date", "2083-03-15")
    assert (moved["created"], moved["unchanged"]) == (6, 54)  # Monday 15 March is new
    overlap = generate_json(database, "--start-date", "2083-02-26", "--end-date", "2083-03-16")
    assert (overlap["created"], overlap["unchanged"]) == (12, 66)  # Friday 26, Tuesday 16
    assert count_slots(database) == 78


def test_a_slot_edited_by_hand_by_a_microsecond_is_put_back(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    """The read-back compares instants to the microsecond, whatever form the driver
    reads them in (text on SQLite and, for speed, on MariaDB)."""
    generate_json(database, *RANGE)
    first = slots(database.engine)[0]
    with database.engine.begin() as connection:
        connection.execute(
            update(availability_slots)
            .where(availability_slots.c.id == first.id)
            .values(end_at=first.end_at + timedelta(microseconds=1))
        )
    report = generate_json(database, *RANGE)
    assert (report["updated"], report["unchanged"]) == (1, 59)
    assert next(row for row in slots(database.engine) if row.id == first.id).end_at == first.end_at


def test_exception_and_deactivated_rule_remove_open_slots_but_keep_taken_ones(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    generate_json(database, *RANGE)
    tuesday_slots = [row for row in slots(database.engine) if row.rule_id == clinic["tuesday_rule"]]
    with database.engine.begin() as connection:
        booked_id, reserved_id = tuesday_slots[0].id, tuesday_slots[1].id
        connection.execute(
            update(availability_slots)
            .where(availability_slots.c.id == booked_id)
            .values(status="booked")
        )
        connection.execute(
            update(availability_slots)
            .where(availability_slots.c.id == reserved_id)
            .values(status="reserved", reserved_until=utc(2083, 3, 2, 9))
        )
        connection.execute(
            update(availability_rules)
            .where(availability_rules.c.id == clinic["tuesday_rule"])
            .values(is_active=False)
        )
    # The clinic is closed on Wednesday 3 March; Dr. Lee is off Thursday 4 March after 10:00.
    add_exception(database.engine, clinic["north"], date(2083, 3, 3), reason="Holiday")
    add_exception(
        database.engine,
        clinic["north"],
        date(2083, 3, 4),
        doctor_id=clinic["lee"],
        start_time=__import__("datetime").time(10, 0),
        end_time=__import__("datetime").time(12, 0),
        type="emergency",
    )

    report = generate_json(database, *RANGE)

    # Tuesdays: 2 x 6 slots, minus the 2 taken ones; Wednesday 3 March: 6; Thursday 4: 4.
    assert report["removed"] == 10 + 6 + 4
    assert report["created"] == 0
    assert report["blocked_by_type"] == {"blocked": 6, "emergency": 4}
    conflicts = {c["slot_id"]: c["kind"] for c in report["conflict_list"]}
    assert conflicts == {booked_id: "taken_slot_not_planned", reserved_id: "taken_slot_not_planned"}
    remaining = {row.id: row.status for row in slots(database.engine)}
    assert remaining[booked_id] == "booked"
    assert remaining[reserved_id] == "reserved"
    assert len(remaining) == 60 - 20
    assert generate_json(database, *RANGE)["removed"] == 0


def test_dry_run_reports_the_plan_and_changes_nothing(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    report = generate_json(database, *RANGE, "--dry-run")
    assert report["dry_run"] is True
    assert report["created"] == 60
    assert count_slots(database) == 0
    generate_json(database, *RANGE)
    add_exception(database.engine, clinic["north"], date(2083, 3, 1))
    before = slot_keys(database.engine)
    text = generate(database, *RANGE, "--dry-run")
    assert text.stdout.startswith("Would create 0 slots, updated 0, removed 6")
    assert slot_keys(database.engine) == before


def test_changed_rule_updates_open_slots_in_place(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    generate_json(database, *RANGE)
    ids_before = {row.id for row in slots(database.engine)}
    service = add_service(database.engine, "Vaccination", 30)
    with database.engine.begin() as connection:
        connection.execute(
            update(availability_rules)
            .where(availability_rules.c.id == clinic["monday_rule"])
            .values(service_id=service)
        )
    report = generate_json(database, *RANGE)
    assert report["updated"] == 12
    assert (report["created"], report["removed"], report["unchanged"]) == (0, 0, 48)
    monday = [row for row in slots(database.engine) if row.rule_id == clinic["monday_rule"]]
    assert {row.service_id for row in monday} == {service}
    assert {row.id for row in slots(database.engine)} == ids_before


def test_slots_the_app_created_are_never_touched(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    manual = add_slot(database.engine, clinic["north"], clinic["lee"], utc(2083, 3, 1, 8, 15), 30)
    elsewhere = add_slot(
        database.engine, clinic["north"], clinic["lee"], utc(2083, 3, 6, 10, 0), 30
    )
    report = generate_json(database, *RANGE)
    # 08:00 and 08:30 UTC on Monday overlap the manual 08:15-08:45 slot and are not offered.
    assert report["created"] == 58
    assert {c["kind"] for c in report["conflict_list"]} == {"occupied"}
    remaining = {row.id for row in slots(database.engine)}
    assert {manual, elsewhere} <= remaining


def test_scope_by_facility_and_doctor(database: DatabaseUnderTest, clinic: dict[str, int]) -> None:
    south = add_facility(database.engine, "South", "Asia/Kathmandu")
    kim = add_doctor(database.engine, "Dr. Kim")
    add_rule(database.engine, south, kim, 1, "09:00", "10:00", 30)
    add_rule(database.engine, south, clinic["lee"], 6, "09:00", "10:00", 30)

    report = generate_json(database, *RANGE, "--facility", str(south))
    assert report["created"] == 2 * 2 + 2 * 2
    assert {row.facility_id for row in slots(database.engine)} == {south}
    kathmandu_first = min(row.start_at for row in slots(database.engine))
    assert kathmandu_first == utc(2083, 3, 1, 3, 15)  # 09:00 at +05:45

    report = generate_json(database, *RANGE, "--doctor", str(kim))
    assert (report["created"], report["unchanged"]) == (0, 4)
    report = generate_json(database, *RANGE, "--doctor", str(clinic["lee"]))
    assert report["created"] == 60
    assert report["unchanged"] == 4


def test_overlapping_rules_across_facilities_keep_the_earlier_rule(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    south = add_facility(database.engine, "South", "Europe/Berlin")
    later = add_rule(database.engine, south, clinic["lee"], 1, "11:00", "13:00", 30)
    report = generate_json(database, *RANGE)
    overlaps = [c for c in report["conflict_list"] if c["kind"] == "overlapping_rules"]
    assert {(c["rule_id"], c["other_rule_id"]) for c in overlaps} == {
        (later, clinic["monday_rule"])
    }
    assert len(overlaps) == 4  # 11:00 and 11:30 on two Mondays
    assert report["created"] == 60 + 4  # 12:00 and 12:30 at South on two Mondays


def test_dst_nights_in_new_york_through_the_database(database: DatabaseUnderTest) -> None:
    clinic = add_facility(database.engine, "Night clinic", "America/New_York")
    doctor = add_doctor(database.engine)
    add_rule(database.engine, clinic, doctor, 0, "01:00", "04:00", 60)  # Sundays
    generate_json(database, "--start-date", "2083-03-14", "--end-date", "2083-03-14")
    spring = [row.start_at for row in slots(database.engine)]
    # 01:00 EST = 06:00 UTC; the window ends at 04:00 EDT = 08:00 UTC: two real hours.
    assert spring == [utc(2083, 3, 14, 6), utc(2083, 3, 14, 7)]
    generate_json(database, "--start-date", "2083-11-07", "--end-date", "2083-11-07")
    fall = [row.start_at for row in slots(database.engine) if row.start_at.month == 11]
    # 01:00 EDT = 05:00 UTC to 04:00 EST = 09:00 UTC: four real hours.
    assert fall == [utc(2083, 11, 7, hour) for hour in (5, 6, 7, 8)]


def test_bad_rules_are_reported_by_id_and_the_rest_is_generated(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    mars = add_facility(database.engine, "Mars", "Mars/Olympus_Mons")
    other = add_doctor(database.engine, "Dr. Other")
    bad = {
        add_rule(database.engine, mars, other, 1): "time zone",
        add_rule(database.engine, clinic["north"], other, 1, "12:00", "11:00"): "start_time",
        add_rule(database.engine, clinic["north"], other, 2, minutes=0): "duration",
        add_rule(database.engine, clinic["north"], other, 7): "day_of_week",
    }
    result = generate(database, *RANGE, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["created"] == 60
    reasons = {row["id"]: row["reason"] for row in report["bad_rows"]}
    assert set(reasons) == set(bad)
    for rule_id, word in bad.items():
        assert word in reasons[rule_id]
    text = generate(database, *RANGE)
    assert text.exit_code == 1
    assert "4 bad rows skipped" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--facility", "999"), "unknown facility id 999"),
        (("--doctor", "999"), "unknown doctor id 999"),
        (("--start-date", "2083-02-30"), "bad date"),
        (("--start-date", "next week"), "bad date"),
        (("--start-date", "2083-03-10", "--end-date", "2083-03-01"), "before"),
        (("--start-date", "2083-01-01", "--end-date", "2084-06-01"), "366"),
        (("--days", "400"), "366"),
        (("--end-date", "+3d", "--days", "3"), "not both"),
        (("--days", "-1"), ""),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    database: DatabaseUnderTest, clinic: dict[str, int], args: tuple[str, ...], message: str
) -> None:
    result = generate(database, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert count_slots(database) == 0


def test_relative_dates_are_read_in_each_facility_zone(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    report = generate_json(database, "--start-date", "tomorrow", "--days", "6")
    # Seven consecutive days always hold five weekdays: 5 x 6 slots.
    assert report["created"] == 30


def test_four_processes_at_once_make_one_runs_result(database: DatabaseUnderTest) -> None:
    """Concurrent runs never duplicate a slot, deadlock or fail because of each other.

    The job lock lets one work and records the others as skipped; the bulk path's
    insert-or-ignore keeps the table right even without it (the next test)."""
    facilities_ = [
        add_facility(database.engine, f"Clinic {zone}", zone)
        for zone in ("America/New_York", "Europe/Berlin", "Asia/Kolkata")
    ]
    for index in range(30):
        doctor = add_doctor(database.engine, f"Doctor {index}")
        for day in range(1, 6):
            add_rule(database.engine, facilities_[index % 3], doctor, day, "08:00", "18:00", 15)
    command = [
        "generate",
        "--database-url",
        database.url,
        "--start-date",
        "2083-03-01",
        "--days",
        "60",
        "--json",
    ]
    runs = [start_installed(*command) for _ in range(4)]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr
    reports = [json.loads(stdout) for stdout, _ in outputs]
    assert {report["status"] for report in reports} <= {"succeeded", "skipped"}
    created = sum(report.get("created", 0) for report in reports)
    together = slot_keys(database.engine)
    assert created == len(together) == 30 * 45 * 40  # 45 weekdays from 1 March to 30 April
    assert len({(row[0], row[1]) for row in together}) == len(together)
    again = generate_json(database, "--start-date", "2083-03-01", "--days", "60")
    assert (again["created"], again["removed"], again["updated"]) == (0, 0, 0)


def test_writers_racing_without_the_job_lock_still_make_one_result(
    database: DatabaseUnderTest,
) -> None:
    """The service itself is race-safe: four unlocked writers at once, no duplicate, no error."""
    north = add_facility(database.engine, "North", "Europe/Berlin")
    for index in range(12):
        doctor = add_doctor(database.engine, f"Doctor {index}")
        for day in range(1, 6):
            add_rule(database.engine, north, doctor, day, "08:00", "18:00", 15)
    params = GenerateParams(start_date="2083-03-01", days=27)
    now = datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda _: generate_slots(database.engine, params, now), range(4)))
    keys = slot_keys(database.engine)
    assert sum(report.created for report in reports) == len(keys) == 12 * 20 * 40
    assert len({(row[0], row[1]) for row in keys}) == len(keys)


def test_a_rule_that_turns_bad_keeps_its_slots_until_fixed_or_deactivated(
    database: DatabaseUnderTest,
) -> None:
    north = add_facility(database.engine, "North", "Europe/Berlin")
    lee, kim = add_doctor(database.engine, "Dr. Lee"), add_doctor(database.engine, "Dr. Kim")
    turns_bad = add_rule(database.engine, north, lee, 1, "09:00", "12:00", 30)
    add_rule(database.engine, north, kim, 1, "09:00", "12:00", 30)
    args = ("--start-date", "2083-03-01", "--days", "13")
    generate_json(database, *args)
    before = slot_keys(database.engine)
    with database.engine.begin() as connection:
        connection.execute(
            update(availability_rules)
            .where(availability_rules.c.id == turns_bad)
            .values(slot_duration_minutes=0)
        )

    report = generate_json(database, *args, exit_code=1)

    assert [row["id"] for row in report["bad_rows"]] == [turns_bad]
    assert (report["removed"], report["updated"], report["created"]) == (0, 0, 0)
    assert slot_keys(database.engine) == before, "the bad rule's open slots are kept"
    with database.engine.begin() as connection:
        connection.execute(
            update(availability_rules)
            .where(availability_rules.c.id == turns_bad)
            .values(is_active=False)
        )
    deactivated = generate_json(database, *args)
    assert deactivated["removed"] == len(before) // 2
    assert {row[0] for row in slot_keys(database.engine)} == {kim}
