"""The embedded SQLite database: one text format for instants, locking that queues writers."""

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from slotgen.db import migrate
from slotgen.db.engine import open_engine
from slotgen.db.schema import availability_slots, doctors, facilities
from slotgen.db.types import sqlite_instant


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    engine = open_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def test_file_is_private_and_uses_wal_foreign_keys_and_busy_timeout(sqlite_file: Path) -> None:
    assert sqlite_file.stat().st_mode & 0o777 == 0o600
    engine = open_engine(f"sqlite:///{sqlite_file}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 10_000
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
