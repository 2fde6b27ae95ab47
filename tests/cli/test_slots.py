"""`slotgen slots`: local times across DST changes, per-day counts, filters, on every backend."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, update

from slotgen.db.schema import availability_slots, doctors, facilities
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, utc
from tests.helpers import CliResult, run_cli

SLOT_KEYS = {
    "id",
    "facility_id",
    "facility",
    "doctor_id",
    "doctor",
    "service_id",
    "service",
    "rule_id",
    "status",
    "start_at",
    "end_at",
    "start_local",
    "end_local",
    "timezone",
}


def cli(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli(*args, "--database-url", database.url)


def slots_json(database: DatabaseUnderTest, *args: str) -> dict[str, Any]:
    result = cli(database, "slots", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def generate(database: DatabaseUnderTest, first: str, last: str) -> None:
    result = cli(database, "generate", "--start-date", first, "--end-date", last)
    assert result.exit_code == 0, result.stderr


def set_status(database: DatabaseUnderTest, start_at: datetime, status: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            update(availability_slots)
            .where(availability_slots.c.start_at == start_at)
            .values(status=status)
        )


@pytest.fixture
def dst_clinics(database: DatabaseUnderTest) -> dict[str, int]:
    """A 01:00-04:00 hourly rule on each zone's spring-forward Sunday (01:00-03:00 in
    half-hours on Lord Howe's half-hour fall-back), with one Saturday-evening rule too."""
    engine = database.engine
    berlin = add_facility(engine, "Berlin", "Europe/Berlin")
    new_york = add_facility(engine, "New York", "America/New_York")
    lord_howe = add_facility(engine, "Lord Howe", "Australia/Lord_Howe")
    lee, kim, roe = add_doctor(engine, "Dr. Lee"), add_doctor(engine, "Dr. Kim"), add_doctor(engine)
    add_rule(engine, berlin, lee, 0, "01:00", "04:00", 60)
    add_rule(engine, new_york, kim, 0, "01:00", "04:00", 60)
    add_rule(engine, new_york, kim, 6, "22:00", "00:00", 60)  # after midnight UTC
    add_rule(engine, lord_howe, roe, 0, "01:00", "03:00", 30)
    generate(database, "2083-03-13", "2083-03-28")
    generate(database, "2083-04-04", "2083-04-04")
    return {"berlin": berlin, "new_york": new_york, "lord_howe": lord_howe, "kim": kim}


def starts(listing: dict[str, Any], facility_id: int, day: str) -> list[str]:
    return [
        slot["start_local"]
        for slot in listing["slots"]
        if slot["facility_id"] == facility_id and slot["start_local"].startswith(day)
    ]


def test_local_times_across_dst_changes(
    database: DatabaseUnderTest, dst_clinics: dict[str, int]
) -> None:
    berlin = slots_json(database, "--facility", str(dst_clinics["berlin"]), "--date", "2083-03-28")
    assert starts(berlin, dst_clinics["berlin"], "2083-03-28") == [
        "2083-03-28 01:00 +01:00",
        "2083-03-28 03:00 +02:00",
    ]
    first = berlin["slots"][0]
    assert set(first) == SLOT_KEYS
    assert first["start_at"] == "2083-03-28T00:00:00+00:00"
    assert first["end_local"] == "2083-03-28 03:00 +02:00"
    assert first["timezone"] == "Europe/Berlin"
    assert first["doctor"] == "Dr. Lee"
    assert first["service"] is None

    new_york = slots_json(
        database, "--facility", str(dst_clinics["new_york"]), "--date", "2083-03-14"
    )
    assert starts(new_york, dst_clinics["new_york"], "2083-03-14") == [
        "2083-03-14 01:00 -05:00",
        "2083-03-14 03:00 -04:00",
    ]

    lord_howe = slots_json(
        database, "--facility", str(dst_clinics["lord_howe"]), "--date", "2083-04-04"
    )
    assert starts(lord_howe, dst_clinics["lord_howe"], "2083-04-04") == [
        "2083-04-04 01:00 +11:00",
        "2083-04-04 01:30 +11:00",
        "2083-04-04 01:30 +10:30",
        "2083-04-04 02:00 +10:30",
        "2083-04-04 02:30 +10:30",
    ]
    assert [slot["start_at"] for slot in lord_howe["slots"]][:3] == [
        "2083-04-03T14:00:00+00:00",
        "2083-04-03T14:30:00+00:00",
        "2083-04-03T15:00:00+00:00",
    ]
    assert lord_howe["ranges"] == [
        {
            "facility_id": dst_clinics["lord_howe"],
            "timezone": "Australia/Lord_Howe",
            "first_day": "2083-04-04",
            "last_day": "2083-04-04",
        }
    ]


def test_per_day_counts_use_local_dates(
    database: DatabaseUnderTest, dst_clinics: dict[str, int]
) -> None:
    """Saturday 22:00 and 23:00 in New York are Sunday in UTC: they count on Saturday."""
    ny = dst_clinics["new_york"]
    set_status(database, utc(2083, 3, 14, 3, 0), "booked")  # Saturday 23:00 EST
    set_status(database, utc(2083, 3, 14, 7, 0), "reserved")  # Sunday 03:00 EDT
    listing = slots_json(
        database, "--facility", str(ny), "--from", "2083-03-13", "--to", "2083-03-14"
    )
    assert listing["total"] == 4
    assert listing["days"] == [
        {
            "date": "2083-03-13",
            "facility_id": ny,
            "facility": "New York",
            "timezone": "America/New_York",
            "open": 1,
            "reserved": 0,
            "booked": 1,
            "other": 0,
            "total": 2,
        },
        {
            "date": "2083-03-14",
            "facility_id": ny,
            "facility": "New York",
            "timezone": "America/New_York",
            "open": 1,
            "reserved": 1,
            "booked": 0,
            "other": 0,
            "total": 2,
        },
    ]

    every = slots_json(database, "--from", "2083-03-13", "--to", "2083-04-04")
    berlin_sundays = new_york_sundays = 3 + 3 + 2 + 3  # 14, 21, 28 March (DST), 4 April
    new_york_saturdays = 3 * 2
    lord_howe_sundays = 3 * 4 + 5  # an extra half hour on its fall-back night
    assert every["total"] == (
        berlin_sundays + new_york_sundays + new_york_saturdays + lord_howe_sundays
    )
    per_day = {(d["date"], d["facility_id"]): d["total"] for d in every["days"]}
    assert per_day[("2083-03-28", dst_clinics["berlin"])] == 2
    assert per_day[("2083-03-21", dst_clinics["berlin"])] == 3
    assert per_day[("2083-04-04", dst_clinics["lord_howe"])] == 5
    assert sum(per_day.values()) == every["total"]


def test_status_filter_and_limit(
    database: DatabaseUnderTest, dst_clinics: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    set_status(database, utc(2083, 3, 28, 0, 0), "booked")  # Berlin 01:00 CET
    booked = slots_json(
        database, "--from", "2083-03-13", "--to", "2083-03-31", "--status", "booked"
    )
    assert [slot["start_local"] for slot in booked["slots"]] == ["2083-03-28 01:00 +01:00"]
    assert [(d["date"], d["booked"], d["total"]) for d in booked["days"]] == [("2083-03-28", 1, 1)]

    limited = slots_json(database, "--from", "2083-03-13", "--to", "2083-03-31", "--limit", "2")
    assert len(limited["slots"]) == 2
    assert limited["total"] == 34
    assert limited["limit"] == 2

    table = cli(database, "slots", "--from", "2083-03-13", "--to", "2083-03-31", "--limit", "3")
    assert table.exit_code == 0, table.stderr
    assert "2083-03-14 01:00 +11:00" in table.stdout  # Lord Howe comes first in real time
    assert "Per local day" in table.stdout
    assert "Listed 3 of 34 slots" in table.stderr

    nothing = cli(database, "slots", "--date", "2083-05-01")
    assert nothing.exit_code == 0
    assert nothing.stderr.strip() == "No slots match."


def test_default_range_is_the_coming_week(database: DatabaseUnderTest) -> None:
    engine = database.engine
    clinic = add_facility(engine, "Kathmandu", "Asia/Kathmandu")
    lee = add_doctor(engine)
    for day in range(7):
        add_rule(engine, clinic, lee, day, "23:00", "00:00", 30)
    generate(database, "today", "+10d")
    listing = slots_json(database)
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Kathmandu")).date()
    dates = {date.fromisoformat(d["date"]) for d in listing["days"]}
    assert dates <= {today + timedelta(days=n) for n in range(7)}
    assert {today + timedelta(days=n) for n in range(1, 7)} <= dates
    assert listing["ranges"][0]["first_day"] == today.isoformat()
    assert listing["ranges"][0]["last_day"] == (today + timedelta(days=6)).isoformat()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--date", "today", "--from", "today"),
            "Error: give --date, or --from and --to, not both",
        ),
        (("--date", "someday"), "Error: bad date 'someday': use YYYY-MM-DD"),
        (("--from", "2083-03-05", "--to", "2083-03-01"), "Error: end 2083-03-01 is before start"),
        (("--from", "2083-01-01", "--to", "2084-06-01"), "Error: 2083-01-01 to 2084-06-01 is"),
        (("--doctor", "42"), "Error: unknown doctor id 42"),
    ],
)
def test_bad_input(database: DatabaseUnderTest, args: tuple[str, ...], message: str) -> None:
    add_facility(database.engine, "North", "Europe/Berlin")
    result = cli(database, "slots", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_short_list_is_the_earliest_slots_of_all_facilities_in_real_time(
    database: DatabaseUnderTest, dst_clinics: dict[str, int]
) -> None:
    """Each facility's list is cut at the limit before the lists are merged: the merge must
    still give the earliest slots of all, in real time, as one full ordered read does."""
    window = ("--from", "2083-03-13", "--to", "2083-04-04")
    every = slots_json(database, *window, "--limit", "1000")
    order = sorted(
        every["slots"], key=lambda slot: (slot["start_at"], slot["doctor_id"], slot["id"])
    )
    assert every["slots"] == order
    assert {slot["facility_id"] for slot in order} == {
        dst_clinics["berlin"],
        dst_clinics["new_york"],
        dst_clinics["lord_howe"],
    }
    for limit in (1, 5, 13):
        short = slots_json(database, *window, "--limit", str(limit))
        assert short["slots"] == order[:limit]
        assert short["total"] == every["total"]

    listed = cli(database, "slots", *window, "--limit", "5")
    rows = [row for row in listed.stdout.splitlines() if row[:1].isdigit()]
    assert [int(row.split()[0]) for row in rows] == [slot["id"] for slot in order[:5]]


def test_hundreds_of_facilities_list_and_count_like_a_few(database: DatabaseUnderTest) -> None:
    """A regional network of 520 facilities in four zones: more facility lists than SQLite
    joins in one UNION ALL. The short list is still the earliest slots of all, in real time,
    and the day counts still cover every slot on its facility's local date."""
    zones = ("UTC", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe")
    first = datetime(2083, 3, 1, 12, tzinfo=UTC)
    with database.engine.begin() as connection:
        connection.execute(
            insert(facilities),
            [{"id": n, "name": f"Site {n}", "timezone": zones[n % 4]} for n in range(1, 521)],
        )
        connection.execute(insert(doctors), [{"id": n, "name": f"Dr. {n}"} for n in range(1, 521)])
        connection.execute(
            insert(availability_slots),
            [
                {
                    "facility_id": n,
                    "doctor_id": n,
                    "start_at": first + timedelta(minutes=(n * 37 + 60 * hour) % 720),
                    "end_at": first + timedelta(minutes=(n * 37 + 60 * hour) % 720 + 30),
                }
                for n in range(1, 521)
                for hour in (0, 5)
            ],
        )
    window = ("--from", "2083-03-01", "--to", "2083-03-02")
    every = slots_json(database, *window, "--limit", "5000")
    assert every["total"] == len(every["slots"]) == 1040
    order = sorted(
        every["slots"], key=lambda slot: (slot["start_at"], slot["doctor_id"], slot["id"])
    )
    assert every["slots"] == order
    short = slots_json(database, *window, "--limit", "9")
    assert short["slots"] == order[:9]
    assert short["total"] == 1040

    local_days: dict[tuple[int, str], int] = {}
    for slot in order:
        key = (slot["facility_id"], slot["start_local"][:10])
        local_days[key] = local_days.get(key, 0) + 1
    assert {(day["facility_id"], day["date"]): day["total"] for day in every["days"]} == local_days
    assert {day for _, day in local_days} == {"2083-03-01", "2083-03-02"}  # Lord Howe, +11

    listed = cli(database, "slots", *window, "--limit", "4")
    assert listed.exit_code == 0, listed.stderr
    rows = [row for row in listed.stdout.splitlines() if row[:1].isdigit()]
    assert [int(row.split()[0]) for row in rows] == [slot["id"] for slot in order[:4]]
    assert "Listed 4 of 1,040 slots" in listed.stderr
