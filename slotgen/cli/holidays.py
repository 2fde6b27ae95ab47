"""`slotgen holidays`: public holidays as facility exceptions, kept in step with the
`holidays` package's calendars, and the holidays a facility opens on anyway."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from slotgen.cli.options import (
    DEFAULT_TRIGGER,
    BackoffOption,
    DatabaseUrlOption,
    FacilityFilter,
    JsonOption,
    MetricsFileOption,
    TriesOption,
    TriggerOption,
    database,
    ids,
    ping_url_option,
)
from slotgen.cli.output import line, message, print_json, stdout, table
from slotgen.cli.views import job_outcome
from slotgen.errors import BadInput
from slotgen.vocabulary import Job

if TYPE_CHECKING:
    from slotgen.services.holidays import HolidaysReport

SHOWN_TAKEN = 100

app = typer.Typer(
    help="Public holidays as facility exceptions, from each facility's holiday_country.",
    no_args_is_help=True,
)


def _years(text: str | None) -> tuple[int, ...]:
    if text is None:
        return ()
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise BadInput(
            f"--years {text!r}: give years separated by commas, e.g. 2027,2028"
        ) from None


@app.command("sync")
def sync_command(
    facility: FacilityFilter = None,
    years: Annotated[
        str | None,
        typer.Option(
            metavar="YEAR,...",
            help="These calendar years, e.g. 2027,2028. Default: this year and next, in each "
            "facility's zone.",
        ),
    ] = None,
    ahead: Annotated[
        str | None,
        typer.Option(
            metavar="SPAN",
            help="From today to this far ahead in each facility's zone, e.g. 400d or 8w "
            "(instead of --years).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="Show the changes; make none.")
    ] = False,
    tries: TriesOption = 1,
    backoff: BackoffOption = 5.0,
    trigger: TriggerOption = DEFAULT_TRIGGER,
    ping_url: Annotated[str | None, ping_url_option("holidays")] = None,
    metrics_file: MetricsFileOption = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Close each facility with a holiday_country on its public holidays (safe to re-run).

    Creates a whole-day exception per holiday (type blocked, reason the holiday's name),
    updates renamed or moved ones and removes the ones that no longer apply. Exceptions
    entered by people are never touched, nor holidays a facility opens on (see
    `holidays openings`). Run `slotgen generate` afterwards so the slots follow.
    """
    from slotgen.services.holidays import HolidaysRequest, sync_holidays
    from slotgen.services.params import HolidaysParams
    from slotgen.services.runner import RunOptions

    request = HolidaysRequest(
        HolidaysParams(ids(facility), _years(years), ahead),
        dry_run=dry_run,
        options=RunOptions(trigger, tries, backoff, ping_url, metrics_file),
    )
    metered = None if dry_run else (metrics_file, Job.HOLIDAYS)
    with database(database_url, metered=metered) as opened:
        result = sync_holidays(opened, request, datetime.now(UTC))
    job_outcome(result)
    if as_json:
        print_json({**result.json(), **(result.report.json() if result.report else {})})
    elif result.report is not None:
        _print_report(result.report)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _print_report(report: "HolidaysReport") -> None:
    from slotgen.core.dates import load_zone, local_text

    line(report.summary())
    changes = table("Holiday exceptions")
    for column in ("facility", "date", "holiday", "change", "exception"):
        changes.add_column(column, overflow="fold")
    verb = "would be " if report.dry_run else ""
    for synced in report.facilities:
        where = f"{synced.facility} ({synced.facility_id})"
        for holiday in synced.plan.create:
            new_id = synced.created_ids.get(holiday.day)
            changes.add_row(
                where, str(holiday.day), holiday.name, f"{verb}created", str(new_id or "")
            )
        for change in synced.plan.update:
            was = change.before
            if was.start_date != change.holiday.day:
                what = f"{verb}moved from {was.start_date}"
            elif was.reason != change.holiday.name:
                what = f"{verb}renamed from {was.reason}"
            else:
                what = f"{verb}updated (was {was.source})"
            changes.add_row(
                where, str(change.holiday.day), change.holiday.name, what, str(change.id)
            )
        for row in synced.plan.remove:
            changes.add_row(
                where, str(row.start_date), row.reason or "", f"{verb}removed", str(row.id)
            )
        for holiday in synced.plan.kept_open:
            changes.add_row(where, str(holiday.day), holiday.name, "kept open", "")
    if changes.row_count:
        stdout().print(changes)
    to_remove = sum(synced.open_slots_to_remove for synced in report.facilities)
    taken = [(synced, slot) for synced in report.facilities for slot in synced.taken]
    if to_remove or taken:
        will = "would then remove" if report.dry_run else "will remove"
        line(f"The next `slotgen generate` {will} {to_remove:,} open slot(s) on the new holidays.")
    if taken:
        line(
            f"{len(taken):,} reserved or booked slot(s) fall on the new holidays and are kept; "
            "call these patients:"
        )
        kept = table()
        for column in ("slot", "facility", "doctor", "starts", "status"):
            kept.add_column(column, overflow="fold")
        for synced, slot in taken[:SHOWN_TAKEN]:
            kept.add_row(
                str(slot.id),
                f"{synced.facility} ({synced.facility_id})",
                f"{slot.doctor} ({slot.doctor_id})",
                local_text(slot.start_at, load_zone(synced.timezone)),
                slot.status,
            )
        stdout().print(kept)
        if len(taken) > SHOWN_TAKEN:
            line(f"… and {len(taken) - SHOWN_TAKEN:,} more (see --json)")
    if report.problems:
        problems = table("Facilities skipped")
        for column in ("table", "id", "reason"):
            problems.add_column(column)
        for facility_id, reason in report.problems:
            problems.add_row("facilities", str(facility_id), reason)
        stdout().print(problems)


@app.command("openings")
def openings_command(
    facility: FacilityFilter = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the public holidays facilities open on, which `holidays sync` leaves open.

    A day is added when someone removes its synced exception with `exceptions remove`;
    `holidays restore ID` forgets it, so the next sync closes the day again.
    """
    from slotgen.services.holidays import OpeningsRequest, list_openings, opening_json

    with database(database_url) as opened:
        openings = list_openings(opened, OpeningsRequest(ids(facility)), datetime.now(UTC))
    if as_json:
        print_json({"openings": [opening_json(opening) for opening in openings]})
        return
    if not openings:
        message("No facility opens on a public holiday.")
        return
    listed = table("Open on public holidays")
    for column in ("id", "facility", "date", "holiday", "calendar"):
        listed.add_column(column, overflow="fold")
    for opening in openings:
        listed.add_row(
            str(opening.id),
            f"{opening.facility} ({opening.facility_id})",
            str(opening.holiday_date),
            opening.name or "",
            opening.source or "",
        )
    stdout().print(listed)


@app.command("restore")
def restore_command(
    opening_id: Annotated[
        int, typer.Argument(metavar="ID", help="The opening's id, from `holidays openings`.")
    ],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Close a facility on a holiday again: forget that it opens then.

    The next `slotgen holidays sync` recreates the holiday's exception, and the
    `slotgen generate` after it removes that day's open slots.
    """
    from slotgen.services.holidays import restore_holiday

    with database(database_url) as opened:
        restored = restore_holiday(opened, opening_id, datetime.now(UTC))
    line(
        f"Facility {restored.facility_id} no longer opens on {restored.holiday_date} "
        f"({restored.name or 'a public holiday'}). The next `slotgen holidays sync` closes it "
        "again."
    )
