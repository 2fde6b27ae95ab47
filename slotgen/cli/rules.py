"""`slotgen rules`: the availability rules as people read them, what is wrong with them
before `generate` finds out, and the dates a rule applies on."""

from datetime import UTC, datetime
from typing import Annotated

import typer

from slotgen.cli.options import (
    DatabaseUrlOption,
    DoctorFilter,
    FacilityFilter,
    JsonOption,
    database,
    ids,
)
from slotgen.cli.output import line, message, print_json, stdout, table
from slotgen.errors import ExitCode

COMPACT = {"id", "day", "window", "active"}
"""Short columns that must never wrap; the rest fold on a narrow terminal."""

app = typer.Typer(
    help="List the availability rules, check them for mistakes, preview a rule's dates.",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    facility: FacilityFilter = None,
    doctor: DoctorFilter = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the rules: weekday, how it repeats, local window, zone, slot length, service,
    validity.

    Times are wall-clock times in the facility's zone; an end of 24:00 is stored as
    00:00 (the end of the day).
    """
    from slotgen.core.recurrence import describe_recurrence
    from slotgen.core.rule_check import describe_window
    from slotgen.core.validate import day_name
    from slotgen.services.schedule import RulesRequest, list_rules, validity

    with database(database_url) as opened:
        result = list_rules(opened, RulesRequest(ids(facility), ids(doctor)), datetime.now(UTC))
    if as_json:
        print_json(result.json())
        return
    if not result.listings:
        message("No rules match.")
        return
    rules = table("Availability rules")
    for column in ("id", "doctor", "facility", "day", "repeats", "window", "zone"):
        rules.add_column(column, overflow="fold", no_wrap=column in COMPACT)
    for column in ("slot (+buffer)", "service", "valid", "active"):
        rules.add_column(column, overflow="fold", no_wrap=column in COMPACT)
    for listing in result.listings:
        rule = listing.rule
        buffer = f" +{rule.buffer_minutes}" if rule.buffer_minutes else ""
        rules.add_row(
            str(rule.id),
            f"{listing.doctor} ({rule.doctor_id})",
            f"{listing.facility} ({rule.facility_id})",
            day_name(rule.day_of_week)[:3],
            describe_recurrence(rule.recurrence, rule.day_of_week, rule.valid_from),
            describe_window(rule.start_time, rule.end_time),
            rule.timezone,
            f"{rule.slot_duration_minutes} min{buffer}",
            "any" if rule.service_id is None else f"{listing.service} ({rule.service_id})",
            validity(rule.valid_from, rule.valid_until),
            "yes" if rule.is_active else "no",
        )
    stdout().print(rules)


@app.command("check")
def check_command(as_json: JsonOption = False, database_url: DatabaseUrlOption = None) -> None:
    """Find rules that are wrong or will not do what was meant, one line per finding.

    error: a bad zone, weekday or time (generate skips the rule); a rule that can never
    produce a slot; two rules that offer one doctor twice at once (also across
    facilities and zones). warning: a rule whose valid_until has passed. note: an
    inactive rule. Exits 1 when there is an error, else 0.
    """
    from slotgen.services.schedule import check_schedule

    with database(database_url) as opened:
        result = check_schedule(opened, datetime.now(UTC))
    if as_json:
        print_json(result.json())
    elif not result.findings:
        line(f"No problems found in {result.rules_checked:,} rules.")
    else:
        for finding in result.findings:
            line(finding.line())
        message(result.tally())
    if result.has_errors:
        raise typer.Exit(ExitCode.FAILED)


@app.command("preview")
def preview_command(
    rule_id: Annotated[int, typer.Argument(help="The rule's id (see `slotgen rules list`).")],
    count: Annotated[
        int,
        typer.Option("--count", "-n", min=1, max=500, help="How many dates to show."),
    ] = 10,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the next dates a rule applies on, from today in its facility's zone.

    Each date has the window as generate reads it (local time with its UTC offset), its
    ISO week and, for a rule every n weeks, the week's label (A or B for every 2 weeks).
    Exceptions are not applied: `slotgen slots` shows what was generated.
    """
    from slotgen.core.rule_check import describe_window
    from slotgen.core.validate import day_name
    from slotgen.services.schedule import PreviewRequest, preview_rule

    with database(database_url) as opened:
        result = preview_rule(opened, PreviewRequest(rule_id, count), datetime.now(UTC))
    if as_json:
        print_json(result.json())
    rule = result.listing.rule
    if result.problem is not None:
        if not as_json:
            message(f"Error: rule {rule.id}: {result.problem}; generate skips this rule")
        raise typer.Exit(ExitCode.FAILED)
    if as_json:
        return
    window = describe_window(rule.start_time, rule.end_time)
    title = (
        f"Rule {rule.id}: {result.listing.doctor} at {result.listing.facility}, "
        f"{day_name(rule.day_of_week)} {window} ({rule.timezone}), {result.repeats}"
    )
    if not rule.is_active:
        message(f"Rule {rule.id} is inactive: generate makes no slots from it.")
    if not result.dates:
        line(title)
        message(f"No dates from {result.today} on.")
        return
    dates = table(title)
    for column in ("date", "starts", "ends", "ISO week", "week"):
        dates.add_column(column, no_wrap=True)
    for item in result.dates:
        day = str(item.day)
        dates.add_row(
            f"{day} {day_name(item.day.isoweekday() % 7)[:3]}",
            item.start_local.removeprefix(f"{day} "),
            item.end_local.removeprefix(f"{day} "),
            item.iso_week,
            item.week,
        )
    stdout().print(dates)
