"""`slotgen generate`: materialise the slots the rules describe."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated

import typer
from rich.progress import Progress as RichProgress
from rich.table import Table

from slotgen.cli.common import (
    DatabaseUrlOption,
    DoctorFilter,
    FacilityFilter,
    JsonOption,
    open_database,
    print_json,
    stderr,
    stdout,
)
from slotgen.cli.jobs import (
    BackoffOption,
    TriesOption,
    Trigger,
    TriggerOption,
    perform,
    ping_url_option,
)
from slotgen.services.generate import GenerateReport, Progress
from slotgen.services.jobs import generate_job
from slotgen.services.runner import RunRequest

SHOWN_CONFLICTS = 50


def generate_command(
    facility: FacilityFilter = None,
    doctor: DoctorFilter = None,
    start_date: Annotated[
        str | None,
        typer.Option(
            help="First date, in each facility's own zone: YYYY-MM-DD, today, tomorrow, +7d. "
            "Default: today."
        ),
    ] = None,
    end_date: Annotated[
        str | None, typer.Option(help="Last date (inclusive). Default: start + 30 days.")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(min=0, help="End this many days after the start (instead of --end-date)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; change nothing.")
    ] = False,
    tries: TriesOption = 1,
    backoff: BackoffOption = 5.0,
    trigger: TriggerOption = Trigger.MANUAL,
    ping_url: Annotated[str | None, ping_url_option("generate")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create, update and remove open slots so the table matches the rules (safe to re-run).

    Reserved and booked slots are never changed; where they disagree with the rules they
    are listed as conflicts. Exits 1 when a bad rule or exception was skipped. A dry run
    is not recorded in job_runs.
    """
    params = {
        "facility_ids": list(facility or ()),
        "doctor_ids": list(doctor or ()),
        "start_date": start_date,
        "end_date": end_date,
        "days": days,
        "dry_run": dry_run,
    }
    request = RunRequest("generate", params, trigger, tries, backoff, ping_url=ping_url)
    with open_database(database_url) as database, _progress(enabled=not as_json) as progress:
        finished = perform(database, request, generate_job(params, progress), dry_run=dry_run)
    report = finished.report
    if as_json:
        extra = report_json(report) if isinstance(report, GenerateReport) else {}
        print_json({**finished.json(), **extra})
    elif isinstance(report, GenerateReport):
        _print_report(report)
    if finished.exit_code:
        raise typer.Exit(finished.exit_code)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on a terminal; nothing at all under cron."""
    if not enabled or not stdout.is_terminal:
        yield None
        return
    with RichProgress(console=stderr, transient=True) as bar:
        task = bar.add_task("Generating", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def report_json(report: GenerateReport) -> dict[str, object]:
    return {
        **report.stats(),
        "dry_run": report.dry_run,
        "created_per_rule": {str(k): v for k, v in sorted(report.created_per_rule.items())},
        "conflict_list": [
            {**asdict(conflict), "start_at": conflict.start_at.isoformat()}
            for conflict in report.conflicts
        ],
        "bad_rows": [asdict(problem) for problem in report.problems.values()],
    }


def _print_report(report: GenerateReport) -> None:
    stdout.print(report.summary(), markup=False)
    if report.conflicts:
        table = Table(title="Conflicts needing attention", title_justify="left")
        for column in ("kind", "doctor", "starts (UTC)", "slot", "rule", "other rule", "detail"):
            table.add_column(column)
        for conflict in report.conflicts[:SHOWN_CONFLICTS]:
            table.add_row(
                conflict.kind,
                str(conflict.doctor_id),
                conflict.start_at.strftime("%Y-%m-%d %H:%M"),
                _text(conflict.slot_id),
                _text(conflict.rule_id),
                _text(conflict.other_rule_id),
                conflict.detail,
            )
        stdout.print(table)
        if len(report.conflicts) > SHOWN_CONFLICTS:
            stdout.print(f"… and {len(report.conflicts) - SHOWN_CONFLICTS:,} more (see --json)")
    if report.problems:
        table = Table(title="Bad rows skipped", title_justify="left")
        for column in ("table", "id", "reason"):
            table.add_column(column)
        for problem in report.problems.values():
            table.add_row(problem.table, str(problem.id), problem.reason)
        stdout.print(table)


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
