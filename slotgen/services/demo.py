"""`demo`: a sample clinic with real slots and runs on record, in one command.

It goes through the very code the real commands use (import, the runner, generate,
release, the runs history), so what a newcomer sees is what production does.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources

from slotgen.core.dates import load_zone
from slotgen.core.model import EXCEPTIONS_TABLE
from slotgen.db import demo as store
from slotgen.db.database import Database
from slotgen.errors import BadInput
from slotgen.importing.formats import parse_toml
from slotgen.importing.rows import SourceRow, Where
from slotgen.services.generate import GenerateReport, GenerateRequest, generate
from slotgen.services.importer import ImportReport, import_rows
from slotgen.services.jobs import JobResult
from slotgen.services.params import GenerateParams
from slotgen.services.release import ReleaseReport, ReleaseRequest, release
from slotgen.services.runs import RunsRequest, RunsResult, list_runs
from slotgen.vocabulary import SLOT_BUCKETS, slot_bucket

SAMPLE = "sample_clinic.toml"
DAYS = 30
SUMMARY_DAYS = 7
KATHMANDU, BROOKLYN, DR_LOPEZ = 3, 2, 3
LOPEZ_DAYS = (0, 2)
"""Dr. Lopez works in Brooklyn on Mondays and Wednesdays (Python's weekday numbers)."""


@dataclass(frozen=True)
class FacilityDay:
    facility_id: int
    facility: str
    timezone: str
    day: date
    counts: dict[str, int]


@dataclass(frozen=True)
class DemoResult:
    location: str
    imported: ImportReport
    generated: JobResult[GenerateReport] | None = None
    expired: int = 0
    released: JobResult[ReleaseReport] | None = None
    days: tuple[FacilityDay, ...] = ()
    runs: RunsResult | None = None


NOT_PRODUCTION = "--yes-this-is-not-production"


def demo(database: Database, now: datetime, *, not_production: bool = False) -> DemoResult:
    """Import the sample clinic, generate 30 days, play patients, release, and summarise.

    Safe to run again: rows keep their ids and generate changes nothing twice. A report
    with import problems, or a generate that did not succeed, ends the demo there.

    It rewrites rules, adds exceptions and makes fake bookings, so it runs only on the
    embedded default or on a database with no schedule in it, unless the operator says
    `--yes-this-is-not-production`: pointed at a clinic's real database by mistake (an
    exported SLOTGEN_DATABASE_URL), it must refuse, not rebook patients.
    """
    if not (database.is_embedded_default or not_production):
        with database.engine.connect() as connection:
            in_use = store.holds_a_schedule(connection)
        if in_use:
            raise BadInput(
                f"the demo would write a sample clinic and fake bookings into {database.location}, "
                f"which already holds a schedule: use the embedded default or an empty "
                f"database, or add {NOT_PRODUCTION} if this is a test database"
            )
    source = resources.files("slotgen").joinpath("data", SAMPLE)
    parsed = parse_toml(SAMPLE, source.read_text(encoding="utf-8"))
    imported = import_rows(
        database.engine, [*parsed.rows, *dated_exceptions(now)], now, problems=parsed.problems
    )
    if imported.problems:
        return DemoResult(database.location, imported)
    generated = generate(database, GenerateRequest(GenerateParams(days=DAYS)), now)
    if generated.exit_code:
        return DemoResult(database.location, imported, generated)
    with database.engine.begin() as connection:
        expired = store.play_patients(connection, datetime.now(UTC))
    released = release(database, ReleaseRequest(), datetime.now(UTC))
    start = datetime.now(UTC)
    with database.engine.connect() as connection:
        rows = store.slots_between(connection, start, start + timedelta(days=SUMMARY_DAYS + 1))
    runs = list_runs(database, RunsRequest(), datetime.now(UTC))
    return DemoResult(
        database.location, imported, generated, expired, released, slot_days(rows, start), runs
    )


def dated_exceptions(now: datetime) -> list[SourceRow]:
    """A holiday and an afternoon off that always fall within the coming weeks.

    The sample file is static, so these are dated here from today, each in its facility's
    own zone, under fixed ids: a second run moves them instead of adding more.
    """
    holiday = now.astimezone(load_zone("Asia/Kathmandu")).date() + timedelta(days=8)
    day = now.astimezone(load_zone("America/New_York")).date() + timedelta(days=2)
    while day.weekday() not in LOPEZ_DAYS:
        day += timedelta(days=1)
    where = Where("slotgen demo", index="dated exceptions")
    return [
        SourceRow(
            EXCEPTIONS_TABLE,
            where,
            {
                "id": 901,
                "facility_id": KATHMANDU,
                "start_date": holiday,
                "reason": "Public holiday (dated by slotgen demo)",
            },
        ),
        SourceRow(
            EXCEPTIONS_TABLE,
            where,
            {
                "id": 902,
                "facility_id": BROOKLYN,
                "doctor_id": DR_LOPEZ,
                "start_date": day,
                "start_time": "13:00",
                "end_time": "17:00",
                "reason": "Afternoon off (dated by slotgen demo)",
            },
        ),
    ]


def slot_days(rows: list[store.FacilitySlot], start: datetime) -> tuple[FacilityDay, ...]:
    """Slots per facility and local day, from today there, counted by the vocabulary's
    buckets: a status the web app adds is counted as other (and is taken)."""
    facilities: dict[int, tuple[str, str]] = {}
    counts: Counter[tuple[int, date, str]] = Counter()
    for row in rows:
        facilities[row.facility_id] = (row.facility, row.timezone)
        if row.start_at is not None and row.status is not None:
            local_day = row.start_at.astimezone(load_zone(row.timezone)).date()
            counts[row.facility_id, local_day, slot_bucket(row.status)] += 1
    days = []
    for facility_id, (name, zone) in facilities.items():
        today = start.astimezone(load_zone(zone)).date()
        for offset in range(SUMMARY_DAYS):
            day = today + timedelta(days=offset)
            tally = {bucket: counts[facility_id, day, bucket] for bucket in SLOT_BUCKETS}
            days.append(FacilityDay(facility_id, name, zone, day, tally))
    return tuple(days)
