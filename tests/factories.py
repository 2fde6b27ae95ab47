"""Rows for tests, written with plain Core inserts as the booking app would write them."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    availability_slots,
    doctors,
    facilities,
    job_runs,
    services,
)
from tests.helpers import wait_for

SLOTS = availability_slots.c
FIRST_START = datetime(2027, 3, 1, 8, tzinfo=UTC)
"""Where `add_slots` starts: a Monday morning, in the future of every test's clock."""


def add_facility(engine: Engine, name: str = "North clinic", timezone: str = "UTC") -> int:
    return _insert(engine, facilities, name=name, timezone=timezone)


def add_doctor(engine: Engine, name: str = "Dr. Lee") -> int:
    return _insert(engine, doctors, name=name)


def add_service(engine: Engine, name: str = "Consultation", minutes: int | None = 30) -> int:
    return _insert(engine, services, name=name, duration_minutes=minutes)


def add_rule(
    engine: Engine,
    facility_id: int,
    doctor_id: int,
    day_of_week: int,
    start: str = "09:00",
    end: str = "17:00",
    minutes: int = 30,
    **values: Any,
) -> int:
    return _insert(
        engine,
        availability_rules,
        facility_id=facility_id,
        doctor_id=doctor_id,
        day_of_week=day_of_week,
        start_time=time.fromisoformat(start),
        end_time=time.fromisoformat(end),
        slot_duration_minutes=minutes,
        **values,
    )


def add_exception(engine: Engine, facility_id: int, start_date: date, **values: Any) -> int:
    return _insert(
        engine, availability_exceptions, facility_id=facility_id, start_date=start_date, **values
    )


def add_slot(
    engine: Engine,
    facility_id: int,
    doctor_id: int,
    start_at: datetime,
    minutes: int = 30,
    **values: Any,
) -> int:
    return _insert(
        engine,
        availability_slots,
        facility_id=facility_id,
        doctor_id=doctor_id,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=minutes),
        **values,
    )


def add_slots(
    engine: Engine,
    count: int,
    *,
    status: str = "reserved",
    reserved_until: datetime | None = None,
    first: int = 0,
) -> list[int]:
    """`count` slots of one doctor, 30 minutes apart from FIRST_START + `first` slots."""
    with engine.begin() as connection:
        facility = connection.scalar(select(func.min(facilities.c.id)))
        doctor = connection.scalar(select(func.min(doctors.c.id)))
        rows = [
            {
                "facility_id": facility,
                "doctor_id": doctor,
                "start_at": FIRST_START + timedelta(minutes=30 * n),
                "end_at": FIRST_START + timedelta(minutes=30 * n + 30),
                "status": status,
                "reserved_until": reserved_until,
            }
            for n in range(first, first + count)
        ]
        connection.execute(insert(availability_slots), rows)
        ids = connection.scalars(
            select(availability_slots.c.id)
            .where(availability_slots.c.start_at >= FIRST_START + timedelta(minutes=30 * first))
            .where(
                availability_slots.c.start_at
                < FIRST_START + timedelta(minutes=30 * (first + count))
            )
            .order_by(availability_slots.c.id)
        ).all()
    return list(ids)


def add_run(engine: Engine, **values: Any) -> int:
    """A job_runs row as a runner would leave it; a generate run that succeeded by default."""
    return _insert(engine, job_runs, **{"job": "generate", "status": "succeeded", **values})


def slots(engine: Engine) -> list[Any]:
    """Every slot, ordered by doctor and start: what a run left behind."""
    s = availability_slots.c
    with engine.connect() as connection:
        return list(
            connection.execute(select(availability_slots).order_by(s.doctor_id, s.start_at))
        )


def run_rows(engine: Engine) -> list[Any]:
    """Every job_runs row, oldest first."""
    with engine.connect() as connection:
        return list(connection.execute(select(job_runs).order_by(job_runs.c.id)))


def slot_keys(engine: Engine) -> list[tuple[Any, ...]]:
    """The parts of each slot that generate decides, comparable across runs."""
    return [
        (
            row.doctor_id,
            row.start_at,
            row.end_at,
            row.facility_id,
            row.service_id,
            row.rule_id,
            row.status,
        )
        for row in slots(engine)
    ]


def _insert(engine: Engine, table: Any, **values: Any) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
        )


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@contextmanager
def doctor_held(engine: Engine, *, last: bool = False) -> Iterator[int | None]:
    """The first (or last) doctor's row locked, as a long transaction of the web app would
    lock it: a run's insert for that doctor, whose foreign key must read the row, waits
    until the block ends. Holding the last doctor keeps a run at work after its first
    chunks are written, however fast the machine is. Yields the server's id of the
    holding connection (None on SQLite, which has no row locks)."""
    with engine.connect() as connection, connection.begin():
        pick = func.max if last else func.min
        doctor = connection.scalar(select(pick(doctors.c.id)))
        connection.execute(select(doctors.c.id).where(doctors.c.id == doctor).with_for_update())
        own_id = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT connection_id()"}
        query = own_id.get(engine.dialect.name)
        yield None if query is None else int(connection.scalar(text(query)) or 0)


def end_connection(engine: Engine, connection_id: int) -> None:
    """End a server connection and return once the server has let go of it, with its locks.

    PostgreSQL's `pg_terminate_backend` waits when given a timeout; MariaDB's `KILL
    CONNECTION` only flags the thread, which goes away a moment later, so the process
    list is polled until it has.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": connection_id}
            )
            return
        connection.execute(text(f"KILL CONNECTION {int(connection_id)}"))
        gone = text("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = :id")
        wait_for(lambda: not connection.scalar(gone, {"id": connection_id}))
