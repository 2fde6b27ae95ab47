"""`slotgen holidays sync|openings|restore` and `slotgen facilities`, on every backend."""

import json
import re
import shlex
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from slotgen.db.schema import availability_exceptions, availability_slots, facilities
from tests.cli.test_check_crontab import job_lines, slotgen_call
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_exception, add_facility, add_rule, add_run, run_rows
from tests.helpers import CliResult, run_cli, run_installed

CLINICS = """
[[facilities]]
id = 1
name = "Munich"
timezone = "Europe/Berlin"
holiday_country = "de"
holiday_subdivision = "BY"

[[facilities]]
id = 2
name = "Berlin"
timezone = "Europe/Berlin"
holiday_country = "DE"
holiday_subdivision = "BE"

[[facilities]]
id = 3
name = "No calendar"
timezone = "UTC"
"""
EPIPHANY = date(2083, 1, 6)
WOMENS_DAY = date(2083, 3, 8)


def cli(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli(*args, "--database-url", database.url)


def cli_json(database: DatabaseUnderTest, *args: str) -> dict[str, Any]:
    result = cli(database, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def sync_2083(database: DatabaseUnderTest, *args: str) -> dict[str, Any]:
    return cli_json(database, "holidays", "sync", "--years", "2083", *args)


def exceptions(database: DatabaseUnderTest) -> list[Any]:
    e = availability_exceptions.c
    with database.engine.connect() as connection:
        return list(
            connection.execute(select(availability_exceptions).order_by(e.facility_id, e.id))
        )


def closed_days(database: DatabaseUnderTest, facility_id: int) -> dict[date, str]:
    return {
        row.start_date: row.reason for row in exceptions(database) if row.facility_id == facility_id
    }


@pytest.fixture
def clinics(database: DatabaseUnderTest, tmp_path: Path) -> DatabaseUnderTest:
    """Munich (Bavaria), Berlin and a facility without a calendar, imported from a file."""
    schedule = tmp_path / "clinics.toml"
    schedule.write_text(CLINICS)
    imported = cli(database, "import", str(schedule))
    assert imported.exit_code == 0, imported.stderr
    return database


def test_import_reads_the_calendar_and_facilities_shows_it(clinics: DatabaseUnderTest) -> None:
    listed = cli_json(clinics, "facilities")["facilities"]
    table = cli(clinics, "facilities").stdout

    assert [(f["id"], f["holiday_calendar"]) for f in listed] == [
        (1, "holidays:DE-BY"),
        (2, "holidays:DE-BE"),
        (3, None),
    ]
    assert listed[0]["holiday_country"] == "DE"  # upper-cased on the way in
    assert re.search(r"2 +Berlin +Europe/Berlin +DE +BE", table)


def test_bavaria_closes_on_epiphany_and_berlin_on_womens_day(clinics: DatabaseUnderTest) -> None:
    result = sync_2083(clinics)

    munich, berlin = closed_days(clinics, 1), closed_days(clinics, 2)
    assert EPIPHANY in munich
    assert EPIPHANY not in berlin
    assert WOMENS_DAY in berlin
    assert WOMENS_DAY not in munich
    assert closed_days(clinics, 3) == {}
    assert result["created"] == len(munich) + len(berlin)
    assert all(day.year == 2083 for day in [*munich, *berlin])
    for row in exceptions(clinics):
        assert (row.doctor_id, row.start_time, row.end_time, row.type) == (
            None,
            None,
            None,
            "blocked",
        )
        assert row.end_date in (None, row.start_date)
        assert row.source == f"holidays:DE-{'BY' if row.facility_id == 1 else 'BE'}"
    assert munich[EPIPHANY] == "Heilige Drei Könige"  # the country's own language
    assert [run.job for run in run_rows(clinics.engine)] == ["holidays"]
    assert run_rows(clinics.engine)[0].stats["created"] == result["created"]


def test_a_second_sync_changes_nothing(clinics: DatabaseUnderTest) -> None:
    sync_2083(clinics)
    before = [tuple(row) for row in exceptions(clinics)]

    again = sync_2083(clinics)
    text = cli(clinics, "holidays", "sync", "--years", "2083")

    assert (again["created"], again["updated"], again["removed"]) == (0, 0, 0)
    assert again["unchanged"] == len(before)
    assert [tuple(row) for row in exceptions(clinics)] == before
    assert "(nothing to change)" in text.stdout


def test_a_sync_writes_its_counts_to_the_metrics_file(
    clinics: DatabaseUnderTest, tmp_path: Path
) -> None:
    metrics = tmp_path / "slotgen.prom"
    first = sync_2083(clinics, "--metrics-file", str(metrics))
    written = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.read_text())
        for sample in family.samples
    }
    before = metrics.read_text()
    dry = cli(clinics, "holidays", "sync", "--dry-run", "--metrics-file", str(metrics))

    assert first["created"] > 0
    for change in ("created", "updated", "removed", "unchanged"):
        assert written[("slotgen_holidays_exceptions", (("change", change),))] == first[change]
    assert written[("slotgen_holidays_bad_rows", ())] == 0
    assert written[("slotgen_job_last_exit_code", (("job", "holidays"),))] == 0
    assert dry.exit_code == 0, dry.stderr
    assert metrics.read_text() == before, "a dry run writes no metrics"


def test_exceptions_entered_by_people_are_never_touched(clinics: DatabaseUnderTest) -> None:
    own = add_exception(clinics.engine, 1, EPIPHANY, reason="inventory", start_time=None)
    sync_2083(clinics)
    with clinics.engine.begin() as connection:
        connection.execute(
            update(facilities)
            .where(facilities.c.id == 1)
            .values(holiday_country=None, holiday_subdivision=None)
        )

    emptied = sync_2083(clinics, "--facility", "1")

    assert emptied["removed"] > 0
    assert [
        (row.id, row.reason, row.source) for row in exceptions(clinics) if row.facility_id == 1
    ] == [(own, "inventory", None)]


def test_another_subdivision_moves_the_facility_to_its_calendar(
    clinics: DatabaseUnderTest,
) -> None:
    sync_2083(clinics)
    new_year = next(
        r.id for r in exceptions(clinics) if r.facility_id == 1 and r.start_date == date(2083, 1, 1)
    )
    with clinics.engine.begin() as connection:
        connection.execute(
            update(facilities).where(facilities.c.id == 1).values(holiday_subdivision="BE")
        )

    moved = sync_2083(clinics)

    assert closed_days(clinics, 1) == closed_days(clinics, 2)
    assert moved["removed"] >= 1
    assert moved["created"] >= 1
    row = next(r for r in exceptions(clinics) if r.id == new_year)
    assert row.source == "holidays:DE-BE"  # the same row, now from Berlin's calendar


def test_a_removed_holiday_stays_open_until_restored(clinics: DatabaseUnderTest) -> None:
    sync_2083(clinics)
    epiphany = next(
        r.id for r in exceptions(clinics) if r.facility_id == 1 and r.start_date == EPIPHANY
    )

    removed = cli(clinics, "exceptions", "remove", str(epiphany))
    resynced = sync_2083(clinics)
    openings = cli_json(clinics, "holidays", "openings")["openings"]

    assert removed.exit_code == 0, removed.stderr
    assert "holidays restore" in removed.stdout
    assert EPIPHANY not in closed_days(clinics, 1)
    assert (resynced["created"], resynced["kept_open"]) == (0, 1)
    assert [(o["facility_id"], o["date"], o["name"]) for o in openings] == [
        (1, "2083-01-06", "Heilige Drei Könige")
    ]

    restored = cli(clinics, "holidays", "restore", str(openings[0]["id"]))
    closed_again = sync_2083(clinics)

    assert restored.exit_code == 0, restored.stderr
    assert closed_again["created"] == 1
    assert EPIPHANY in closed_days(clinics, 1)
    assert cli_json(clinics, "holidays", "openings")["openings"] == []
    assert cli(clinics, "holidays", "restore", "999").exit_code == 2


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("holiday_country", "XX", "holiday_country 'XX' is not a country"),
        ("holiday_subdivision", "ZZ", "holiday_subdivision 'ZZ' is not a subdivision of DE"),
    ],
)
def test_a_calendar_the_package_does_not_know_is_one_line_and_nothing_is_written(
    clinics: DatabaseUnderTest, column: str, value: str, says: str
) -> None:
    with clinics.engine.begin() as connection:
        connection.execute(update(facilities).where(facilities.c.id == 2).values({column: value}))

    result = cli(clinics, "holidays", "sync", "--years", "2083")

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: facility 2 (Berlin): ")
    assert says in result.stderr
    assert exceptions(clinics) == []
    assert run_rows(clinics.engine) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--years", "2083", "--ahead", "30d"),
        ("--years", "twenty"),
        ("--ahead", "3y"),
        ("--facility", "99"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    clinics: DatabaseUnderTest, args: tuple[str, ...]
) -> None:
    result = cli(clinics, "holidays", "sync", *args)

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert run_rows(clinics.engine) == []


def test_a_dry_run_writes_nothing(clinics: DatabaseUnderTest) -> None:
    result = sync_2083(clinics, "--dry-run")

    assert result["dry_run"] is True
    assert result["created"] > 0
    assert exceptions(clinics) == []
    assert run_rows(clinics.engine) == []


def test_a_zone_far_from_utc_is_closed_for_its_whole_local_day(
    database: DatabaseUnderTest,
) -> None:
    """Auckland is UTC+13 in February: Waitangi Day there is 5 Feb 11:00 to 6 Feb 11:00 UTC."""
    auckland = ZoneInfo("Pacific/Auckland")
    facility = add_facility(database.engine, "Auckland", "Pacific/Auckland")
    with database.engine.begin() as connection:
        connection.execute(
            update(facilities).where(facilities.c.id == facility).values(holiday_country="NZ")
        )
    doctor = add_doctor(database.engine)
    for weekday in range(7):
        add_rule(database.engine, facility, doctor, weekday, "00:00", "00:00", 60)

    sync_2083(database)
    generated = cli(database, "generate", "--start-date", "2083-02-05", "--end-date", "2083-02-07")

    assert generated.exit_code == 0, generated.stderr
    with database.engine.connect() as connection:
        starts = list(connection.scalars(select(availability_slots.c.start_at)))
    per_day: dict[date, int] = {}
    for start in starts:
        local = start.astimezone(auckland).date()
        per_day[local] = per_day.get(local, 0) + 1
    assert per_day == {date(2083, 2, 5): 24, date(2083, 2, 7): 24}


def test_new_holidays_list_the_taken_slots_and_what_generate_will_remove(
    clinics: DatabaseUnderTest,
) -> None:
    """Munich's doctor works on Wednesdays; 6 January 2083 is one. A patient booked 09:00."""
    doctor = add_doctor(clinics.engine, "Dr. Weber")
    add_rule(clinics.engine, 1, doctor, 3, "09:00", "12:00", 60)
    assert cli(clinics, "generate", "--start-date", "2083-01-04", "--days", "6").exit_code == 0
    berlin = ZoneInfo("Europe/Berlin")
    nine = datetime(2083, 1, 6, 9, tzinfo=berlin)
    s = availability_slots.c
    with clinics.engine.begin() as connection:
        connection.execute(
            update(availability_slots).where(s.start_at == nine).values(status="booked")
        )
        booked = connection.scalar(select(s.id).where(s.start_at == nine))

    text = cli(clinics, "holidays", "sync", "--years", "2083", "--facility", "1")
    generated = cli_json(clinics, "generate", "--start-date", "2083-01-04", "--days", "6")

    assert text.exit_code == 0, text.stderr
    assert "will remove 2 open slot(s)" in text.stdout
    assert re.search(rf"{booked} .*2083-01-06 09:00 \+01:00 +booked", text.stdout)
    assert generated["removed"] == 2
    assert generated["conflicts"] == 1


def test_the_crontab_line_syncs_then_generates(clinics: DatabaseUnderTest, tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text(f"SLOTGEN_DATABASE_URL={shlex.quote(clinics.url)}\n")
    log_file = tmp_path / "slotgen.log"
    printed = run_installed("crontab", "--env-file", str(env_file), "--log-file", str(log_file))
    line = next(command for _, command in job_lines(printed.stdout) if "holidays sync" in command)
    assert slotgen_call(line)[1] == ["holidays", "sync", "--tries", "3", "--trigger", "cron"]

    ran = subprocess.run(
        ["/bin/sh", "-c", line],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert ran.returncode == 0, log_file.read_text()
    assert ran.stdout == ""
    runs = run_rows(clinics.engine)
    assert [(run.job, run.status, run.trigger) for run in runs] == [
        ("holidays", "succeeded", "cron"),
        ("generate", "succeeded", "cron"),
    ]
    this_year = datetime.now(ZoneInfo("Europe/Berlin")).year
    assert {day.year for day in closed_days(clinics, 1)} == {this_year, this_year + 1}
    assert timedelta(0) <= runs[1].started_at - runs[0].started_at


def test_removing_an_exception_people_entered_remembers_nothing(
    clinics: DatabaseUnderTest,
) -> None:
    own = add_exception(clinics.engine, 1, date(2083, 2, 1), reason="inventory")

    removed = cli(clinics, "exceptions", "remove", str(own))

    assert removed.exit_code == 0, removed.stderr
    assert "holidays" not in removed.stdout
    assert cli_json(clinics, "holidays", "openings")["openings"] == []


def test_a_failed_sync_is_retried_with_its_parameters(clinics: DatabaseUnderTest) -> None:
    failed = add_run(
        clinics.engine,
        job="holidays",
        status="failed",
        params={"facility_ids": [2], "years": [2083], "ahead": None},
        error="lost the connection",
    )

    retried = cli(clinics, "retry", str(failed))

    assert retried.exit_code == 0, retried.stderr
    last = run_rows(clinics.engine)[-1]
    assert (last.job, last.status, last.trigger, last.retry_of) == (
        "holidays",
        "succeeded",
        "retry",
        failed,
    )
    assert WOMENS_DAY in closed_days(clinics, 2)
    assert closed_days(clinics, 1) == {}


def test_check_warns_about_a_failed_sync_and_its_max_age(clinics: DatabaseUnderTest) -> None:
    long_ago = datetime.now(ZoneInfo("UTC")) - timedelta(days=40)
    add_run(clinics.engine, job="holidays", started_at=long_ago, finished_at=long_ago)
    add_run(clinics.engine, job="holidays", status="failed", error="lost the connection")

    checked = cli(clinics, "check", "--max-age", "holidays=32d")

    assert checked.exit_code == 1
    assert checked.stdout.startswith("WARNING - holidays")
    assert re.search(r"holidays: last run \d+ failed .*: lost the connection", checked.stdout)
    assert re.search(r"holidays: last success .*40d.* ago", checked.stdout), checked.stdout


def test_a_moved_or_renamed_holiday_keeps_its_exception(clinics: DatabaseUnderTest) -> None:
    """As if the package's data had said 7 January, and "Epiphany", before a correction."""
    sync_2083(clinics, "--facility", "1")
    e = availability_exceptions.c
    by_day = {row.start_date: row.id for row in exceptions(clinics)}
    epiphany, new_year = by_day[EPIPHANY], by_day[date(2083, 1, 1)]
    with clinics.engine.begin() as connection:
        connection.execute(
            update(availability_exceptions)
            .where(e.id == epiphany)
            .values(start_date=date(2083, 1, 7))
        )
        connection.execute(
            update(availability_exceptions).where(e.id == new_year).values(reason="New Year")
        )

    synced = sync_2083(clinics, "--facility", "1")

    (munich,) = synced["facility_list"]
    assert (synced["created"], synced["removed"]) == (0, 0)
    assert [(u["id"], u["date"], u["was_date"], u["was_name"]) for u in munich["updated"]] == [
        (new_year, "2083-01-01", "2083-01-01", "New Year"),
        (epiphany, "2083-01-06", "2083-01-07", "Heilige Drei Könige"),
    ]
    rows = {row.id: (row.start_date, row.reason) for row in exceptions(clinics)}
    assert rows[epiphany] == (EPIPHANY, "Heilige Drei Könige")
    assert rows[new_year] == (date(2083, 1, 1), "Neujahr")


def test_a_facility_with_a_zone_slotgen_cannot_read_is_skipped_and_the_rest_synced(
    clinics: DatabaseUnderTest,
) -> None:
    with clinics.engine.begin() as connection:
        connection.execute(
            update(facilities).where(facilities.c.id == 1).values(timezone="Mars/Olympus")
        )

    result = cli(clinics, "holidays", "sync", "--years", "2083")

    assert result.exit_code == 1
    assert "1 facilities skipped" in result.stdout
    assert closed_days(clinics, 1) == {}
    assert WOMENS_DAY in closed_days(clinics, 2)
    (run,) = run_rows(clinics.engine)
    assert (run.status, run.stats["bad_rows"]) == ("succeeded", 1)
    assert "skipped facilities id 1" in run.details
