"""The embedded SQLite database: one text format for instants, locking that queues writers."""

import sqlite3
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from slotgen.core.model import PlannedSlot
from slotgen.db import migrate
from slotgen.db.bulk import insert_slots
from slotgen.db.engine import SQLITE_CACHE_KIB, open_engine, size_cache_for_bulk_writes
from slotgen.db.schema import availability_rules, availability_slots, doctors, facilities
from slotgen.db.types import sqlite_instant


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    engine = open_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def test_file_is_private_and_uses_wal_foreign_keys_busy_timeout_and_a_large_cache(
    sqlite_file: Path,
) -> None:
    assert sqlite_file.stat().st_mode & 0o777 == 0o600
    engine = open_engine(f"sqlite:///{sqlite_file}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 10_000
            # negative: KiB, not pages. SQLite's own 2 MiB, until generate asks for more
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
            size_cache_for_bulk_writes(connection)
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
            assert SQLITE_CACHE_KIB >= 32 * 1024
    finally:
        engine.dispose()


def test_a_transaction_takes_the_write_lock_at_begin(sqlite_file: Path) -> None:
    """BEGIN IMMEDIATE: a second writer waits at its BEGIN instead of failing mid-way."""
    engine = open_engine(f"sqlite:///{sqlite_file}")
    other = sqlite3.connect(sqlite_file, timeout=0.05, isolation_level=None)
    try:
        with engine.begin(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def test_raw_driver_text_and_sqlalchemy_share_one_instant_format(sqlite_file: Path) -> None:
    """The fast insert path writes text itself; the unique key must still see duplicates."""
    engine = open_engine(f"sqlite:///{sqlite_file}")
    start = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            facility_id = connection.execute(
                insert(facilities).values(name="F").returning(facilities.c.id)
            ).scalar_one()
            doctor_id = connection.execute(
                insert(doctors).values(name="D").returning(doctors.c.id)
            ).scalar_one()
            connection.execute(
                insert(availability_slots).values(
                    facility_id=facility_id,
                    doctor_id=doctor_id,
                    start_at=start,
                    end_at=start + timedelta(minutes=30),
                )
            )
            stored = connection.execute(text("SELECT start_at FROM availability_slots")).scalar()
        assert stored == sqlite_instant(start) == "2026-03-29 01:00:00.000000"
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO availability_slots (facility_id, doctor_id, start_at, end_at) "
                "VALUES (?, ?, ?, ?)",
                (facility_id, doctor_id, sqlite_instant(start), sqlite_instant(start)),
            )
    finally:
        engine.dispose()


def test_the_bulk_insert_writes_each_instant_as_sqlalchemy_does(sqlite_file: Path) -> None:
    """The bulk insert turns each distinct instant into text once and shares it between
    doctors; the text must be exactly the one the column type writes, in any zone, or the
    unique key could not see a duplicate of a slot written another way."""
    engine = open_engine(f"sqlite:///{sqlite_file}")
    zones = [ZoneInfo(name) for name in ("Asia/Kathmandu", "Australia/Lord_Howe", "UTC")]
    local_starts = [
        datetime(2027, 4, 4, 1, 30, 0, micro, tzinfo=zone)
        for zone in zones
        for micro in (0, 123_456)
    ]
    try:
        with engine.begin() as connection:
            facility_id = connection.execute(
                insert(facilities).values(name="F").returning(facilities.c.id)
            ).scalar_one()
            typed, bulk, again = (
                connection.execute(
                    insert(doctors).values(name=name).returning(doctors.c.id)
                ).scalar_one()
                for name in ("typed", "bulk", "again")
            )
            for start in local_starts:
                connection.execute(
                    insert(availability_slots).values(
                        facility_id=facility_id,
                        doctor_id=typed,
                        start_at=start,
                        end_at=start + timedelta(minutes=30),
                    )
                )
            rule_id = connection.execute(
                insert(availability_rules)
                .values(
                    facility_id=facility_id,
                    doctor_id=bulk,
                    day_of_week=0,
                    start_time=time(1),
                    end_time=time(2),
                    slot_duration_minutes=30,
                )
                .returning(availability_rules.c.id)
            ).scalar_one()
            plan = sorted(
                PlannedSlot(
                    doctor, start, start + timedelta(minutes=30), facility_id, None, rule_id
                )
                for doctor in (bulk, again)
                for start in local_starts
            )
            assert insert_slots(connection, plan, datetime.now(UTC)) == 2 * len(local_starts)
            rows = connection.execute(
                text("SELECT doctor_id, start_at, end_at FROM availability_slots ORDER BY id")
            ).all()
            duplicates = [slot._replace(doctor_id=typed) for slot in plan if slot.doctor_id == bulk]
            assert insert_slots(connection, duplicates, datetime.now(UTC)) == 0
    finally:
        engine.dispose()
    stored = {
        doctor: [(s, e) for d, s, e in rows if d == doctor] for doctor in (typed, bulk, again)
    }
    assert stored[bulk] == stored[again] == sorted(stored[typed])
    assert stored[typed][1] == (
        sqlite_instant(local_starts[1]),
        sqlite_instant(local_starts[1] + timedelta(minutes=30)),
    )
