"""The schema contract shared with the booking web app (see the README's "Schema contract").

Names and meanings here are an interface other programs rely on: add, never rename.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
    true,
)

from slotgen.db.types import UTCDateTime, utc_now
from slotgen.vocabulary import RunStatus, SlotStatus, Trigger

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _timestamps() -> tuple[Column[object], Column[object]]:
    """created_at/updated_at with database defaults, so plain-SQL inserts stay valid."""
    return (
        Column("created_at", UTCDateTime(), nullable=False, server_default=utc_now()),
        Column("updated_at", UTCDateTime(), nullable=False, server_default=utc_now()),
    )


facilities = Table(
    "facilities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False, server_default=text("'UTC'")),
    Column("holiday_country", String(2), nullable=True),
    Column("holiday_subdivision", String(16), nullable=True),
    # How patients reach the facility, as the FHIR feed's Location shows it (all optional).
    Column("phone", String(64), nullable=True),
    Column("website", String(500), nullable=True),
    Column("address_line", String(500), nullable=True),
    Column("city", String(200), nullable=True),
    Column("district", String(200), nullable=True),
    Column("state", String(200), nullable=True),
    Column("postal_code", String(32), nullable=True),
    Column("country", String(64), nullable=True),
    *_timestamps(),
)

doctors = Table(
    "doctors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    *_timestamps(),
)

services = Table(
    "services",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("duration_minutes", Integer, nullable=True),
    *_timestamps(),
)

availability_rules = Table(
    "availability_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "facility_id",
        Integer,
        ForeignKey("facilities.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "doctor_id",
        Integer,
        ForeignKey("doctors.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "service_id",
        Integer,
        ForeignKey("services.id", ondelete="RESTRICT"),
        nullable=True,
        index=True,
    ),
    Column("day_of_week", Integer, nullable=False),
    Column("start_time", Time, nullable=False),
    Column("end_time", Time, nullable=False),
    Column("slot_duration_minutes", Integer, nullable=False),
    Column("buffer_minutes", Integer, nullable=False, server_default=text("0")),
    Column("valid_from", Date, nullable=True),
    Column("valid_until", Date, nullable=True),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("recurrence", Text, nullable=True),
    *_timestamps(),
)

availability_exceptions = Table(
    "availability_exceptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "facility_id",
        Integer,
        ForeignKey("facilities.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "doctor_id",
        Integer,
        ForeignKey("doctors.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("start_time", Time, nullable=True),
    Column("end_time", Time, nullable=True),
    Column("type", String(32), nullable=False, server_default=text("'blocked'")),
    Column("reason", Text, nullable=True),
    Column("source", String(64), nullable=True),
    *_timestamps(),
)

holiday_openings = Table(
    "holiday_openings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "facility_id",
        Integer,
        ForeignKey("facilities.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("holiday_date", Date, nullable=False),
    Column("name", Text, nullable=True),
    Column("source", String(64), nullable=True),
    *_timestamps(),
    UniqueConstraint("facility_id", "holiday_date"),
)
"""Public holidays a facility opens on: a synced exception someone removed with
`exceptions remove`, remembered so `holidays sync` does not close the day again."""

# Slots reference everything with RESTRICT: deleting a facility, doctor, service or rule
# must never take a reserved or booked appointment with it. Deactivate a rule instead.
availability_slots = Table(
    "availability_slots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "facility_id", Integer, ForeignKey("facilities.id", ondelete="RESTRICT"), nullable=False
    ),
    Column("doctor_id", Integer, ForeignKey("doctors.id", ondelete="RESTRICT"), nullable=False),
    Column(
        "service_id",
        Integer,
        ForeignKey("services.id", ondelete="RESTRICT"),
        nullable=True,
        index=True,
    ),
    Column(
        "rule_id",
        Integer,
        ForeignKey("availability_rules.id", ondelete="RESTRICT"),
        nullable=True,
        index=True,
    ),
    Column("start_at", UTCDateTime(), nullable=False),
    Column("end_at", UTCDateTime(), nullable=False),
    Column("status", String(32), nullable=False, server_default=text(f"'{SlotStatus.OPEN}'")),
    Column("reserved_until", UTCDateTime(), nullable=True),
    *_timestamps(),
    UniqueConstraint("doctor_id", "start_at"),
    Index(None, "status", "reserved_until"),
    # A facility's slots in time order (slots, exception previews, publish, the dashboard),
    # with the status, so counts by day and status read the index alone.
    Index(None, "facility_id", "start_at", "status"),
)

plan_watermarks = Table(
    "plan_watermarks",
    metadata,
    Column("doctor_id", Integer, ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column("planned_at", UTCDateTime(), nullable=False),
    Column("days", JSON, nullable=False),
)
"""What the last generate run proved of a doctor's slots, day by day (slotgen.core.watermark).

On SQLite, triggers delete a doctor's row whenever one of their slots is updated or
deleted (migration 0008), so a row that exists vouches that nothing but inserts, which a
count finds, happened to their slots since. (SQLite fires no delete trigger for the row
an `INSERT OR REPLACE` replaces, unless `recursive_triggers` is on: the README says so.)
On PostgreSQL and MariaDB the table stays empty: a trigger there would make concurrent
bookings of one doctor wait on its row.
"""

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger", String(16), nullable=False, server_default=text(f"'{Trigger.MANUAL}'")),
    Column("attempt", Integer, nullable=False, server_default=text("1")),
    Column(
        "retry_of",
        Integer,
        ForeignKey("job_runs.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    Column("params", JSON, nullable=True),
    Column("stats", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("details", Text, nullable=True),
    Column("host", String(255), nullable=True),
    Column("pid", Integer, nullable=True),
    Column("started_at", UTCDateTime(), nullable=False, server_default=utc_now()),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("heartbeat_at", UTCDateTime(), nullable=True),
    *_timestamps(),
    Index(None, "job", "started_at"),
    Index(None, "status"),
)
job_runs.append_constraint(CheckConstraint(job_runs.c.status.in_(list(RunStatus)), name="status"))
job_runs.append_constraint(CheckConstraint(job_runs.c.trigger.in_(list(Trigger)), name="trigger"))
"""The database keeps `job_runs` to the vocabulary, whoever writes it."""
