"""`slotgen import` through the CLI, on SQLite, PostgreSQL and MariaDB."""

import csv
import json
from collections.abc import Callable, Mapping
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, select

from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    doctors,
    facilities,
    services,
)
from slotgen.importing.columns import CONTACT_COLUMNS
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility
from tests.helpers import CliResult, run_cli

SCHEDULE: dict[str, list[dict[str, Any]]] = {
    "facilities": [
        {
            "id": 1,
            "name": "Berlin Mitte",
            "timezone": "Europe/Berlin",
            "holiday_country": "de",
            "holiday_subdivision": "BE",
        },
        {"id": 2, "name": "Kathmandu", "timezone": "Asia/Kathmandu"},
    ],
    "doctors": [{"id": 1, "name": "Dr. Weber"}, {"id": 2, "name": "Dr. Sharma"}],
    "services": [{"id": 1, "name": "Consultation", "duration_minutes": 30}],
    "availability_rules": [
        {
            "id": 1,
            "facility_id": 1,
            "doctor_id": 1,
            "service_id": 1,
            "day_of_week": "Monday",
            "start_time": "09:00",
            "end_time": "12:00",
            "slot_duration_minutes": 30,
        },
        {
            "id": 2,
            "facility_id": 2,
            "doctor_id": 2,
            "day_of_week": "sun",
            "start_time": "18:00",
            "end_time": "00:00",
            "slot_duration_minutes": 20,
            "buffer_minutes": 10,
            "valid_from": "2083-01-01",
            "valid_until": "2083-06-30",
            "is_active": False,
        },
        {
            "id": 3,
            "facility_id": 1,
            "doctor_id": 2,
            "day_of_week": 5,
            "start_time": "08:30",
            "end_time": "10:00",
            "slot_duration_minutes": 15,
        },
    ],
    "availability_exceptions": [
        {"id": 1, "facility_id": 1, "start_date": "2083-12-24", "end_date": "2083-12-26"},
        {
            "id": 2,
            "facility_id": 2,
            "doctor_id": 2,
            "start_date": "2083-02-07",
            "start_time": "13:00",
            "end_time": "17:00",
            "type": "emergency",
            "reason": "Called away",
        },
    ],
}

EXPECTED = {
    "facilities": [
        (1, "Berlin Mitte", "Europe/Berlin", "DE", "BE"),
        (2, "Kathmandu", "Asia/Kathmandu", None, None),
    ],
    "doctors": [(1, "Dr. Weber"), (2, "Dr. Sharma")],
    "services": [(1, "Consultation", 30)],
    "availability_rules": [
        (1, 1, 1, 1, 1, time(9), time(12), 30, 0, None, None, True, None),
        (
            2,
            2,
            2,
            None,
            0,
            time(18),
            time(0),
            20,
            10,
            date(2083, 1, 1),
            date(2083, 6, 30),
            False,
            None,
        ),
        (3, 1, 2, None, 5, time(8, 30), time(10), 15, 0, None, None, True, None),
    ],
    "availability_exceptions": [
        (1, 1, None, date(2083, 12, 24), date(2083, 12, 26), None, None, "blocked", None, None),
        (2, 2, 2, date(2083, 2, 7), None, time(13), time(17), "emergency", "Called away", None),
    ],
}
"""SCHEDULE as the tables hold it: weekdays as numbers, defaults filled in."""

TABLES: dict[str, Table] = {
    table.name: table
    for table in (facilities, doctors, services, availability_rules, availability_exceptions)
}


def import_(database: DatabaseUnderTest, *args: str | Path) -> CliResult:
    return run_cli("import", *map(str, args), "--database-url", database.url)


LEFT_OUT = ("created_at", "updated_at", *(name for name, _ in CONTACT_COLUMNS))


def stored(database: DatabaseUnderTest) -> dict[str, list[tuple[Any, ...]]]:
    """Every schedule row without its timestamps and a facility's contact data (tested on
    its own), ordered by id."""
    with database.engine.connect() as connection:
        return {
            name: [
                tuple(row)
                for row in connection.execute(
                    select(*(c for c in table.c if c.name not in LEFT_OUT)).order_by(table.c.id)
                )
            ]
            for name, table in TABLES.items()
        }


def nothing_stored(database: DatabaseUnderTest) -> bool:
    with database.engine.connect() as connection:
        return all(
            connection.scalar(select(func.count()).select_from(table)) == 0
            for table in TABLES.values()
        )


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def write_toml(folder: Path, schedule: dict[str, list[dict[str, Any]]]) -> list[Path]:
    lines = ["# a schedule"]
    for table, rows in schedule.items():
        for row in rows:
            lines += ["", f"[[{table}]]", *(f"{k} = {toml_value(v)}" for k, v in row.items())]
    path = folder / "schedule.toml"
    path.write_text("\n".join(lines) + "\n")
    return [path]


def write_json(folder: Path, schedule: Mapping[str, Any]) -> list[Path]:
    path = folder / "schedule.json"
    path.write_text(json.dumps(schedule, indent=2))
    return [path]


def write_csv(folder: Path, schedule: dict[str, list[dict[str, Any]]]) -> list[Path]:
    paths = []
    for table, rows in schedule.items():
        columns = list(dict.fromkeys(key for row in rows for key in row))
        path = folder / f"{table}.csv"
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, columns)
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return paths


WRITERS: dict[str, Callable[[Path, dict[str, list[dict[str, Any]]]], list[Path]]] = {
    "toml": write_toml,
    "json": write_json,
    "csv": write_csv,
}


@pytest.mark.parametrize("kind", WRITERS)
def test_a_schedule_file_round_trips_to_the_tables(
    database: DatabaseUnderTest, tmp_path: Path, kind: str
) -> None:
    result = import_(database, *WRITERS[kind](tmp_path, SCHEDULE))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "Imported 2 facilities, 2 doctors, 1 service, 3 rules, 2 exceptions "
        "(inserted 10, updated 0)"
    )
    assert stored(database) == EXPECTED


def test_short_table_names_and_toml_dates_and_times(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(
        '[[facilities]]\nid = 7\nname = "North"\n\n'
        '[[doctors]]\nid = 3\nname = "Dr. Lee"\n\n'
        '[[rules]]\nid = 5\nfacility_id = 7\ndoctor_id = 3\nday_of_week = "TUESDAY"\n'
        'start_time = 09:00:00\nend_time = "10:00"\nslot_duration_minutes = 30\n'
        "valid_from = 2083-03-01\n\n"
        "[[exceptions]]\nfacility_id = 7\nstart_date = 2083-04-01\n"
    )
    assert import_(database, path).exit_code == 0
    rows = stored(database)
    assert rows["facilities"] == [(7, "North", "UTC", None, None)]
    assert rows["availability_rules"] == [
        (5, 7, 3, None, 2, time(9), time(10), 30, 0, date(2083, 3, 1), None, True, None)
    ]
    assert [row[1:4] for row in rows["availability_exceptions"]] == [(7, None, date(2083, 4, 1))]


BAD_TOML = """\
[[facilities]]
id = 1
name = "Mars base"
timezone = "Mars/Olympus"

[[facilities]]
id = 1
name = "Twin"

[[doctors]]
id = 1
name = "Dr. Who"
speciality = "time"

[[rules]]
id = 1
facility_id = 1
doctor_id = 1
day_of_week = "funday"
start_time = "09:00"
end_time = "10:00"
slot_duration_minutes = 30

[[rules]]
id = 2
facility_id = 1
doctor_id = 1
day_of_week = "monday"
start_time = "12:00"
end_time = "09:00"
slot_duration_minutes = "thirty"

[[rules]]
id = 3
facility_id = 1
doctor_id = 99
day_of_week = 1
start_time = "12:00"
end_time = "09:00"
slot_duration_minutes = 30

[[exceptions]]
facility_id = 1
start_date = "next week"
"""


def test_every_problem_is_reported_with_its_line_and_nothing_is_written(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_TOML)
    result = import_(database, path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:4: timezone: unknown time zone 'Mars/Olympus': use an IANA name such as "
        "Europe/Berlin",
        f"{path}:7: duplicate id 1 in facilities (first at {path}:1)",
        f"{path}:13: unknown column 'speciality' in doctors: use id, name",
        f"{path}:19: day_of_week: unknown weekday 'funday': use a name (monday, mon) or "
        "0 (Sunday) to 6 (Saturday)",
        f"{path}:31: slot_duration_minutes: must be a whole number, got 'thirty'",
        f"{path}:36: doctor_id: no doctors row with id 99, neither in the input nor in the "
        "database",
        f"{path}:33: end_time 09:00 is not after start_time 12:00 (00:00 means the end of the day)",
        f"{path}:44: start_date: must be a date YYYY-MM-DD, got 'next week'",
        "Error: 8 problems in the input; nothing was imported",
    ]
    assert nothing_stored(database)


def test_json_problems_point_at_the_row_and_key_lines(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "facilities": [{"id": 1, "name": "North", "timezone": "UTC"}],
                "rules": [
                    {
                        "facility_id": 2,
                        "doctor_id": 1,
                        "day_of_week": 9,
                        "start_time": "9am",
                        "end_time": "10:00",
                        "slot_duration_minutes": 30,
                    }
                ],
            },
            indent=2,
        )
    )
    result = import_(database, path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:13: day_of_week: weekday 9 is not 0 (Sunday) to 6 (Saturday)",
        f"{path}:14: start_time: must be a time HH:MM, got '9am'",
        f"{path}:11: facility_id: no facilities row with id 2, neither in the input nor in "
        "the database",
        f"{path}:12: doctor_id: no doctors row with id 1, neither in the input nor in the database",
        "Error: 4 problems in the input; nothing was imported",
    ]
    assert nothing_stored(database)


def test_csv_problems_point_at_the_line(database: DatabaseUnderTest, tmp_path: Path) -> None:
    doctors_csv = tmp_path / "doctors.csv"
    doctors_csv.write_text("id,name,created_at\n1,Dr. A,\n")
    rules_csv = tmp_path / "availability_rules.csv"
    rules_csv.write_text(
        "id,facility_id,doctor_id,day_of_week,start_time,end_time,slot_duration_minutes\n"
        '1,1,1,mon,09:00,10:00,30\n2,"1",1,tue,09:00,10:00,30\n'
    )
    result = import_(database, doctors_csv, rules_csv)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{doctors_csv}:1: created_at is set by the database: leave it out",
        f"{rules_csv}:2: facility_id: no facilities row with id 1, neither in the input "
        "nor in the database",
        f"{rules_csv}:3: facility_id: no facilities row with id 1, neither in the input "
        "nor in the database",
        "Error: 3 problems in the input; nothing was imported",
    ]
    assert nothing_stored(database)


def test_a_file_that_does_not_parse_names_its_line(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[[doctors]]\nname = "Dr. A"\nid = = 3\n')
    result = import_(database, path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(f"{path}:3: not valid TOML: ")
    other = tmp_path / "nurses.csv"
    other.write_text("id,name\n")
    assert import_(database, other).stderr.startswith(
        f"{other}:1: cannot tell the table from the file name"
    )


def test_references_may_point_at_rows_already_in_the_database(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    facility = add_facility(database.engine, "Existing", "Europe/Paris")
    doctor = add_doctor(database.engine)
    path = tmp_path / "availability_rules.csv"
    path.write_text(
        "facility_id,doctor_id,day_of_week,start_time,end_time,slot_duration_minutes\n"
        f"{facility},{doctor},WED,14:00,16:00,60\n"
    )
    result = import_(database, path)
    assert result.exit_code == 0, result.stderr
    assert [row[1:] for row in stored(database)["availability_rules"]] == [
        (facility, doctor, None, 3, time(14), time(16), 60, 0, None, None, True, None)
    ]


def test_rows_with_an_id_are_updated_and_rows_without_one_inserted(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    assert import_(database, *write_toml(tmp_path, SCHEDULE)).exit_code == 0
    changed = {
        "facilities": [{"id": 2, "name": "Kathmandu Thamel", "timezone": "Asia/Kathmandu"}],
        "doctors": [{"name": "Dr. New"}],
        "availability_rules": [{**SCHEDULE["availability_rules"][1], "is_active": True}],
    }
    update_dir = tmp_path / "update"
    update_dir.mkdir()
    result = run_cli(
        "import", "--json", str(write_json(update_dir, changed)[0]), "--database-url", database.url
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "dry_run": False,
        "inserted": 1,
        "updated": 2,
        "tables": {
            "facilities": {"inserted": 0, "updated": 1},
            "doctors": {"inserted": 1, "updated": 0},
            "services": {"inserted": 0, "updated": 0},
            "availability_rules": {"inserted": 0, "updated": 1},
            "availability_exceptions": {"inserted": 0, "updated": 0},
        },
    }
    rows = stored(database)
    assert rows["facilities"] == [
        (1, "Berlin Mitte", "Europe/Berlin", "DE", "BE"),
        (2, "Kathmandu Thamel", "Asia/Kathmandu", None, None),
    ]
    assert [row[1] for row in rows["doctors"]] == ["Dr. Weber", "Dr. Sharma", "Dr. New"]
    assert rows["availability_rules"][1][-2] is True, "is_active back to its default"
    again = import_(database, *write_toml(tmp_path, SCHEDULE))
    assert again.stdout.strip().endswith("(inserted 0, updated 10)")
    assert stored(database)["availability_rules"] == EXPECTED["availability_rules"]


def test_new_rows_after_explicit_ids_get_fresh_ids(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    """On PostgreSQL explicit ids leave the sequence behind unless import moves it.

    (MariaDB keeps its AUTO_INCREMENT across the tests' cleaning, so ids are compared by
    order, not value.)
    """
    schedule = {"facilities": [*SCHEDULE["facilities"], {"name": "No id yet"}]}
    assert import_(database, *write_csv(tmp_path, schedule)).exit_code == 0
    add_facility(database.engine, "Added by the web app")
    rows = stored(database)["facilities"]
    assert [row[1] for row in rows] == [
        "Berlin Mitte",
        "Kathmandu",
        "No id yet",
        "Added by the web app",
    ]
    assert [row[0] for row in rows[:2]] == [1, 2]
    assert 2 < rows[2][0] < rows[3][0]


def test_dry_run_counts_and_writes_nothing(database: DatabaseUnderTest, tmp_path: Path) -> None:
    with database.engine.begin() as connection:
        connection.execute(insert(facilities).values(id=1, name="Before"))
    paths = write_json(tmp_path, SCHEDULE)
    result = run_cli("import", *map(str, paths), "--dry-run", "--database-url", database.url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "Would import 2 facilities, 2 doctors, 1 service, 3 rules, 2 exceptions "
        "(insert 9, update 1); nothing was written"
    )
    as_json = run_cli(
        "import", *map(str, paths), "--dry-run", "--json", "--database-url", database.url
    )
    counts = json.loads(as_json.stdout)
    assert counts["dry_run"] is True
    assert counts["tables"]["facilities"] == {"inserted": 1, "updated": 1}
    assert stored(database)["facilities"] == [(1, "Before", "UTC", None, None)]
    assert stored(database)["doctors"] == []


# --------------------------------------------------------------------------------------
# Large files: read a row at a time, written in batches, still all or nothing

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def large_schedule(rules: int) -> dict[str, list[dict[str, Any]]]:
    """`rules` rules across 40 facilities and 400 doctors, every optional column varied.

    A tenth of the rules have no id (the database picks theirs), and the tables come in
    the file after the rules that refer to them.
    """
    zones = ("Europe/Berlin", "Asia/Kathmandu", "America/New_York", "UTC")
    schedule: dict[str, list[dict[str, Any]]] = {"availability_rules": []}
    for n in range(rules):
        hour = 6 + n % 12
        rule: dict[str, Any] = {
            "facility_id": 1 + n % 40,
            "doctor_id": 1 + n % 400,
            "day_of_week": WEEKDAYS[n % 7] if n % 2 else n % 7,
            "start_time": f"{hour:02d}:{n % 4 * 15:02d}",
            "end_time": f"{hour + 2:02d}:00",
            "slot_duration_minutes": 10 + n % 50,
            "buffer_minutes": n % 5,
            "valid_from": f"2083-{1 + n % 12:02d}-01",
            "is_active": n % 3 != 0,
        }
        if n % 10:
            rule["id"] = n + 1
        if n % 4 == 0:
            rule["service_id"] = 1 + n % 3
        schedule["availability_rules"].append(rule)
    schedule["services"] = [{"id": n, "name": f"Service {n}"} for n in range(1, 4)]
    schedule["doctors"] = [{"id": n, "name": f"Doctor {n}"} for n in range(1, 401)]
    schedule["facilities"] = [
        {"id": n, "name": f"Facility {n}", "timezone": zones[n % 4]} for n in range(1, 41)
    ]
    return schedule


def as_stored(rule: dict[str, Any]) -> tuple[Any, ...]:
    """A rule of `large_schedule` as the table holds it, without its id."""
    day = rule["day_of_week"]
    return (
        rule["facility_id"],
        rule["doctor_id"],
        rule.get("service_id"),
        WEEKDAYS.index(day) if isinstance(day, str) else day,
        time.fromisoformat(rule["start_time"]),
        time.fromisoformat(rule["end_time"]),
        rule["slot_duration_minutes"],
        rule["buffer_minutes"],
        date.fromisoformat(rule["valid_from"]),
        None,
        rule["is_active"],
        None,
    )


def test_a_large_json_file_round_trips_exactly_to_the_tables(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    schedule = large_schedule(20_000)
    [path] = write_json(tmp_path, schedule)

    result = import_(database, path)

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "Imported 40 facilities, 400 doctors, 3 services, 20,000 rules, 0 exceptions "
        "(inserted 20,443, updated 0)"
    )
    rows = stored(database)
    assert rows["facilities"] == [(*f.values(), None, None) for f in schedule["facilities"]]
    assert rows["doctors"] == [tuple(d.values()) for d in schedule["doctors"]]
    assert rows["services"] == [(n, f"Service {n}", None) for n in range(1, 4)]
    given = {rule["id"]: as_stored(rule) for rule in schedule["availability_rules"] if "id" in rule}
    by_id = {row[0]: row[1:] for row in rows["availability_rules"]}
    assert {row_id: by_id[row_id] for row_id in given} == given
    new_ids = sorted(set(by_id) - set(given))
    assert min(new_ids) > max(given), "a generated id never takes one the file gives"
    assert [by_id[row_id] for row_id in new_ids] == [
        as_stored(rule) for rule in schedule["availability_rules"] if "id" not in rule
    ]

    again = import_(database, "--json", path)

    assert json.loads(again.stdout)["tables"]["availability_rules"] == {
        "inserted": 2_000,
        "updated": 18_000,
    }
    assert {row[0]: row[1:] for row in stored(database)["availability_rules"]}.items() >= (
        given.items()
    )


def test_a_problem_on_the_last_row_of_a_large_file_writes_nothing(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    schedule = large_schedule(20_000)
    schedule["facilities"].append({"id": 41, "name": "Late", "timezone": "Mars/Base"})
    [path] = write_json(tmp_path, schedule)
    mars = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "Mars" in line)

    result = import_(database, path)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:{mars}: timezone: unknown time zone 'Mars/Base': use an IANA name such as "
        "Europe/Berlin",
        "Error: 1 problem in the input; nothing was imported",
    ]
    assert nothing_stored(database)


def test_a_reference_to_an_id_no_row_defines_is_found_after_the_last_row(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    schedule = large_schedule(3_000)
    schedule["doctors"].pop(41)  # doctor 42, whom rules 42, 442, ... refer to
    [path] = write_json(tmp_path, schedule)
    text = path.read_text().splitlines()

    result = import_(database, path)

    assert result.exit_code == 2
    problems = result.stderr.splitlines()[:-1]
    assert len(problems) == 8
    for problem, n in zip(problems, range(41, 3_000, 400), strict=True):
        line = int(problem.split(":")[1])
        assert text[line - 1].strip() == '"doctor_id": 42,', problem
        assert problem.endswith(
            "doctor_id: no doctors row with id 42, neither in the input nor in the database"
        )
        assert f'"slot_duration_minutes": {10 + n % 50}' in "\n".join(text[line : line + 6])
    assert nothing_stored(database)


def test_windows_line_ends_read_as_before(database: DatabaseUnderTest, tmp_path: Path) -> None:
    """CRLF files read as `Path.read_text` reads them: lines counted once, cells with \\n."""
    facilities_csv = tmp_path / "facilities.csv"
    facilities_csv.write_bytes(b'id,name\r\n1,"North\r\nWing"\r\n2,South\r\n')
    exceptions_json = tmp_path / "exceptions.json"
    exceptions_json.write_bytes(
        b'{\r\n  "exceptions": [\r\n    {\r\n      "facility_id": 1,\r\n'
        b'      "start_date": "2083-13-01"\r\n    }\r\n  ]\r\n}\r\n'
    )

    result = import_(database, facilities_csv, exceptions_json)

    assert result.stderr.splitlines()[0] == (
        f"{exceptions_json}:5: start_date: must be a date YYYY-MM-DD, got '2083-13-01'"
    )
    assert import_(database, facilities_csv).exit_code == 0
    assert stored(database)["facilities"] == [
        (1, "North\nWing", "UTC", None, None),
        (2, "South", "UTC", None, None),
    ]


def test_a_file_that_is_not_utf8_is_refused_before_anything_is_read(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    lines = ["id,name", *(f"{n},Dr. {n:0>90}" for n in range(1, 12_000))]
    head = "\n".join(lines)[: (1 << 20) - 1]  # then "é" straddles the 1 MiB chunks
    head = head[: head.rindex("\n")]
    last = int(head.rsplit("\n", 1)[1].split(",")[0]) + 1
    filler = "x" * ((1 << 20) - 1 - len(head) - len(f"\n{last},"))
    good = tmp_path / "doctors.csv"
    good.write_text(f"{head}\n{last},{filler}é\n", encoding="utf-8")
    assert good.read_bytes()[(1 << 20) - 1 : (1 << 20) + 1] == "é".encode()
    latin = tmp_path / "facilities.csv"
    latin.write_bytes("id,name\n1,Zürich\n".encode("latin-1"))
    with pytest.raises(UnicodeDecodeError) as whole:
        latin.read_text(encoding="utf-8")

    result = import_(database, good, latin)

    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {latin} is not UTF-8 text: {whole.value.reason}"
    assert nothing_stored(database)
    assert import_(database, good).exit_code == 0
    assert stored(database)["doctors"][-1] == (last, f"{filler}é")


def test_a_facilitys_contact_data_is_imported_and_cleared_when_left_out(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    with_contact = tmp_path / "facilities.csv"
    with_contact.write_text(
        "id,name,phone,website,address_line,city,district,state,postal_code,country\n"
        "1,North,+49 30 1,https://n.example,Hauptstr. 1,Berlin,Mitte,BE,10117,DE\n"
    )
    without = tmp_path / "later" / "facilities.csv"
    without.parent.mkdir()
    without.write_text("id,name\n1,North\n")
    columns = [facilities.c[name] for name, _ in CONTACT_COLUMNS]

    first = import_(database, with_contact)
    with database.engine.connect() as connection:
        imported = connection.execute(select(*columns)).one()
    second = import_(database, without)
    with database.engine.connect() as connection:
        cleared = connection.execute(select(*columns)).one()

    assert first.exit_code == 0, first.stderr
    assert tuple(imported) == (
        "+49 30 1", "https://n.example", "Hauptstr. 1", "Berlin", "Mitte", "BE", "10117", "DE"
    )  # fmt: skip
    assert second.exit_code == 0, second.stderr
    assert tuple(cleared) == (None,) * 8
