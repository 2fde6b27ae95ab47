"""Column types that behave the same on SQLite, PostgreSQL and MariaDB.

Instants are stored as naive UTC (the booking app and people's SQL see plain UTC
timestamps whatever the session time zone) and come back as aware UTC datetimes.
On SQLite every instant is text in one fixed-width format, `SQLITE_INSTANT_FORMAT`,
whoever writes it: the unique key on (doctor_id, start_at) compares text there, so a
second format would let a duplicate slot through.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

SQLITE_INSTANT_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


def sqlite_instant(value: datetime) -> str:
    """The text SQLite stores for an aware instant: what `UTCDateTime` writes there."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: aware UTC in Python, naive UTC in the database (microseconds kept)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """The dialect's own type, imported here: the dialect in use is loaded already,
        and importing MariaDB's at start-up costs every SQLite or PostgreSQL run 25 ms."""
        if dialect.name == "sqlite":
            from sqlalchemy.dialects import sqlite

            return dialect.type_descriptor(
                sqlite.DATETIME(storage_format=SQLITE_INSTANT_FORMAT)  # type: ignore[no-untyped-call]
            )
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store a naive datetime {value!r}: pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class utc_now(FunctionElement[datetime]):
    """The database's current UTC time, as a server-side default in the stored format."""

    type = DateTime()
    inherit_cache = True


@compiles(utc_now)
def _utc_now_default(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(utc_now, "postgresql")
def _utc_now_postgresql(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "timezone('utc', statement_timestamp())"


@compiles(utc_now, "mysql")
@compiles(utc_now, "mariadb")
def _utc_now_mysql(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "UTC_TIMESTAMP(6)"


@compiles(utc_now, "sqlite")
def _utc_now_sqlite(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')"
