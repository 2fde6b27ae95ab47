"""Benchmarks of generate, release and publish against the driver's floor, in the same run.

    python bench/run.py                                # W on sqlite, postgresql, mariadb
    python bench/run.py --backend sqlite --large       # also W-large's peak memory
    python bench/run.py --database-url URL --doctors 4 --days 3 --repeat 1   # a smoke run

Timings on shared machines drift, so every figure is also given as a ratio to a floor
taken moments before on the same machine and database: the same rows, precomputed,
written by the driver's fastest bulk path in one transaction. The peer is the approach
slotgen replaces: an ORM object per slot, committed once, timed on a subset of doctors
and extrapolated (said so in the table). The benchmark wipes the database it is given.
"""

import argparse
import csv
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import MO, relativedelta
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session

from slotgen.cli.app import COLLECTOR_THRESHOLDS
from slotgen.db import migrate
from slotgen.db.bulk import SLOT_COLUMNS, instant_param
from slotgen.db.database import Database
from slotgen.db.engine import open_engine
from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    availability_slots,
    doctors,
    facilities,
    job_runs,
    metadata,
    services,
)
from slotgen.services.generate import generate_slots
from slotgen.services.params import GenerateParams, ReleaseParams
from slotgen.services.publish import PublishRequest, publish
from slotgen.services.release import release_expired

ZONES = ("America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney", "UTC")
FIRST_DAY = date(2083, 3, 1)
"""A Monday; the whole range lies after PLAN_NOW, so every slot is in the future."""
PLAN_NOW = datetime(2083, 2, 28, tzinfo=UTC)
SERVER_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/mysql",
}
COPY_TYPES = ["int4", "timestamp", "timestamp", "int4", "int4", "int4", "timestamp", "timestamp"]
"""The binary COPY types of SLOT_COLUMNS."""
SCENARIOS = (
    "startup",
    "fresh",
    "indexes",
    "rerun",
    "daily",
    "exception",
    "release",
    "publish",
    "memory",
    "slots",
    "import",
)


@dataclass(frozen=True)
class Workload:
    doctors: int
    days: int

    @property
    def request(self) -> GenerateParams:
        return _range(FIRST_DAY, self.days)


def _range(first: date, days: int) -> GenerateParams:
    last = first + timedelta(days=days - 1)
    return GenerateParams(start_date=first.isoformat(), end_date=last.isoformat())


def generate(engine: Engine, params: GenerateParams, now: datetime) -> Any:
    return generate_slots(engine, params, now)


@dataclass
class Row:
    backend: str
    scenario: str
    seconds: list[float] = field(default_factory=list)
    rows: int = 0
    floor: float | None = None
    peer: float | None = None
    rss_mb: float | None = None
    note: str = ""

    def cells(self) -> list[str]:
        median = statistics.median(self.seconds) if self.seconds else None
        spread = f"{min(self.seconds):.2f}-{max(self.seconds):.2f}" if self.seconds else ""
        return [
            self.backend,
            self.scenario,
            "" if median is None else f"{median:.2f}",
            spread,
            f"{self.rows / median:,.0f}" if median and self.rows else "",
            f"{median / self.floor:.2f}x" if median and self.floor else "",
            f"{self.peer / median:.1f}x faster" if median and self.peer else "",
            "" if self.rss_mb is None else f"{self.rss_mb:.0f}",
            self.note,
        ]


HEADER = [
    "backend",
    "scenario",
    "median s",
    "min-max s",
    "rows/s",
    "/ floor",
    "vs peer",
    "peak RSS MB",
    "floor and notes",
]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# --- databases ---------------------------------------------------------------------------


@contextmanager
def bench_database(backend: str, url: str | None) -> Iterator[str]:
    """The URL to wipe and use: the one given, or a fresh bench database per backend."""
    if url:
        yield url
        return
    if backend == "sqlite":
        path = f"/tmp/slotgen-bench-{os.getpid()}.db"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        yield f"sqlite:///{path}"
        return
    admin = open_engine(SERVER_URLS[backend])
    name = "slotgen_bench"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(SERVER_URLS[backend]).set(database=name).render_as_string(False)
    finally:
        admin.dispose()


def wipe(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))


def clear_slots(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(availability_slots))
        connection.execute(delete(job_runs))
    settle(engine)


def settle(engine: Engine) -> None:
    """On PostgreSQL, the statistics and visibility map autovacuum leaves a table with
    within a minute of a bulk change, so a plan is not timed against a stale estimate."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE availability_slots"))


def seed(engine: Engine, workload: Workload) -> None:
    """W: doctors spread over five zones, Monday to Friday 09:00-17:00, 15-minute slots."""
    wipe(engine)
    with engine.begin() as connection:
        facility_ids = [
            connection.execute(
                insert(facilities).values(name=zone, timezone=zone).returning(facilities.c.id)
            ).scalar_one()
            for zone in ZONES
        ]
        connection.execute(
            insert(doctors), [{"name": f"Doctor {n}"} for n in range(workload.doctors)]
        )
        doctor_ids = connection.scalars(select(doctors.c.id).order_by(doctors.c.id)).all()
        connection.execute(
            insert(availability_rules),
            [
                {
                    "facility_id": facility_ids[n % len(facility_ids)],
                    "doctor_id": doctor_id,
                    "day_of_week": weekday,
                    "start_time": dtime(9),
                    "end_time": dtime(17),
                    "slot_duration_minutes": 15,
                }
                for n, doctor_id in enumerate(doctor_ids)
                for weekday in range(1, 6)
            ],
        )


def slot_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(availability_slots)) or 0)


# --- floors and peer --------------------------------------------------------------------------


def stored_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """The slots generate wrote, as the driver reads and writes them: the floor's input."""
    with engine.connect() as connection:
        result = connection.exec_driver_sql(
            f"SELECT {SLOT_COLUMNS} FROM availability_slots ORDER BY doctor_id, start_at"
        )
        return [tuple(row) for row in result]


CONTRACT_TABLE = "contract_slots"
"""The floor's table: the schema contract's slots table and nothing slotgen adds."""
SLOTGEN_INDEXES = {
    "(facility_id, start_at, status)": ("facility_id", "start_at", "status"),
    "rule_id": ("rule_id",),
    "service_id": ("service_id",),
}
"""The indexes slotgen's own table has beyond the contract (README: what each serves)."""


def contract_table(extra: Sequence[Sequence[str]] = ()) -> Table:
    """The contract's slots table: its columns, the unique key, the reserved index and the
    foreign keys (SQLite enforces them as slotgen's connections do), plus `extra` indexes.

    MariaDB indexes every foreign key column itself, which the contract then includes.
    """
    s = availability_slots.c
    table = Table(
        CONTRACT_TABLE,
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("facility_id", Integer, ForeignKey(facilities.c.id), nullable=False),
        Column("doctor_id", Integer, ForeignKey(doctors.c.id), nullable=False),
        Column("service_id", Integer, ForeignKey(services.c.id), nullable=True),
        Column("rule_id", Integer, ForeignKey(availability_rules.c.id), nullable=True),
        Column("start_at", s.start_at.type, nullable=False),
        Column("end_at", s.end_at.type, nullable=False),
        Column("status", s.status.type, nullable=False, server_default=text("'open'")),
        Column("reserved_until", s.reserved_until.type, nullable=True),
        Column("created_at", s.created_at.type, nullable=False),
        Column("updated_at", s.updated_at.type, nullable=False),
        UniqueConstraint("doctor_id", "start_at"),
        Index("ix_contract_reserved", "status", "reserved_until"),
    )
    for n, columns in enumerate(extra):
        Index(f"ix_contract_extra_{n}", *(table.c[name] for name in columns))
    return table


@contextmanager
def floor_table(engine: Engine, extra: Sequence[Sequence[str]] = ()) -> Iterator[Table]:
    table = contract_table(extra)
    table.drop(engine, checkfirst=True)
    table.create(engine)
    try:
        yield table
    finally:
        table.drop(engine)


def driver_floor(engine: Engine, rows: Sequence[tuple[Any, ...]], table: str) -> float:
    """The same rows in one transaction through the driver's fastest bulk path, into
    `table`, emptied first."""
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM {table}")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        started = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {table} ({SLOT_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.set_types(COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["?" if engine.dialect.name == "sqlite" else "%s"] * 8)
            cursor = driver.cursor()
            if engine.dialect.name == "sqlite":
                driver.execute("BEGIN IMMEDIATE")
            cursor.executemany(f"INSERT INTO {table} ({SLOT_COLUMNS}) VALUES ({marks})", rows)
        driver.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def bare_release(engine: Engine, now: datetime) -> float:
    """The one UPDATE a release amounts to, in one transaction through the driver."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        sqlite = engine.dialect.name == "sqlite"
        stamp: Any = now.replace(tzinfo=None).isoformat(" ") if sqlite else now.replace(tzinfo=None)
        mark = "?" if sqlite else "%s"
        started = time.perf_counter()
        if sqlite:
            driver.execute("BEGIN IMMEDIATE")
        driver.cursor().execute(
            "UPDATE availability_slots SET status = 'open', reserved_until = NULL, "
            f"updated_at = {mark} WHERE status = 'reserved' AND reserved_until < {mark}",
            (stamp, stamp),
        )
        driver.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def orm_peer(
    engine: Engine, table: Table, workload: Workload, subset_doctors: int
) -> tuple[float, str]:
    """The approach slotgen replaces, on a subset of doctors, extrapolated: read each rule
    as an ORM object, walk its dates and slots, ask whether each slot exists, add an ORM
    object for each one that does not, flush per rule, commit once. It writes into the
    contract's table, like the floor."""

    class Base(DeclarativeBase):  # a registry per call: each backend maps the tables anew
        pass

    # Classes mapped onto tables: their columns are attributes the type checker cannot see.
    Slot: Any = type("Slot", (Base,), {"__table__": table})
    Rule: Any = type("Rule", (Base,), {"__table__": availability_rules})
    Place: Any = type("Place", (Base,), {"__table__": facilities})

    with engine.begin() as connection:
        connection.execute(delete(table))
    scoped = _scoped(workload, subset_doctors, engine)
    first = date.fromisoformat(scoped.start_date or "")
    last = date.fromisoformat(scoped.end_date or "")
    started = time.perf_counter()
    with Session(engine) as session:
        zones = {place.id: ZoneInfo(place.timezone) for place in session.query(Place)}
        rules = session.query(Rule).filter(Rule.doctor_id.in_(scoped.doctor_ids)).all()
        for rule in rules:
            zone = zones[rule.facility_id]
            day = first
            while day <= last:
                if (day.weekday() + 1) % 7 == rule.day_of_week:
                    at = datetime.combine(day, rule.start_time, zone)
                    end = datetime.combine(day, rule.end_time, zone)
                    step = timedelta(minutes=rule.slot_duration_minutes)
                    while at + step <= end:
                        start_at, end_at = at.astimezone(UTC), (at + step).astimezone(UTC)
                        exists = (
                            session.query(Slot.id)
                            .filter(Slot.doctor_id == rule.doctor_id, Slot.start_at == start_at)
                            .first()
                        )
                        if exists is None:
                            session.add(
                                Slot(
                                    doctor_id=rule.doctor_id,
                                    start_at=start_at,
                                    end_at=end_at,
                                    facility_id=rule.facility_id,
                                    rule_id=rule.id,
                                    created_at=PLAN_NOW,
                                    updated_at=PLAN_NOW,
                                )
                            )
                        at += step
                day += timedelta(days=1)
            session.flush()
        session.commit()
    seconds = time.perf_counter() - started
    scale = workload.doctors / subset_doctors
    return seconds * scale, f"peer: {subset_doctors} doctors x {scale:g}"


def _scoped(workload: Workload, doctor_count: int, engine: Engine) -> GenerateParams:
    with engine.connect() as connection:
        ids = connection.scalars(
            select(doctors.c.id).order_by(doctors.c.id).limit(doctor_count)
        ).all()
    request = workload.request
    return GenerateParams(
        doctor_ids=tuple(ids), start_date=request.start_date, end_date=request.end_date
    )


# --- scenarios ---------------------------------------------------------------------------


def run_backend(backend: str, url: str, workload: Workload, args: argparse.Namespace) -> list[Row]:
    engine = open_engine(url)
    migrate.upgrade(engine)
    seed(engine, workload)
    rows: list[Row] = []
    scenarios = set(args.scenario)
    if "startup" in scenarios:
        rows += _startup(backend, url, max(args.repeat, 5))
    fresh = Row(backend, "fresh generate")
    floor_times: list[float] = []
    needs_floor = scenarios & {"fresh", "rerun", "daily", "exception", "indexes"}
    written: list[tuple[Any, ...]] = []
    with floor_table(engine) as contract:
        for _ in range(args.repeat if needs_floor else 0):
            clear_slots(engine)
            fresh.seconds.append(timed(lambda: generate(engine, workload.request, PLAN_NOW)))
            fresh.rows = slot_count(engine)
            written = stored_rows(engine)
            floor_times.append(driver_floor(engine, written, contract.name))
        fresh.floor = statistics.median(floor_times) if floor_times else None
        fresh.note = f"floor {fresh.floor or 0:.2f} s ({_floor_name(backend)}, contract table)"
        if "fresh" in scenarios:
            if args.peer_doctors:
                fresh.peer, peer_note = orm_peer(engine, contract, workload, args.peer_doctors)
                fresh.note += f"; {peer_note} = {fresh.peer:.1f} s"
            rows.append(fresh)
    if "indexes" in scenarios:
        rows += _index_costs(backend, engine, written, fresh, args.repeat)
    if scenarios - {"fresh", "memory"}:
        clear_slots(engine)
        generate(engine, workload.request, PLAN_NOW)
    if "rerun" in scenarios:
        rerun = Row(backend, "re-run, nothing to do", rows=fresh.rows, floor=fresh.floor)
        rerun.seconds = [
            timed(lambda: generate(engine, workload.request, PLAN_NOW)) for _ in range(args.repeat)
        ]
        rerun.note = "/ the fresh floor"
        rows.append(rerun)
    if "daily" in scenarios:
        rows.append(_daily(backend, engine, workload, fresh, args.repeat))
    if "exception" in scenarios:
        rows.append(_exception(backend, engine, workload, fresh, args.repeat))
    if "release" in scenarios:
        rows.append(_release(backend, engine, args.repeat))
    if "publish" in scenarios:
        rows.append(_publish(backend, engine, url, workload, args.repeat))
    engine.dispose()
    if scenarios & {"memory", "slots"}:
        loads = [("W", workload)]
        if args.large and backend in ("sqlite", "postgresql"):
            loads.append(("W-large", Workload(doctors=workload.doctors * 4, days=workload.days)))
        for name, load in loads:
            memory = _memory(backend, url, load, name)  # leaves the workload's slots stored
            if "memory" in scenarios:
                rows.append(memory)
            if "slots" in scenarios:
                rows += _slots_view(backend, url, name, memory.rows, args.repeat)
    if "import" in scenarios:
        rows += _imports(backend, url, args.import_rows)
    return rows


BARE_IMPORTS = "import typer, rich.console"
BARE_RELEASE = """
import sys
from datetime import UTC, datetime
from sqlalchemy import create_engine
now = datetime.now(UTC).replace(tzinfo=None)
stamp = now.isoformat(" ") if sys.argv[1].startswith("sqlite") else now
engine = create_engine(sys.argv[1])
with engine.begin() as connection:
    connection.exec_driver_sql(
        "UPDATE availability_slots SET status = 'open', reserved_until = NULL, updated_at = %s"
        " WHERE status = 'reserved' AND reserved_until < %s".replace(
            "%s", "?" if sys.argv[1].startswith("sqlite") else "%s"
        ),
        (stamp, stamp),
    )
"""


def _process_seconds(command: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - started


def _startup(backend: str, url: str, repeat: int) -> list[Row]:
    """Whole processes, as cron starts them, each against its bare counterpart; the two
    are interleaved so a change in the machine's load hits both alike."""
    pairs = [
        (
            "start-up: slotgen --help",
            [*_slotgen("--help")],
            [sys.executable, "-c", BARE_IMPORTS],
            "a bare `python -c 'import typer, rich.console'`",
        ),
        (
            "start-up: release, nothing to do",
            [*_slotgen("release", "--database-url", url)],
            [sys.executable, "-c", BARE_RELEASE, url],
            "a bare Python that imports SQLAlchemy and runs the same UPDATE",
        ),
    ]
    result = []
    for name, command, bare, what in pairs:
        row = Row(backend, name)
        floors = []
        for _ in range(repeat):
            floors.append(_process_seconds(bare))
            row.seconds.append(_process_seconds(command))
        row.floor = statistics.median(floors)
        row.note = f"floor {row.floor:.2f} s: {what}; interleaved"
        result.append(row)
    return result


def _index_costs(
    backend: str, engine: Engine, written: Sequence[tuple[Any, ...]], fresh: Row, repeat: int
) -> list[Row]:
    """What each index slotgen adds to the contract costs the same bulk insert."""
    variants: list[tuple[str, list[Sequence[str]]]] = [
        (f"contract + {name}", [columns]) for name, columns in SLOTGEN_INDEXES.items()
    ]
    variants.append(("contract + all of slotgen's indexes", list(SLOTGEN_INDEXES.values())))
    result = []
    for name, extra in variants:
        row = Row(backend, f"floor into {name}", rows=len(written), floor=fresh.floor)
        with floor_table(engine, extra) as table:
            row.seconds = [driver_floor(engine, written, table.name) for _ in range(repeat)]
        row.note = "the floor's insert, / the contract's floor"
        result.append(row)
    return result


def _floor_name(backend: str) -> str:
    return {
        "sqlite": "sqlite3 executemany",
        "postgresql": "psycopg binary COPY",
        "mariadb": "PyMySQL executemany",
    }[backend]


def _daily(backend: str, engine: Engine, workload: Workload, fresh: Row, repeat: int) -> Row:
    """Days 1-30 in the table, then the cron run one day later: days 2-31."""
    row = Row(backend, "daily run (1 new day)", floor=fresh.floor, note="/ the fresh floor")
    moved = _range(FIRST_DAY + timedelta(days=1), workload.days)
    for _ in range(repeat):
        clear_slots(engine)
        generate(engine, workload.request, PLAN_NOW)
        report: Any = None

        def run() -> None:
            nonlocal report
            report = generate(engine, moved, PLAN_NOW)

        row.seconds.append(timed(run))
        row.rows = report.created + report.unchanged
    return row


def _exception(backend: str, engine: Engine, workload: Workload, fresh: Row, repeat: int) -> Row:
    """A facility closed for one day: the re-run removes its open slots that day."""
    row = Row(backend, "exception added, re-run", floor=fresh.floor, note="/ the fresh floor")
    closed = FIRST_DAY + timedelta(days=9)
    with engine.connect() as connection:
        facility_id = connection.scalar(select(func.min(facilities.c.id)))
    removed = 0
    for _ in range(repeat):
        with engine.begin() as connection:
            connection.execute(delete(availability_exceptions))
        generate(engine, workload.request, PLAN_NOW)
        with engine.begin() as connection:
            connection.execute(
                insert(availability_exceptions).values(
                    facility_id=facility_id, start_date=closed, type="blocked"
                )
            )
        report: Any = None

        def run() -> None:
            nonlocal report
            report = generate(engine, workload.request, PLAN_NOW)

        row.seconds.append(timed(run))
        removed = report.removed
    row.rows = slot_count(engine)
    row.note += f"; removed {removed:,} open slots"
    with engine.begin() as connection:
        connection.execute(delete(availability_exceptions))
    generate(engine, workload.request, PLAN_NOW)
    return row


def _release(backend: str, engine: Engine, repeat: int) -> Row:
    """1% of slots reserved and expired, 1% reserved for later."""
    row = Row(backend, "release, 1% expired")
    floors = []
    slots = availability_slots.c
    for timed_release in (True, False) * repeat:
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(
                update(availability_slots).values(status="open", reserved_until=None)
            )
            connection.execute(
                update(availability_slots)
                .where(slots.id % 100 == 0)
                .values(status="reserved", reserved_until=now - timedelta(minutes=5))
            )
            connection.execute(
                update(availability_slots)
                .where(slots.id % 100 == 1)
                .values(status="reserved", reserved_until=now + timedelta(hours=1))
            )
        settle(engine)
        if timed_release:
            report: Any = None

            def run(at: datetime = now) -> None:
                nonlocal report
                report = release_expired(engine, ReleaseParams(), at)

            row.seconds.append(timed(run))
            row.rows = report.released
        else:
            floors.append(bare_release(engine, now))
    row.floor = statistics.median(floors)
    row.note = f"floor {row.floor:.3f} s (the bare UPDATE); released {row.rows:,}"
    return row


PUBLISH_BASE = "https://clinic.example.org/fhir"
FLOOR_SQL = (
    "SELECT id, doctor_id, service_id, start_at, end_at, status FROM availability_slots"
    " WHERE facility_id = :facility_id AND start_at > :since ORDER BY start_at, doctor_id"
)


def bare_publish(engine: Engine, folder: Path, since: datetime) -> tuple[float, int]:
    """The floor: the same rows selected through the driver, one json.dumps per line."""
    started = time.perf_counter()
    count = 0
    with engine.connect() as connection, (folder / "floor.ndjson").open("w") as out:
        facility_ids = connection.scalars(select(facilities.c.id).order_by(facilities.c.id)).all()
        for facility_id in facility_ids:
            result = connection.execute(
                text(FLOOR_SQL),
                {"facility_id": facility_id, "since": instant_param(connection, since)},
                execution_options={"stream_results": True, "yield_per": 5000},
            )
            for batch in result.partitions(5000):
                for row in batch:
                    out.write(json.dumps(list(row), default=str) + "\n")
                    count += 1
    return time.perf_counter() - started, count


def _publish(backend: str, engine: Engine, url: str, workload: Workload, repeat: int) -> Row:
    """The whole feed of W written into an empty folder, against the floor; then the peak
    RSS of a `slotgen publish` process of W moved to the coming weeks."""
    row = Row(backend, "publish FHIR feed")
    clear_slots(engine)  # W as generated fresh: the scenarios before may have moved it
    generate(engine, workload.request, PLAN_NOW)
    database = Database(engine, make_url(url), is_embedded_default=False)
    floors = []
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(repeat):
            folder = Path(scratch) / f"feed-{attempt}"
            request = PublishRequest(folder, PUBLISH_BASE, days=workload.days + 1)
            report: Any = None

            def run(request: PublishRequest = request) -> None:
                nonlocal report
                report = publish(database, request, PLAN_NOW)

            row.seconds.append(timed(run))
            row.rows = sum(report.slots.values())
            floor_seconds, floor_rows = bare_publish(engine, Path(scratch), PLAN_NOW)
            assert floor_rows == row.rows, (floor_rows, row.rows)
            floors.append(floor_seconds)
        # The CLI's clock is today's and --days reaches a year at most: W again, from
        # next Monday, generated at today's clock.
        today = datetime.now(UTC)
        monday = today.date() + relativedelta(days=+1, weekday=MO)
        clear_slots(engine)
        generate(engine, _range(monday, workload.days), today)
        days = (monday - today.date()).days + workload.days + 1
        command = [
            sys.executable, "-c", MEASURE, "-q", "publish", "--database-url", url,
            "--output", str(Path(scratch) / "cli"), "--base-url", PUBLISH_BASE,
            "--days", str(days), "--json",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        row.rss_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
        cli_slots = sum(json.loads(done.stdout)["slots"].values())
        assert cli_slots == row.rows, (cli_slots, row.rows)
    row.floor = statistics.median(floors)
    row.note = (
        f"floor {row.floor:.2f} s (the same rows through the driver, json.dumps per line); "
        f"{report.files} files; peak RSS of a publish CLI process of {cli_slots:,} slots"
    )
    return row


MEASURE = """
import resource, sys
from slotgen.cli.app import app
try:
    app(sys.argv[1:], prog_name="slotgen")
except SystemExit:
    pass
finally:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    print(peak.split()[1], file=sys.stderr)
"""


def _memory(backend: str, url: str, workload: Workload, name: str) -> Row:
    """Peak RSS of a fresh `slotgen generate` from the command line, in its own process."""
    engine = open_engine(url)
    seed(engine, workload)
    engine.dispose()
    last = FIRST_DAY + timedelta(days=workload.days - 1)
    command = [
        sys.executable,
        "-c",
        MEASURE,
        "-q",
        "generate",
        "--database-url",
        url,
        "--start-date",
        FIRST_DAY.isoformat(),
        "--end-date",
        last.isoformat(),
        "--json",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    report = json.loads(done.stdout)
    rss_kb = int(done.stderr.strip().splitlines()[-1])
    row = Row(backend, f"memory, fresh {name}", [seconds], report["created"])
    row.rss_mb = rss_kb / 1024
    row.note = f"{workload.doctors} doctors x {workload.days} days, whole CLI process"
    return row


def _slotgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "slotgen", "-q", *args]


def _slots_view(backend: str, url: str, name: str, stored: int, repeat: int) -> list[Row]:
    """`slotgen slots` as a person runs it: the first week, and a long list cut by `head`.

    Whole processes; start-up is given as a `slots --help` process for comparison.
    """
    engine = open_engine(url)
    settle(engine)
    engine.dispose()
    week = ["slots", "--from", FIRST_DAY.isoformat(), "--database-url", url]
    start_up = statistics.median(
        timed(lambda: subprocess.run(_slotgen("slots", "--help"), capture_output=True, check=True))
        for _ in range(repeat)
    )
    view = Row(backend, f"slots, first week of {name}", rows=stored)
    for _ in range(repeat):
        view.seconds.append(
            timed(lambda: subprocess.run(_slotgen(*week), capture_output=True, check=True))
        )
    view.note = f"{stored:,} slots stored; whole process, start-up {start_up:.2f} s"
    if backend == "postgresql":
        view.note += "; after VACUUM ANALYZE, as autovacuum leaves the table"

    month = [*week, "--to", (FIRST_DAY + timedelta(days=29)).isoformat(), "--limit", "100000"]
    head = Row(backend, f"slots --limit 100000, first lines, {name}", rows=stored)
    for _ in range(repeat):
        started = time.perf_counter()
        with subprocess.Popen(_slotgen(*month), stdout=subprocess.PIPE, text=True) as listing:
            assert listing.stdout is not None
            for _ in range(2):
                listing.stdout.readline()
            head.seconds.append(time.perf_counter() - started)
            listing.kill()
    command = [sys.executable, "-c", MEASURE, "-q", *month]
    done = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True
    )
    head.rss_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    head.note = "time to the first two lines; peak RSS of the whole 100,000-slot list"
    return [view, head]


# --- import ------------------------------------------------------------------------------

_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def _import_schedule(rows: int) -> dict[str, list[dict[str, Any]]]:
    """`rows` rows: a facility per 2,000 rows, a doctor per 100, rules for the rest."""
    facility_count = max(1, rows // 2000)
    doctor_count = max(1, rows // 100)
    return {
        "facilities": [
            {"id": n, "name": f"Facility {n}", "timezone": ZONES[n % len(ZONES)]}
            for n in range(1, facility_count + 1)
        ],
        "doctors": [{"id": n, "name": f"Doctor {n}"} for n in range(1, doctor_count + 1)],
        "availability_rules": [
            {
                "id": n + 1,
                "facility_id": 1 + n % facility_count,
                "doctor_id": 1 + n % doctor_count,
                "day_of_week": _WEEKDAYS[n % 7],
                "start_time": f"{8 + n % 8:02d}:00",
                "end_time": f"{10 + n % 8:02d}:30",
                "slot_duration_minutes": 15,
                "buffer_minutes": 5,
                "valid_from": "2083-01-01",
                "valid_until": "2083-12-31",
                "is_active": n % 3 != 0,
            }
            for n in range(max(1, rows - facility_count - doctor_count))
        ],
    }


def _import_files(folder: Path, kind: str, rows: int) -> list[Path]:
    """The schedule as one JSON file (indented, as people and tools write it) or CSV files."""
    folder.mkdir()
    tables = _import_schedule(rows)
    if kind == "JSON":
        path = folder / "schedule.json"
        path.write_text(json.dumps(tables, indent=2))
        return [path]
    paths = []
    for table, table_rows in tables.items():
        path = folder / f"{table}.csv"
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, list(table_rows[0]))
            writer.writeheader()
            writer.writerows(table_rows)
        paths.append(path)
    return paths


def _import_peak(url: str, paths: Sequence[Path]) -> tuple[float, dict[str, Any], int]:
    """Seconds, the --json report and peak RSS (kB) of `slotgen import` into emptied tables."""
    engine = open_engine(url)
    wipe(engine)
    engine.dispose()
    command = [sys.executable, "-c", MEASURE, "-q", "import", *map(str, paths)]
    command += ["--database-url", url, "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    return seconds, json.loads(done.stdout), int(done.stderr.strip().splitlines()[-1])


def _imports(backend: str, url: str, rows: int) -> list[Row]:
    """Peak RSS of a whole `slotgen import` of a large JSON file, and of the same as CSV.

    The growth is also given over the same command on a file with a row per table: that
    much every import costs, whatever the file (interpreter, SQLAlchemy, Alembic, the
    connection).
    """
    result = []
    with tempfile.TemporaryDirectory() as temporary:
        for kind in ("JSON", "CSV"):
            folder = Path(temporary) / kind
            folder.mkdir()
            baseline = _import_peak(url, _import_files(folder / "one", kind, 3))[2]
            paths = _import_files(folder / "large", kind, rows)
            size = sum(path.stat().st_size for path in paths) / 1024
            seconds, report, peak = _import_peak(url, paths)
            row = Row(backend, f"import {kind}, {rows:,} rows", [seconds], report["inserted"])
            row.rss_mb = peak / 1024
            growth = (peak - baseline) / size
            row.note = (
                f"file {size / 1024:.1f} MB: peak {peak / size:.1f}x the file, {growth:.1f}x "
                f"over a one-row import ({baseline / 1024:.0f} MB); whole CLI process"
            )
            result.append(row)
    engine = open_engine(url)
    wipe(engine)
    engine.dispose()
    return result


def markdown(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    gc.set_threshold(*COLLECTOR_THRESHOLDS)  # as the slotgen command sets it for itself
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite,postgresql,mariadb")
    parser.add_argument("--database-url", help="Use (and wipe) this database, one backend.")
    parser.add_argument("--scenario", default=",".join(SCENARIOS))
    parser.add_argument("--doctors", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-doctors", type=int, default=25)
    parser.add_argument("--large", action="store_true", help="Also W-large's peak memory.")
    parser.add_argument("--import-rows", type=int, default=100_000, help="Rows of the import file.")
    args = parser.parse_args()
    args.scenario = args.scenario.split(",")
    workload = Workload(args.doctors, args.days)
    if args.database_url:
        backends = [make_url(args.database_url).get_backend_name().replace("mysql", "mariadb")]
    else:
        backends = args.backend.split(",")
    rows: list[Row] = []
    for backend in backends:
        with bench_database(backend, args.database_url) as url:
            rows += run_backend(backend, url, workload, args)
        print(markdown(rows[-8:]), file=sys.stderr, flush=True)
    print(
        f"{workload.doctors} doctors x {workload.days} days, repeat {args.repeat}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"max RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB"
    )
    print(markdown(rows))


if __name__ == "__main__":
    main()
