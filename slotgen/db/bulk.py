"""Each backend's fastest safe way to write many slots, and to read them back.

The one place where the three backends differ for generate. Inserts go through the
driver's bulk path in (doctor_id, start_at) order, so concurrent runs take row locks in
the same order and cannot deadlock, and a row another run inserted first is skipped on the
unique key (never MariaDB's INSERT IGNORE, which would also swallow truncated values).
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import DBAPIError

from slotgen.core.model import PlannedSlot
from slotgen.db.types import sqlite_instant

SLOT_COLUMNS = (
    "doctor_id, start_at, end_at, facility_id, service_id, rule_id, created_at, updated_at"
)

_DEADLOCK_SQLSTATES = {"40001", "40P01"}
_MYSQL_DEADLOCK_CODES = {1205, 1213}


def insert_slots(connection: Connection, slots: Sequence[PlannedSlot], now: datetime) -> int:
    """Insert slots sorted by (doctor_id, start_at); returns how many were new."""
    if not slots:
        return 0
    name = connection.dialect.name
    if name == "postgresql":
        return _insert_postgresql(connection, slots, now)
    if name == "sqlite":
        # Doctors share their instants (W: 352,000 slots, 2,117 distinct starts), so each
        # is turned into text once; the cache lives for this chunk only.
        text = cache(sqlite_instant)
        stamp = text(now)
        rows: Iterable[tuple[Any, ...]] = (
            (d, text(s), text(e), f, sv, r, stamp, stamp) for d, s, e, f, sv, r in slots
        )
        statement = (
            f"INSERT INTO availability_slots ({SLOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (doctor_id, start_at) DO NOTHING"
        )
    else:
        stamp_naive = now.astimezone(UTC).replace(tzinfo=None)
        naive = cache(_naive)
        rows = (
            (d, naive(s), naive(e), f, sv, r, stamp_naive, stamp_naive)
            for d, s, e, f, sv, r in slots
        )
        statement = (
            f"INSERT INTO availability_slots ({SLOT_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE id = id"
        )
    inserted = int(connection.exec_driver_sql(statement, list(rows)).rowcount)
    if name == "sqlite":
        return inserted
    return _count_stamped(connection, slots, stamp_naive)


def _count_stamped(connection: Connection, slots: Sequence[PlannedSlot], stamp: datetime) -> int:
    """Rows this run inserted, told apart by their created_at stamp.

    SQLAlchemy always connects to MariaDB with CLIENT_FOUND_ROWS, under which a skipped
    duplicate counts as one affected row just like an insert, so rowcount cannot tell.
    Only the span of the slots just written is counted, a range of the unique key: the
    daily run's one new day, not the month it reads.
    """
    query = text(
        "SELECT COUNT(*) FROM availability_slots"
        " WHERE doctor_id IN :doctor_ids AND start_at >= :first AND start_at <= :last"
        " AND created_at = :stamp"
    ).bindparams(bindparam("doctor_ids", expanding=True))
    params = {
        "doctor_ids": sorted({slot.doctor_id for slot in slots}),
        "first": _naive(min(slot.start_at for slot in slots)),
        "last": _naive(max(slot.start_at for slot in slots)),
        "stamp": stamp,
    }
    return int(connection.scalar(query, params) or 0)


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _insert_postgresql(connection: Connection, slots: Sequence[PlannedSlot], now: datetime) -> int:
    """COPY into a scratch table, then one INSERT … ON CONFLICT DO NOTHING in key order."""
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS slotgen_new_slots ("
        " doctor_id integer, start_at timestamptz, end_at timestamptz,"
        " facility_id integer, service_id integer, rule_id integer) ON COMMIT DELETE ROWS"
    )
    raw = connection.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(
            "COPY slotgen_new_slots (doctor_id, start_at, end_at, facility_id, service_id, rule_id)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["int4", "timestamptz", "timestamptz", "int4", "int4", "int4"])
        for slot in slots:
            copy.write_row(slot)
    inserted = connection.exec_driver_sql(
        f"INSERT INTO availability_slots ({SLOT_COLUMNS}) "
        "SELECT doctor_id, start_at AT TIME ZONE 'UTC', end_at AT TIME ZONE 'UTC',"
        " facility_id, service_id, rule_id, %(now)s, %(now)s"
        " FROM slotgen_new_slots ORDER BY doctor_id, start_at"
        " ON CONFLICT (doctor_id, start_at) DO NOTHING",
        {"now": _naive(now)},
    ).rowcount
    connection.exec_driver_sql("TRUNCATE slotgen_new_slots")
    return int(inserted)


def instant_reader(connection: Connection) -> Callable[[Any], datetime]:
    """How a raw driver value of an instant column becomes an aware UTC datetime.

    Reading raw driver rows skips SQLAlchemy's per-value processing, which on SQLite is a
    regular expression per timestamp: too slow for a few hundred thousand slots. Slots of
    many doctors share their instants, so each distinct value is converted once (and the
    slots share one datetime object); the cache lives as long as the reader.
    """
    return cache(_aware)


def _aware(value: str | datetime) -> datetime:
    """A stored instant, as text (SQLite, or `instant_column` on MariaDB) or naive UTC."""
    stored = datetime.fromisoformat(value) if isinstance(value, str) else value
    return stored.replace(tzinfo=UTC)


def instant_column(connection: Connection, column: str) -> str:
    """The select-list SQL of an instant column that a bulk read gives `instant_reader`.

    PyMySQL makes a datetime of every DATETIME value in Python, with a regular expression
    each: reading W's 352,000 slots back took 5.7 s, 2.5 s as text, which the reader's
    cache then converts once per distinct instant.
    """
    if connection.dialect.name in ("mysql", "mariadb"):
        return f"CAST({column} AS CHAR)"
    return column


def instant_param(connection: Connection, instant: datetime) -> Any:
    """An instant as a raw driver parameter, in the backend's stored form."""
    if connection.dialect.name == "sqlite":
        return sqlite_instant(instant)
    return _naive(instant)


def is_deadlock(exc: DBAPIError) -> bool:
    """A transaction the database chose to abort so another could go on: safe to retry."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _DEADLOCK_SQLSTATES:
        return True
    args: tuple[Any, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] in _MYSQL_DEADLOCK_CODES
