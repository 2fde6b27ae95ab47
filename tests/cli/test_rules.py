"""`slotgen rules list` and `slotgen rules check`, through the CLI, on every backend."""

import json
from datetime import date
from typing import Any

import pytest

from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, add_service
from tests.helpers import CliResult, run_cli

RULE_KEYS = {
    "id",
    "doctor_id",
    "doctor",
    "facility_id",
    "facility",
    "timezone",
    "day_of_week",
    "weekday",
    "start_time",
    "end_time",
    "slot_duration_minutes",
    "buffer_minutes",
    "service_id",
    "service",
    "valid_from",
    "valid_until",
    "is_active",
    "recurrence",
    "repeats",
}


def rules(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli("rules", *args, "--database-url", database.url)


def check_json(database: DatabaseUnderTest, exit_code: int) -> dict[str, Any]:
    result = rules(database, "check", "--json")
    assert result.exit_code == exit_code, result.stderr
    return dict(json.loads(result.stdout))


def test_list_shows_rules_in_local_terms(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    engine = database.engine
    north = add_facility(engine, "North", "Europe/Berlin")
    south = add_facility(engine, "South", "America/New_York")
    lee, kim = add_doctor(engine, "Dr. Lee"), add_doctor(engine, "Dr. Kim")
    checkup = add_service(engine, "Checkup")
    monday = add_rule(
        engine,
        north,
        lee,
        1,
        "09:00",
        "12:00",
        30,
        buffer_minutes=10,
        service_id=checkup,
        valid_from=date(2083, 1, 1),
        valid_until=date(2083, 6, 30),
    )
    late = add_rule(engine, south, kim, 5, "18:00", "00:00", 45, is_active=False)

    table = rules(database, "list")
    assert table.exit_code == 0, table.stderr
    for text in ("Mon", "09:00-12:00", "Europe/Berlin", "30 min +10", "Checkup", "2083-06-30"):
        assert text in table.stdout
    for text in ("Fri", "18:00-24:00", "America/New_York", "45 min", "any", "always", "no"):
        assert text in table.stdout

    result = rules(database, "list", "--json")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)["rules"]
    assert [rule["id"] for rule in listed] == [monday, late]
    assert all(set(rule) == RULE_KEYS for rule in listed)
    assert listed[0] | {"id": 0, "doctor_id": 0, "facility_id": 0, "service_id": 0} == {
        "id": 0,
        "doctor_id": 0,
        "doctor": "Dr. Lee",
        "facility_id": 0,
        "facility": "North",
        "timezone": "Europe/Berlin",
        "day_of_week": 1,
        "weekday": "Monday",
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_duration_minutes": 30,
        "buffer_minutes": 10,
        "service_id": 0,
        "service": "Checkup",
        "valid_from": "2083-01-01",
        "valid_until": "2083-06-30",
        "is_active": True,
        "recurrence": None,
        "repeats": "every week",
    }
    assert listed[1]["end_time"] == "00:00"
    assert listed[1]["service"] is None
    assert listed[1]["is_active"] is False

    by_doctor = json.loads(rules(database, "list", "--doctor", str(kim), "--json").stdout)
    assert [rule["id"] for rule in by_doctor["rules"]] == [late]
    by_facility = json.loads(rules(database, "list", "--facility", str(north), "--json").stdout)
    assert [rule["id"] for rule in by_facility["rules"]] == [monday]


def test_list_rejects_an_unknown_id(database: DatabaseUnderTest) -> None:
    result = rules(database, "list", "--facility", "99")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: unknown facility id 99"


def test_check_is_quiet_about_good_rules(database: DatabaseUnderTest) -> None:
    engine = database.engine
    north = add_facility(engine, "North", "Europe/Berlin")
    lee = add_doctor(engine)
    add_rule(engine, north, lee, 1, "09:00", "12:00")
    add_rule(engine, north, lee, 1, "12:00", "17:00")  # adjacent, not overlapping
    add_rule(engine, north, lee, 2, "09:00", "12:00")
    result = rules(database, "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "No problems found in 3 rules."
    assert check_json(database, 0) == {
        "rules_checked": 3,
        "counts": {"error": 0, "warning": 0, "note": 0},
        "findings": [],
    }


def test_check_finds_every_kind_of_problem(database: DatabaseUnderTest) -> None:
    engine = database.engine
    berlin = add_facility(engine, "North", "Europe/Berlin")
    london = add_facility(engine, "West", "Europe/London")
    mars = add_facility(engine, "Mars", "Mars/Olympus_Mons")
    lee, kim, roe = add_doctor(engine, "Dr. Lee"), add_doctor(engine, "Dr. Kim"), add_doctor(engine)
    same_a = add_rule(engine, berlin, lee, 1, "09:00", "12:00")
    same_b = add_rule(engine, berlin, lee, 1, "11:00", "13:00")
    # 08:30-09:30 in London is 09:30-10:30 in Berlin, inside Kim's Berlin morning.
    cross_a = add_rule(engine, berlin, kim, 2, "09:00", "12:00")
    cross_b = add_rule(engine, london, kim, 2, "08:30", "09:30")
    add_rule(engine, london, kim, 2, "11:00", "12:00")  # 12:00-13:00 in Berlin: fine
    too_long = add_rule(engine, berlin, roe, 3, "09:00", "09:30", 45)
    backwards_validity = add_rule(
        engine, berlin, roe, 4, valid_from=date(2083, 5, 1), valid_until=date(2083, 4, 1)
    )
    bad_zone = add_rule(engine, mars, roe, 5)
    bad_time = add_rule(engine, berlin, roe, 6, "12:00", "09:00")
    inactive = add_rule(engine, berlin, roe, 0, is_active=False)
    expired = add_rule(engine, berlin, roe, 0, valid_until=date(2020, 1, 1))

    result = rules(database, "check")
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.strip().splitlines()
    expected_prefixes = {
        f"error rule {same_a}, {same_b}: overlap",
        f"error rule {cross_a}, {cross_b}: overlap",
        f"error rule {too_long}: slot_duration_minutes 45 is longer than",
        f"error rule {backwards_validity}: valid_until 2083-04-01 is before valid_from",
        f"error rule {bad_zone}: facility has an unknown time zone 'Mars/Olympus_Mons'",
        f"error rule {bad_time}: end_time 09:00 is not after start_time 12:00",
        f"note rule {inactive}: inactive",
        f"warning rule {expired}: expired: valid_until 2020-01-01 is before today",
    }
    assert len(lines) == len(expected_prefixes), result.stdout
    for prefix in expected_prefixes:
        assert any(line.startswith(prefix) for line in lines), (prefix, result.stdout)
    assert "first collide at" in next(line for line in lines if f"rule {cross_a}," in line)
    assert "6 error(s), 1 warning(s), 1 note(s) in 11 rules." in result.stderr

    report = check_json(database, 1)
    assert report["rules_checked"] == 11
    assert report["counts"] == {"error": 6, "warning": 1, "note": 1}
    kinds = {(tuple(f["rule_ids"]), f["kind"], f["level"]) for f in report["findings"]}
    assert kinds == {
        ((same_a, same_b), "overlap", "error"),
        ((cross_a, cross_b), "overlap", "error"),
        ((too_long,), "never_produces", "error"),
        ((backwards_validity,), "bad_row", "error"),
        ((bad_zone,), "bad_row", "error"),
        ((bad_time,), "bad_row", "error"),
        ((inactive,), "inactive", "note"),
        ((expired,), "expired", "warning"),
    }


def test_check_finds_overlaps_that_only_exist_between_dst_changes(
    database: DatabaseUnderTest,
) -> None:
    """Berlin 15:00 and New York 10:00 are an hour apart, except in the weeks when only
    one of the two zones is on summer time: then the windows collide."""
    engine = database.engine
    berlin = add_facility(engine, "North", "Europe/Berlin")
    new_york = add_facility(engine, "South", "America/New_York")
    lee = add_doctor(engine)
    first = add_rule(engine, berlin, lee, 1, "15:00", "16:00")
    second = add_rule(engine, new_york, lee, 1, "10:00", "11:00")
    report = check_json(database, 1)
    assert [(f["rule_ids"], f["kind"]) for f in report["findings"]] == [
        ([first, second], "overlap")
    ]
    assert " 14:00 UTC" in report["findings"][0]["message"]


def test_check_warnings_and_notes_alone_exit_zero(database: DatabaseUnderTest) -> None:
    engine = database.engine
    north = add_facility(engine, "North", "Asia/Kathmandu")
    lee = add_doctor(engine)
    inactive = add_rule(engine, north, lee, 1, is_active=False)
    expired = add_rule(engine, north, lee, 1, valid_until=date(2021, 3, 1))
    result = rules(database, "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"note rule {inactive}: inactive (is_active is false): generate ignores it",
        f"warning rule {expired}: expired: valid_until 2021-03-01 is before today "
        f"({_today('Asia/Kathmandu')} in Asia/Kathmandu); it produces no more slots",
    ]


def _today(zone: str) -> date:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
