"""`slotgen exceptions add|list|remove`, through the CLI, on every backend.

What `add` says it will remove is checked against what `generate` then really removes.
"""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from slotgen.db.schema import availability_exceptions, availability_slots
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_exception, add_facility, add_rule, utc
from tests.helpers import CliResult, run_cli

RANGE = ("--start-date", "2083-03-01", "--end-date", "2083-03-31")
EXCEPTION_KEYS = {
    "id",
    "facility_id",
    "facility",
    "doctor_id",
    "doctor",
    "timezone",
    "start_date",
    "end_date",
    "start_time",
    "end_time",
    "type",
    "reason",
    "source",
}


def cli(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli(*args, "--database-url", database.url)


def cli_json(database: DatabaseUnderTest, *args: str) -> dict[str, Any]:
    result = cli(database, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def set_status(database: DatabaseUnderTest, start_at: datetime, doctor_id: int, status: str) -> int:
    s = availability_slots.c
    with database.engine.begin() as connection:
        connection.execute(
            update(availability_slots)
            .where(s.doctor_id == doctor_id, s.start_at == start_at)
            .values(status=status)
        )
        return int(
            connection.scalar(select(s.id).where(s.doctor_id == doctor_id, s.start_at == start_at))
            or 0
        )


def exception_count(database: DatabaseUnderTest) -> int:
    with database.engine.connect() as connection:
        return int(
            connection.scalar(select(func.count()).select_from(availability_exceptions)) or 0
        )


@pytest.fixture
def clinic(database: DatabaseUnderTest) -> dict[str, int]:
    """Dr. Lee and Dr. Kim at North (Berlin): Fridays 09:00-17:00 and Sundays all day."""
    engine = database.engine
    north = add_facility(engine, "North", "Europe/Berlin")
    lee, kim = add_doctor(engine, "Dr. Lee"), add_doctor(engine, "Dr. Kim")
    for doctor in (lee, kim):
        add_rule(engine, north, doctor, 5, "09:00", "17:00", 30)
        add_rule(engine, north, doctor, 0, "00:00", "00:00", 60)
    generated = cli(database, "generate", *RANGE)
    assert generated.exit_code == 0, generated.stderr
    return {"north": north, "lee": lee, "kim": kim}


def test_add_reports_what_generate_then_removes(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    """Dr. Lee is off Friday afternoon: two patients already hold slots then."""
    lee = clinic["lee"]
    booked = set_status(database, utc(2083, 3, 5, 13, 0), lee, "booked")  # 14:00 in Berlin
    reserved = set_status(database, utc(2083, 3, 5, 15, 30), lee, "reserved")
    added = cli_json(
        database,
        "exceptions",
        "add",
        "--facility",
        str(clinic["north"]),
        "--doctor",
        str(lee),
        "--date",
        "2083-03-05",
        "--from",
        "13:00",
        "--to",
        "17:00",
        "--reason",
        "off Friday afternoon",
    )
    assert set(added["exception"]) == EXCEPTION_KEYS
    assert added["exception"] | {"id": 0} == {
        "id": 0,
        "facility_id": clinic["north"],
        "facility": "North",
        "doctor_id": lee,
        "doctor": "Dr. Lee",
        "timezone": "Europe/Berlin",
        "start_date": "2083-03-05",
        "end_date": None,
        "start_time": "13:00",
        "end_time": "17:00",
        "type": "blocked",
        "reason": "off Friday afternoon",
        "source": None,
    }
    assert added["open_slots_to_remove"] == 6  # 13:00 to 16:30, less the two taken
    assert added["taken_slots"] == [
        {
            "id": booked,
            "doctor_id": lee,
            "doctor": "Dr. Lee",
            "start_at": "2083-03-05T13:00:00+00:00",
            "start_local": "2083-03-05 14:00 +01:00",
            "status": "booked",
        },
        {
            "id": reserved,
            "doctor_id": lee,
            "doctor": "Dr. Lee",
            "start_at": "2083-03-05T15:30:00+00:00",
            "start_local": "2083-03-05 16:30 +01:00",
            "status": "reserved",
        },
    ]
    report = cli_json(database, "generate", *RANGE)
    assert report["removed"] == added["open_slots_to_remove"]
    assert report["created"] == 0
    assert sorted(c["slot_id"] for c in report["conflict_list"]) == [booked, reserved]


def test_add_a_whole_day_closure_across_a_dst_night(
    database: DatabaseUnderTest, clinic: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Berlin's spring-forward Sunday has 23 hours: 23 hourly slots for each doctor."""
    monkeypatch.setenv("COLUMNS", "200")
    kim = clinic["kim"]
    booked = set_status(database, utc(2083, 3, 28, 1, 0), kim, "booked")  # 03:00 CEST
    result = cli(
        database,
        "exceptions",
        "add",
        "--facility",
        str(clinic["north"]),
        "--date",
        "2083-03-28",
        "--type",
        "emergency",
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Added exception ")
    assert lines[0].endswith(
        f": all doctors at North ({clinic['north']}), 2083-03-28, whole day Europe/Berlin "
        "(emergency)."
    )
    assert lines[1] == "The next `slotgen generate` will remove 45 open slot(s) inside it."
    assert "1 reserved or booked slot(s) fall inside it" in lines[2]
    assert str(booked) in result.stdout
    assert "2083-03-28 03:00 +02:00" in result.stdout
    report = cli_json(database, "generate", *RANGE)
    assert report["removed"] == 45
    assert report["blocked_by_type"] == {"emergency": 46}


def test_add_counts_only_the_days_and_hours_it_names(
    database: DatabaseUnderTest, clinic: dict[str, int]
) -> None:
    """Mornings for a week at the whole facility; 24:00 is accepted as an end."""
    added = cli_json(
        database,
        "exceptions",
        "add",
        "--facility",
        str(clinic["north"]),
        "--date",
        "2083-03-12",
        "--until",
        "2083-03-19",
        "--from",
        "09:00",
        "--to",
        "10:00",
    )
    assert added["exception"]["end_date"] == "2083-03-19"
    # Two doctors: two slots on each Friday, one on Sunday the 14th (every day is closed).
    assert added["open_slots_to_remove"] == 2 * (2 + 2 + 1)
    evening = cli_json(
        database,
        "exceptions",
        "add",
        "--facility",
        str(clinic["north"]),
        "--doctor",
        str(clinic["kim"]),
        "--date",
        "2083-03-14",
        "--from",
        "22:00",
        "--to",
        "24:00",
    )
    assert evening["exception"]["end_time"] == "00:00"
    assert evening["open_slots_to_remove"] == 2
    report = cli_json(database, "generate", *RANGE)
    assert report["removed"] == 10 + 2


def test_relative_dates_are_read_in_the_facility_zone(database: DatabaseUnderTest) -> None:
    north = add_facility(database.engine, "Far east", "Pacific/Kiritimati")
    added = cli_json(database, "exceptions", "add", "--facility", str(north), "--date", "+2d")
    today = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    assert added["exception"]["start_date"] == (today + timedelta(days=2)).isoformat()
    assert added["open_slots_to_remove"] == 0
    assert added["taken_slots"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--facility", "99", "--date", "2083-03-05"), "Error: unknown facility id 99"),
        (("--doctor", "99", "--date", "2083-03-05"), "Error: unknown doctor id 99"),
        (
            ("--date", "2083-03-05", "--from", "13:00"),
            "Error: give both --from and --to, or neither for whole days",
        ),
        (
            ("--date", "2083-03-05", "--from", "13:00", "--to", "12:00"),
            "Error: --to 12:00 is not after --from 13:00 (24:00 is the end of the day)",
        ),
        (
            ("--date", "2083-03-05", "--until", "2083-03-04"),
            "Error: --until 2083-03-04 is before --date 2083-03-05",
        ),
        (
            ("--date", "5 March"),
            "Error: --date: bad date '5 March': use YYYY-MM-DD, today, tomorrow, yesterday, "
            "+Nd/-Nd or +Nw/-Nw",
        ),
        (
            ("--date", "2083-03-05", "--from", "1pm", "--to", "17:00"),
            "Error: --from: bad time '1pm': use HH:MM, e.g. 13:30",
        ),
    ],
)
def test_add_rejects_bad_input_and_writes_nothing(
    database: DatabaseUnderTest, args: tuple[str, ...], message: str
) -> None:
    north = add_facility(database.engine, "North", "Europe/Berlin")
    if "--facility" not in args:
        args = ("--facility", str(north), *args)
    result = cli(database, "exceptions", "add", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""
    assert exception_count(database) == 0


def test_add_refuses_a_facility_with_a_bad_zone(database: DatabaseUnderTest) -> None:
    mars = add_facility(database.engine, "Mars", "Mars/Olympus_Mons")
    result = cli(database, "exceptions", "add", "--facility", str(mars), "--date", "2083-03-05")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: facility {mars} has an unknown time zone")
    assert exception_count(database) == 0


def test_list_and_remove(database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    engine = database.engine
    north = add_facility(engine, "North", "Europe/Berlin")
    south = add_facility(engine, "South", "America/New_York")
    lee = add_doctor(engine, "Dr. Lee")
    holiday = add_exception(engine, north, date(2083, 12, 24), end_date=date(2083, 12, 26))
    afternoon = add_exception(
        engine,
        south,
        date(2083, 3, 5),
        doctor_id=lee,
        start_time=datetime.strptime("13:00", "%H:%M").time(),
        end_time=datetime.strptime("00:00", "%H:%M").time(),
        reason="off",
    )
    listed = cli_json(database, "exceptions", "list")["exceptions"]
    assert [e["id"] for e in listed] == [afternoon, holiday]  # by first date
    assert all(set(e) == EXCEPTION_KEYS for e in listed)
    assert listed[0]["doctor"] == "Dr. Lee"
    assert listed[1]["doctor_id"] is None
    by_doctor = cli_json(database, "exceptions", "list", "--doctor", str(lee))["exceptions"]
    assert [e["id"] for e in by_doctor] == [afternoon]
    by_facility = cli_json(database, "exceptions", "list", "--facility", str(north))
    assert [e["id"] for e in by_facility["exceptions"]] == [holiday]

    table = cli(database, "exceptions", "list")
    assert table.exit_code == 0, table.stderr
    for text in ("2083-12-24 to 2083-12-26", "whole day", "all doctors", "13:00-24:00", "off"):
        assert text in table.stdout

    removed = cli(database, "exceptions", "remove", str(holiday))
    assert removed.exit_code == 0, removed.stderr
    assert removed.stdout.startswith(f"Removed exception {holiday}.")
    assert "recreates" in removed.stdout
    assert [e["id"] for e in cli_json(database, "exceptions", "list")["exceptions"]] == [afternoon]

    again = cli(database, "exceptions", "remove", str(holiday))
    assert again.exit_code == 2
    assert again.stderr.strip() == (
        f"Error: no exception with id {holiday}; `slotgen exceptions list` shows them"
    )
