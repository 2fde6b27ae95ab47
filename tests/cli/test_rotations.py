"""Rotations end to end on every backend: a spreadsheet roster with alternating weeks and
monthly sessions imported, generated, re-run, its parity swapped, and rotations the web
app wrote badly skipped by id."""

import csv
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from slotgen.db.schema import availability_rules, availability_slots
from slotgen.services.dashboard import DashboardRequest, build
from slotgen.vocabulary import SlotStatus
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, slots
from tests.helpers import CliResult, run_cli

BERLIN = ZoneInfo("Europe/Berlin")
RANGE = ("--start-date", "2083-01-01", "--end-date", "2083-02-28")
RULE_HEADER = [
    "id",
    "facility_id",
    "doctor_id",
    "day_of_week",
    "start_time",
    "end_time",
    "slot_duration_minutes",
    "valid_from",
    "recurrence",
]


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def roster(tmp_path: Path, week_a_from: str) -> list[Path]:
    """Dr. Novak: Fridays in Berlin in week A, in Potsdam in week B; Dr. Roth: the 1st
    Monday and the last Friday of each month."""
    return [
        write_csv(
            tmp_path / "facilities.csv",
            ["id", "name", "timezone"],
            [[1, "Berlin Mitte", "Europe/Berlin"], [2, "Potsdam", "Europe/Berlin"]],
        ),
        write_csv(tmp_path / "doctors.csv", ["id", "name"], [[1, "Dr. Novak"], [2, "Dr. Roth"]]),
        write_csv(
            tmp_path / "rules.csv",
            RULE_HEADER,
            [
                [1, 1, 1, "friday", "09:00", "11:00", 60, week_a_from, "every 2 weeks"],
                [2, 2, 1, "friday", "09:00", "11:00", 60, "2083-01-11", "every 2 weeks"],
                [3, 1, 2, "monday", "14:00", "15:00", 60, "", "1st monday"],
                [4, 1, 2, "friday", "14:00", "15:00", 60, "", "last friday"],
            ],
        ),
    ]


def run(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli(*args, "--database-url", database.url)


def generate(database: DatabaseUnderTest, exit_code: int = 0) -> dict[str, Any]:
    result = run(database, "generate", *RANGE, "--json")
    assert result.exit_code == exit_code, result.stderr
    return dict(json.loads(result.stdout))


def days_per_rule(database: DatabaseUnderTest) -> dict[int, list[date]]:
    found: dict[int, set[date]] = {}
    for slot in slots(database.engine):
        local = slot.start_at.replace(tzinfo=UTC).astimezone(BERLIN).date()
        found.setdefault(slot.rule_id, set()).add(local)
    return {rule_id: sorted(days) for rule_id, days in sorted(found.items())}


def days_of(database: DatabaseUnderTest) -> list[date]:
    return sorted({slot.start_at.date() for slot in slots(database.engine)})


WEEK_A_FRIDAYS = [date(2083, 1, 8), date(2083, 1, 22), date(2083, 2, 5), date(2083, 2, 19)]
WEEK_B_FRIDAYS = [
    date(2083, 1, 1),
    date(2083, 1, 15),
    date(2083, 1, 29),
    date(2083, 2, 12),
    date(2083, 2, 26),
]


def test_a_rotation_roster_from_a_spreadsheet_generates_its_weeks_and_months(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    imported = run(database, "import", *map(str, roster(tmp_path, "2083-01-04")))
    assert imported.exit_code == 0, imported.stderr
    with database.engine.connect() as connection:
        stored = {
            row.id: row.recurrence
            for row in connection.execute(
                select(availability_rules.c.id, availability_rules.c.recurrence)
            )
        }
    assert stored == {
        1: "FREQ=WEEKLY;INTERVAL=2",
        2: "FREQ=WEEKLY;INTERVAL=2",
        3: "FREQ=MONTHLY;BYDAY=1MO",
        4: "FREQ=MONTHLY;BYDAY=-1FR",
    }, "friendly forms are stored as the RRULE"

    first = generate(database)
    assert first["created"] == 2 * (4 + 4) + 2 + 2
    assert first["conflicts"] == 0
    assert days_per_rule(database) == {
        1: [d for d in WEEK_A_FRIDAYS if d >= date(2083, 1, 4)],
        # valid_from 11 January: 15 January is the first Friday of its week B.
        2: [d for d in WEEK_B_FRIDAYS if d >= date(2083, 1, 11)],
        3: [date(2083, 1, 4), date(2083, 2, 1)],
        4: [date(2083, 1, 29), date(2083, 2, 26)],
    }
    again = generate(database)
    assert (again["created"], again["updated"], again["removed"]) == (0, 0, 0)

    # Swap week A and week B for Berlin: valid_from one week later. One of the old
    # Berlin Fridays is booked meanwhile, so it stays and is reported.
    booked_day = datetime(2083, 1, 22, 9, tzinfo=BERLIN).astimezone(UTC)
    with database.engine.begin() as connection:
        connection.execute(
            update(availability_slots)
            .where(availability_slots.c.start_at == booked_day, availability_slots.c.rule_id == 1)
            .values(status=SlotStatus.BOOKED)
        )
    swapped = run(database, "import", *map(str, roster(tmp_path, "2083-01-11")))
    assert swapped.exit_code == 0, swapped.stderr
    changed = generate(database)
    # Rule 1 now shares week B with rule 2 at the same hours: rule 2 loses to rule 1.
    assert changed["conflicts"] > 0
    taken = [c for c in changed["conflict_list"] if c["kind"] == "taken_slot_not_planned"]
    assert len(taken) == 1
    assert days_per_rule(database)[1] == [
        date(2083, 1, 15),
        date(2083, 1, 22),  # the booked slot's day, kept
        date(2083, 1, 29),
        date(2083, 2, 12),
        date(2083, 2, 26),
    ]
    settled = generate(database)
    assert (settled["created"], settled["updated"], settled["removed"]) == (0, 0, 0)

    check = run(database, "rules", "check")
    assert check.exit_code == 1
    assert "error rule 1, 2: overlap" in check.stdout


def test_opposite_parities_pass_rules_check_and_show_their_weeks(
    database: DatabaseUnderTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert run(database, "import", *map(str, roster(tmp_path, "2083-01-04"))).exit_code == 0
    check = run(database, "rules", "check")
    assert check.exit_code == 0, check.stdout
    listed = run(database, "rules", "list")
    assert "every 2 weeks from 2083-01-04 (week A)" in listed.stdout
    assert "every 2 weeks from 2083-01-11 (week B)" in listed.stdout
    assert "1st Monday" in listed.stdout
    assert "last Friday" in listed.stdout
    preview = run(database, "rules", "preview", "2", "--count", "3", "--json")
    assert preview.exit_code == 0, preview.stderr
    dates = json.loads(preview.stdout)["dates"]
    assert len(dates) == 3
    assert {d["week"] for d in dates} == {"B"}
    assert [date.fromisoformat(d["date"]).isoweekday() for d in dates] == [5, 5, 5]
    assert all(d["start_local"].endswith("09:00 +01:00") for d in dates[:1])
    shown = run(database, "rules", "preview", "1", "-n", "2")
    assert shown.exit_code == 0, shown.stderr
    assert "every 2 weeks from 2083-01-04 (week A)" in shown.stdout
    first_row = next(line for line in shown.stdout.splitlines() if "2083-01-08 Fri" in line)
    assert first_row.split()[2:] == ["09:00", "+01:00", "11:00", "+01:00", "2083-W01", "A"]


def test_bad_recurrences_written_by_the_web_app_are_skipped_by_id_with_their_reason(
    database: DatabaseUnderTest,
) -> None:
    engine = database.engine
    facility = add_facility(engine, "Berlin", "Europe/Berlin")
    doctor = add_doctor(engine, "Dr. Lee")
    good = add_rule(engine, facility, doctor, 2, recurrence="FREQ=MONTHLY;BYDAY=2TU")
    bad = {
        add_rule(engine, facility, doctor, 1, recurrence=text): reason
        for text, reason in (
            ("FREQ=DAILY", "FREQ must be WEEKLY or MONTHLY, not DAILY"),
            ("FREQ=WEEKLY;COUNT=3", "COUNT not supported"),
            ("FREQ=WEEKLY;UNTIL=20830301", "UNTIL not supported"),
            ("FREQ=MONTHLY;BYDAY=1FR", "names Friday but day_of_week is 1 (Monday)"),
            ("FREQ=WEEKLY;INTERVAL=2", "set valid_from"),
            ("every second week", "is not NAME=VALUE"),
        )
    }
    result = generate(database, exit_code=1)
    reasons = {row["id"]: row["reason"] for row in result["bad_rows"]}
    assert reasons.keys() == bad.keys()
    for rule_id, reason in bad.items():
        assert reason in reasons[rule_id]
    assert result["created_per_rule"] == {str(good): 2 * 16}, "2nd Tuesdays of Jan and Feb"
    preview = run(database, "rules", "preview", str(next(iter(bad))))
    assert preview.exit_code == 1
    assert "FREQ must be WEEKLY or MONTHLY" in preview.stderr


def test_an_unclear_recurrence_in_a_file_is_its_file_and_line(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    files = roster(tmp_path, "2083-01-04")
    write_csv(
        files[2],
        RULE_HEADER,
        [
            [1, 1, 1, "friday", "09:00", "11:00", 60, "2083-01-04", "every 2 weeks"],
            [2, 1, 1, "friday", "12:00", "13:00", 60, "2083-01-04", "biweekly"],
            [3, 1, 2, "monday", "14:00", "15:00", 60, "", "last friday"],
            [4, 1, 2, "monday", "14:00", "15:00", 60, "", "every 3 weeks"],
        ],
    )
    result = run(database, "import", *map(str, files))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any("rules.csv:3: recurrence: 'biweekly' is not clear" in line for line in lines), lines
    assert any(
        "rules.csv:4: " in line and "names Friday but day_of_week is 1" in line for line in lines
    ), lines
    assert any("rules.csv:5: " in line and "set valid_from" in line for line in lines), lines
    assert lines[-1] == "Error: 3 problems in the input; nothing was imported"


def test_toml_and_json_take_a_recurrence_too(database: DatabaseUnderTest, tmp_path: Path) -> None:
    common = (
        'facility_id = 1\ndoctor_id = 1\nstart_time = "09:00"\nend_time = "10:00"\n'
        "slot_duration_minutes = 30\n"
    )
    toml = tmp_path / "clinic.toml"
    toml.write_text(
        '[[facilities]]\nid = 1\nname = "Berlin"\ntimezone = "Europe/Berlin"\n'
        '[[doctors]]\nid = 1\nname = "Dr. Lee"\n'
        f'[[rules]]\nid = 1\n{common}day_of_week = "tuesday"\nrecurrence = "2nd and 4th tuesday"\n',
        encoding="utf-8",
    )
    document = tmp_path / "more.json"
    document.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "id": 2,
                        "facility_id": 1,
                        "doctor_id": 1,
                        "day_of_week": "thursday",
                        "start_time": "09:00",
                        "end_time": "10:00",
                        "slot_duration_minutes": 30,
                        "valid_from": "2083-01-04",
                        "recurrence": "FREQ=WEEKLY;INTERVAL=3",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    result = run(database, "import", str(toml), str(document))
    assert result.exit_code == 0, result.stderr
    with database.engine.connect() as connection:
        stored = {
            row.id: row.recurrence
            for row in connection.execute(
                select(availability_rules.c.id, availability_rules.c.recurrence)
            )
        }
    assert stored == {1: "FREQ=MONTHLY;BYDAY=2TU,4TU", 2: "FREQ=WEEKLY;INTERVAL=3"}


def test_exception_previews_and_the_dashboard_see_only_the_rotation_weeks(
    database: DatabaseUnderTest,
) -> None:
    engine = database.engine
    facility = add_facility(engine, "Outreach", "UTC")
    doctor = add_doctor(engine, "Dr. Roth")
    now = datetime.now(UTC)
    today = now.date()
    this_monday = today - timedelta(days=today.weekday())
    add_rule(
        engine,
        facility,
        doctor,
        5,
        "09:00",
        "10:00",
        60,
        valid_from=this_monday,
        recurrence="FREQ=WEEKLY;INTERVAL=2",
    )
    assert run(database, "generate", "--days", "20").exit_code == 0
    fridays = [
        today + timedelta(days=n)
        for n in range(21)
        if (today + timedelta(days=n)).isoweekday() == 5
    ]
    on = [
        day
        for day in fridays
        if ((day - this_monday).days // 7) % 2 == 0 and datetime.combine(day, time(9), UTC) >= now
    ]
    off = [day for day in fridays if ((day - this_monday).days // 7) % 2 == 1]
    assert days_of(database) == on

    panel = build(database.opened, DashboardRequest(zone="UTC"), now).slots
    assert [(f.facility, f.open) for f in panel] == [("Outreach", len(on))]

    def to_remove(day: date) -> int:
        added = run(
            database,
            "exceptions", "add", "--facility", str(facility), "--doctor", str(doctor),
            "--date", day.isoformat(), "--json",
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr
        return int(json.loads(added.stdout)["open_slots_to_remove"])

    assert to_remove(off[0]) == 0, "an off week has nothing to close"
    if on:
        assert to_remove(on[0]) == 1
