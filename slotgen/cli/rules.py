"""`slotgen rules`: the weekly availability rules as people read them, and what is wrong
with them before `generate` finds out."""

from datetime import UTC, datetime

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
    help="List the weekly availability rules and check them for mistakes.",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    facility: FacilityFilter = None,
    doctor: DoctorFilter = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the rules: weekday, local window, zone, slot length, service, validity.

    Times are wall-clock times in the facility's zone; an end of 24:00 is stored as
    00:00 (the end of the day).
    """
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
    for column in ("id", "doctor", "facility", "day", "window", "zone"):
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
            describe_window(rule.start_time, rule.end_time),
            rule.timezone,
            f"{rule.slot_duration_minutes} min{buffer}",
            "any" if rule.service_id is None else f"{listing.service} ({rule.service_id})",
            validity(rule.valid_from, rule.valid_until),
            "yes" if rule.is_active else "no",
        )
    stdout.print(rules)


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
