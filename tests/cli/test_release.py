"""`slotgen release` end to end on SQLite, PostgreSQL and MariaDB, races included."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from slotgen.db.release import RELEASE_ON_MARIADB, expired_ids
from slotgen.db.schema import availability_slots
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_slots
from tests.helpers import CliResult, run_cli, start_installed, wait_for

SLOTS = availability_slots.c


def release(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli("release", "--database-url", database.url, *args)


def release_json(database: DatabaseUnderTest, *args: str) -> dict[str, Any]:
    result = release(database, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def rows_by_id(database: DatabaseUnderTest) -> dict[int, Any]:
    with database.engine.connect() as connection:
        return {row.id: row for row in connection.execute(select(availability_slots))}


@pytest.fixture
def clinic(database: DatabaseUnderTest) -> DatabaseUnderTest:
    add_facility(database.engine, "North", "Europe/Berlin")
    add_doctor(database.engine, "Dr. Lee")
    return database


def test_exactly_the_expired_reservations_are_opened(clinic: DatabaseUnderTest) -> None:
    now = datetime.now(UTC)
    expired = add_slots(clinic.engine, 3, reserved_until=now - timedelta(minutes=1))
    future = add_slots(clinic.engine, 2, reserved_until=now + timedelta(minutes=10), first=10)
    booked = add_slots(
        clinic.engine, 1, status="booked", reserved_until=now - timedelta(hours=1), first=20
    )
    open_ = add_slots(clinic.engine, 1, status="open", first=30)
    never = add_slots(clinic.engine, 2, reserved_until=None, first=40)
    before = rows_by_id(clinic)

    result = release(clinic, "--json")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["released"] == 3
    assert report["never_expiring"] == 2
    assert report["dry_run"] is False
    after = rows_by_id(clinic)
    for slot_id in expired:
        row = after[slot_id]
        assert (row.status, row.reserved_until) == ("open", None)
        assert row.updated_at >= now
        assert (row.start_at, row.end_at) == (before[slot_id].start_at, before[slot_id].end_at)
    for slot_id in future + booked + open_ + never:
        assert after[slot_id] == before[slot_id], "left exactly as it was"


def test_never_expiring_reservations_are_warned_about_once(clinic: DatabaseUnderTest) -> None:
    add_slots(clinic.engine, 2, reserved_until=None)
    add_slots(clinic.engine, 1, reserved_until=datetime.now(UTC) - timedelta(minutes=5), first=5)
    result = release(clinic)
    assert result.exit_code == 0
    assert result.stdout.strip() == "Released 1 expired reservations"
    warnings = [line for line in result.stderr.splitlines() if "never expire" in line]
    assert len(warnings) == 1
    assert "2 reservations" in warnings[0]


def test_second_run_releases_nothing(clinic: DatabaseUnderTest) -> None:
    add_slots(clinic.engine, 4, reserved_until=datetime.now(UTC) - timedelta(seconds=1))
    assert release_json(clinic)["released"] == 4
    again = release(clinic)
    assert again.exit_code == 0
    assert again.stdout.strip() == "Released 0 expired reservations"


def test_dry_run_counts_and_changes_nothing(clinic: DatabaseUnderTest) -> None:
    add_slots(clinic.engine, 5, reserved_until=datetime.now(UTC) - timedelta(minutes=1))
    before = rows_by_id(clinic)
    report = release_json(clinic, "--dry-run")
    assert (report["released"], report["dry_run"]) == (5, True)
    assert rows_by_id(clinic) == before
    assert release(clinic, "--dry-run").stdout.strip() == "Would release 5 expired reservations"


def test_backlog_is_released_in_batches(clinic: DatabaseUnderTest) -> None:
    add_slots(clinic.engine, 23, reserved_until=datetime.now(UTC) - timedelta(minutes=1))
    report = release_json(clinic, "--batch-size", "5")
    assert (report["released"], report["batches"]) == (23, 5)
    assert {row.status for row in rows_by_id(clinic).values()} == {"open"}


@pytest.mark.parametrize("size", ["0", "-5", "many"])
def test_bad_batch_size_is_one_line_and_exit_2(clinic: DatabaseUnderTest, size: str) -> None:
    add_slots(clinic.engine, 2, reserved_until=datetime.now(UTC) - timedelta(minutes=1))
    result = release(clinic, "--batch-size", size)
    assert result.exit_code == 2
    assert "--batch-size" in result.stderr
    assert "Traceback" not in result.stderr
    assert {row.status for row in rows_by_id(clinic).values()} == {"reserved"}


def test_expired_ids_query_uses_the_status_index(clinic: DatabaseUnderTest) -> None:
    """A million-slot table with a few expired reservations is read through the index (on
    MariaDB, release's one statement, which chooses the batch first)."""
    add_slots(clinic.engine, 20_000, status="open")
    add_slots(
        clinic.engine, 50, reserved_until=datetime.now(UTC) - timedelta(minutes=1), first=30_000
    )
    query = expired_ids(datetime.now(UTC), 5000)
    with clinic.engine.begin() as connection:
        sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
        if clinic.backend == "postgresql":
            connection.exec_driver_sql("ANALYZE availability_slots")
            plan = "\n".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {sql}"))
        elif clinic.backend == "mariadb":
            connection.exec_driver_sql("ANALYZE TABLE availability_slots")
            explain = text(f"EXPLAIN {RELEASE_ON_MARIADB.text}")
            moment = datetime.now(UTC).replace(tzinfo=None)
            values = {"reserved": "reserved", "open": "open", "now": moment, "limit": 5000}
            rows = connection.execute(explain, values).all()
            assert rows[0].table.startswith("<derived"), "the locked batch is read first"
            plan = str([tuple(r) for r in rows])
        else:
            connection.exec_driver_sql("ANALYZE")
            plan = str([tuple(r) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")])
    assert "ix_availability_slots_status_reserved_until" in plan, plan
    if clinic.backend == "postgresql":
        assert "Seq Scan" not in plan, plan


def test_web_app_booking_and_extending_during_a_release_is_never_undone(
    clinic: DatabaseUnderTest,
) -> None:
    """The release walks up the ids in small batches while the web app walks down them."""
    backlog = add_slots(
        clinic.engine, 10_000, reserved_until=datetime.now(UTC) - timedelta(minutes=1)
    )
    later = datetime.now(UTC) + timedelta(hours=1)
    process = start_installed(
        "release", "--database-url", clinic.url, "--batch-size", "2", "--json"
    )
    wait_for(lambda: _any_open(clinic) or process.poll() is not None)
    assert process.poll() is None, process.communicate()
    booked: list[int] = []
    extended: list[int] = []
    for index, slot_id in enumerate(reversed(backlog)):
        if process.poll() is not None:
            break
        booking = index % 2 == 0
        values: dict[str, Any] = (
            {"status": "booked", "reserved_until": None} if booking else {"reserved_until": later}
        )
        with clinic.engine.begin() as connection:
            changed = connection.execute(
                update(availability_slots)
                .where(SLOTS.id == slot_id, SLOTS.status == "reserved")
                .values(**values)
            ).rowcount
        if changed:
            (booked if booking else extended).append(slot_id)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    released = json.loads(stdout)["released"]

    assert booked, "the web app booked nothing before the release passed: no interleaving"
    assert extended
    assert 0 < released == len(backlog) - len(booked) - len(extended)
    after = rows_by_id(clinic)
    assert all(after[slot_id].status == "booked" for slot_id in booked)
    assert all(
        (after[slot_id].status, after[slot_id].reserved_until) == ("reserved", later)
        for slot_id in extended
    )
    others = set(backlog) - set(booked) - set(extended)
    assert all((after[i].status, after[i].reserved_until) == ("open", None) for i in others)


def _any_open(database: DatabaseUnderTest) -> bool:
    with database.engine.connect() as connection:
        return (
            connection.scalar(select(SLOTS.id).where(SLOTS.status == "open").limit(1)) is not None
        )


def test_two_releases_at_once_release_each_reservation_once(clinic: DatabaseUnderTest) -> None:
    backlog = add_slots(
        clinic.engine, 2000, reserved_until=datetime.now(UTC) - timedelta(minutes=1)
    )
    runs = [
        start_installed("release", "--database-url", clinic.url, "--batch-size", "20", "--json")
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr
    reports = [json.loads(stdout) for stdout, _ in outputs]
    assert {report["status"] for report in reports} <= {"succeeded", "skipped"}
    assert sum(report.get("released", 0) for report in reports) == len(backlog)
    assert {row.status for row in rows_by_id(clinic).values()} == {"open"}


@pytest.mark.parametrize("migrated_database", ["postgresql", "mariadb"], indirect=True)
def test_a_reservation_the_web_app_is_booking_is_skipped_not_waited_for(
    clinic: DatabaseUnderTest,
) -> None:
    """The web app holds one expired reservation locked while it books it: the release
    opens the others, returns without waiting, and the booking then goes through. (SQLite
    has no row locks: a writer holds the whole database, so there is nothing to skip.)"""
    expired = add_slots(clinic.engine, 5, reserved_until=datetime.now(UTC) - timedelta(minutes=1))
    booking = expired[2]
    with clinic.engine.connect() as web_app:
        web_app.execute(select(SLOTS.id).where(SLOTS.id == booking).with_for_update())
        process = start_installed("release", "--database-url", clinic.url, "--json")
        try:
            stdout, stderr = process.communicate(timeout=120)
        finally:
            process.kill()
        assert process.returncode == 0, stderr
        booked = web_app.execute(
            update(availability_slots)
            .where(SLOTS.id == booking, SLOTS.status == "reserved")
            .values(status="booked", reserved_until=None)
        ).rowcount
        web_app.commit()

    assert json.loads(stdout)["released"] == len(expired) - 1
    assert booked == 1, "the reservation was still the web app's to book"
    after = rows_by_id(clinic)
    assert after[booking].status == "booked"
    assert {after[i].status for i in expired if i != booking} == {"open"}
