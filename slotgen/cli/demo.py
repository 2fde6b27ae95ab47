"""`slotgen demo`: a sample clinic with real slots and runs on record, in one command.

It goes through the very code the real commands use (import, the runner, generate,
release, `slotgen runs`), so what a newcomer sees is what production does.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import typer
from rich import box
from rich.table import Table

from slotgen.cli import runs
from slotgen.cli.common import DatabaseUrlOption, open_database, stderr, stdout
from slotgen.cli.importer import fail_on_problems
from slotgen.cli.jobs import Finished, Trigger, perform
from slotgen.core.dates import load_zone
from slotgen.core.model import EXCEPTIONS_TABLE
from slotgen.core.schedule_file import SourceRow, Where, parse_toml
from slotgen.db import demo as store
from slotgen.db.database import Database
from slotgen.errors import ExitCode
from slotgen.services.generate import GenerateReport
from slotgen.services.importer import import_rows
from slotgen.services.jobs import generate_job, release_job
from slotgen.services.release import DEFAULT_BATCH_SIZE, ReleaseReport
from slotgen.services.runner import RunRequest

SAMPLE = "sample_clinic.toml"
DAYS = 30
SUMMARY_DAYS = 7
KATHMANDU, BROOKLYN, DR_LOPEZ = 3, 2, 3
LOPEZ_DAYS = (0, 2)
"""Dr. Lopez works in Brooklyn on Mondays and Wednesdays (Python's weekday numbers)."""


def demo_command(ctx: typer.Context, database_url: DatabaseUrlOption = None) -> None:
    """Load a sample clinic, generate 30 days of slots, release stale reservations, show it.

    Three facilities (Berlin, Brooklyn, Kathmandu), eight doctors, rules and exceptions
    from the shipped sample schedule, plus a holiday and an afternoon off dated from
    today. Safe to run again: rows keep their ids and generate changes nothing twice.
    """
    now = datetime.now(UTC)
    source = resources.files("slotgen").joinpath("data", SAMPLE)
    parsed = parse_toml(SAMPLE, source.read_text(encoding="utf-8"))
    with open_database(database_url) as database:
        stderr.print(f"Demo clinic in {database.location}", markup=False)
        report = import_rows(
            database.engine,
            [*parsed.rows, *dated_exceptions(now)],
            now,
            problems=parsed.problems,
        )
        fail_on_problems(report)
        stdout.print(report.summary(), markup=False)

        generated = _run(database, "generate", {"days": DAYS, "dry_run": False})
        if generated.exit_code != ExitCode.OK:
            raise typer.Exit(generated.exit_code)
        with database.engine.begin() as connection:
            expired = store.play_patients(connection, datetime.now(UTC))
        stdout.print(
            f"Booked a slot and held one for 15 minutes at each facility; "
            f"{expired} reservations ran out 5 minutes ago",
            markup=False,
        )
        released = _run(database, "release", {"batch_size": DEFAULT_BATCH_SIZE, "dry_run": False})

        summary_start = datetime.now(UTC)
        with database.engine.connect() as connection:
            rows = store.slots_between(
                connection, summary_start, summary_start + timedelta(days=SUMMARY_DAYS + 1)
            )
    stdout.print(slot_table(rows, summary_start))
    runs.list_runs(ctx, database_url=database_url)
    if released.exit_code != ExitCode.OK:
        raise typer.Exit(released.exit_code)


def _run(database: Database, job: str, params: dict[str, Any]) -> Finished:
    """A run on record, exactly as `slotgen generate` / `slotgen release` would make it."""
    call = generate_job(params) if job == "generate" else release_job(params)
    request = RunRequest(job, params, Trigger.MANUAL)
    finished = perform(database, request, call, dry_run=False)
    if isinstance(finished.report, GenerateReport | ReleaseReport):
        stdout.print(finished.report.summary(), markup=False)
    return finished


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


def slot_table(rows: Sequence[Any], start: datetime) -> Table:
    """Open, reserved and booked slots per facility and local day, from today there.

    Any status other than open or reserved counts as booked: the web app may use its own
    words, and slotgen treats them all as taken.
    """
    facilities: dict[int, tuple[str, str]] = {}
    counts: Counter[tuple[int, date, str]] = Counter()
    for row in rows:
        facilities[row.id] = (row.name, row.timezone)
        if row.start_at is not None:
            local_day = row.start_at.astimezone(load_zone(row.timezone)).date()
            counts[row.id, local_day, row.status] += 1
    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"Slots in the next {SUMMARY_DAYS} days, by local date",
        title_justify="left",
    )
    table.add_column("facility", no_wrap=True)
    table.add_column("day", no_wrap=True)
    for column in ("open", "reserved", "booked"):
        table.add_column(column, justify="right")
    for facility_id, (name, zone) in facilities.items():
        today = start.astimezone(load_zone(zone)).date()
        labels = [name, f"({zone})"]
        for offset in range(SUMMARY_DAYS):
            day = today + timedelta(days=offset)
            shown = [counts[facility_id, day, status] for status in ("open", "reserved")]
            everything = sum(n for (f, d, _), n in counts.items() if (f, d) == (facility_id, day))
            table.add_row(
                labels[offset] if offset < len(labels) else "",
                f"{day:%a %Y-%m-%d}",
                *(str(n) for n in shown),
                str(everything - sum(shown)),
                end_section=offset == SUMMARY_DAYS - 1,
            )
    return table
