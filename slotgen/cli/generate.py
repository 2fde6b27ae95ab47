"""`slotgen generate`: materialise the slots the rules describe."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from slotgen.cli.options import (
    DEFAULT_TRIGGER,
    BackoffOption,
    DatabaseUrlOption,
    DoctorFilter,
    FacilityFilter,
    JsonOption,
    MetricsFileOption,
    TriesOption,
    TriggerOption,
    database,
    ids,
    ping_url_option,
)
from slotgen.cli.output import line, print_json, stderr, stdout, table
from slotgen.cli.views import job_outcome
from slotgen.vocabulary import Job

if TYPE_CHECKING:
    from slotgen.services.generate import GenerateReport

SHOWN_CONFLICTS = 50


def generate_command(
    facility: FacilityFilter = None,
    doctor: DoctorFilter = None,
    start_date: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="First date, in each facility's own zone: YYYY-MM-DD, today, tomorrow, +7d. "
            "Default: today.",
        ),
    ] = None,
    end_date: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Last date (inclusive). Default: start + 30 days."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(min=0, help="End this many days after the start (instead of --end-date)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="Show the plan; change nothing.")
    ] = False,
    tries: TriesOption = 1,
    backoff: BackoffOption = 5.0,
    trigger: TriggerOption = DEFAULT_TRIGGER,
    ping_url: Annotated[str | None, ping_url_option("generate")] = None,
    metrics_file: MetricsFileOption = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create, update and remove open slots so the table matches the rules (safe to re-run).

    Reserved and booked slots are never changed; where they disagree with the rules they
    are listed as conflicts. Exits 1 when a bad rule or exception was skipped. A dry run
    is not recorded in job_runs.
    """
    from slotgen.services.generate import GenerateRequest, generate
    from slotgen.services.params import GenerateParams
    from slotgen.services.runner import RunOptions

    request = GenerateRequest(
        GenerateParams(ids(facility), ids(doctor), start_date, end_date, days),
        dry_run=dry_run,
        options=RunOptions(trigger, tries, backoff, ping_url, metrics_file),
    )
    metered = None if dry_run else (metrics_file, Job.GENERATE)
    with (
        database(database_url, metered=metered) as opened,
        _progress(enabled=not as_json) as progress,
    ):
        result = generate(opened, request, datetime.now(UTC), progress)
    job_outcome(result)
    if as_json:
        print_json({**result.json(), **(result.report.json() if result.report else {})})
    elif result.report is not None:
        _print_report(result.report)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing at all under cron."""
    if not enabled or not stdout().is_terminal:
        yield None
        return
    from rich.progress import Progress  # a terminal's bar only: cron never loads it

    with Progress(console=stderr(), transient=True) as bar:
        task = bar.add_task("Generating", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _print_report(report: "GenerateReport") -> None:
    line(report.summary())
    if report.conflicts:
        conflicts = table("Conflicts needing attention")
        for column in ("kind", "doctor", "starts (UTC)", "slot", "rule", "other rule", "detail"):
            conflicts.add_column(column)
        for conflict in report.conflicts[:SHOWN_CONFLICTS]:
            conflicts.add_row(
                conflict.kind,
                str(conflict.doctor_id),
                conflict.start_at.strftime("%Y-%m-%d %H:%M"),
                _text(conflict.slot_id),
                _text(conflict.rule_id),
                _text(conflict.other_rule_id),
                conflict.detail,
            )
        stdout().print(conflicts)
        if len(report.conflicts) > SHOWN_CONFLICTS:
            line(f"… and {len(report.conflicts) - SHOWN_CONFLICTS:,} more (see --json)")
    if report.problems:
        problems = table("Bad rows skipped")
        for column in ("table", "id", "reason"):
            problems.add_column(column)
        for problem in report.problems.values():
            problems.add_row(problem.table, str(problem.id), problem.reason)
        stdout().print(problems)


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
