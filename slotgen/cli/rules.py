"""`slotgen rules`: the weekly availability rules as people read them, and what is wrong
with them before `generate` finds out."""

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import typer
from rich import box
from rich.table import Table
from sqlalchemy import Connection

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
from slotgen.core.rule_check import ERROR, LEVELS, check_rules, clock, describe_window
from slotgen.core.validate import day_name
from slotgen.db import schedule
from slotgen.db.schema import doctors, facilities
from slotgen.db.slots import missing_ids
from slotgen.errors import BadInput, ExitCode

COMPACT = {"id", "day", "window", "active"}
"""Short columns that must never wrap; the rest fold on a narrow terminal."""

app = typer.Typer(
    help="List the weekly availability rules and check them for mistakes.",
    no_args_is_help=True,
)


def require_known(connection: Connection, facility_ids: list[int], doctor_ids: list[int]) -> None:
    """An id that matches nothing is a typo, not an empty answer."""
    for table, ids, noun in (
        (facilities, facility_ids, "facility"),
        (doctors, doctor_ids, "doctor"),
    ):
        if missing := missing_ids(connection, table, ids):
            raise BadInput(f"unknown {noun} id {', '.join(map(str, missing))}")


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
    facility_ids, doctor_ids = list(facility or ()), list(doctor or ())
    with open_database(database_url) as database, database.engine.connect() as connection:
        require_known(connection, facility_ids, doctor_ids)
        listings = schedule.list_rules(connection, facility_ids, doctor_ids)
    if as_json:
        print_json({"rules": [_rule_json(listing) for listing in listings]})
        return
    if not listings:
        stderr.print("No rules match.")
        return
    table = Table(
        title="Availability rules", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for column in ("id", "doctor", "facility", "day", "window", "zone"):
        table.add_column(column, overflow="fold", no_wrap=column in COMPACT)
    for column in ("slot (+buffer)", "service", "valid", "active"):
        table.add_column(column, overflow="fold", no_wrap=column in COMPACT)
    for listing in listings:
        rule = listing.rule
        buffer = f" +{rule.buffer_minutes}" if rule.buffer_minutes else ""
        table.add_row(
            str(rule.id),
            f"{listing.doctor} ({rule.doctor_id})",
            f"{listing.facility} ({rule.facility_id})",
            day_name(rule.day_of_week)[:3],
            describe_window(rule.start_time, rule.end_time),
            rule.timezone,
            f"{rule.slot_duration_minutes} min{buffer}",
            "any" if rule.service_id is None else f"{listing.service} ({rule.service_id})",
            _validity(rule.valid_from, rule.valid_until),
            "yes" if rule.is_active else "no",
        )
    stdout.print(table)


def _validity(valid_from: date | None, valid_until: date | None) -> str:
    if valid_from is None:
        return "always" if valid_until is None else f"until {valid_until}"
    return f"from {valid_from}" if valid_until is None else f"{valid_from} to {valid_until}"


def _rule_json(listing: schedule.RuleListing) -> dict[str, Any]:
    rule = listing.rule
    return {
        "id": rule.id,
        "doctor_id": rule.doctor_id,
        "doctor": listing.doctor,
        "facility_id": rule.facility_id,
        "facility": listing.facility,
        "timezone": rule.timezone,
        "day_of_week": rule.day_of_week,
        "weekday": day_name(rule.day_of_week),
        "start_time": clock(rule.start_time),
        "end_time": clock(rule.end_time),
        "slot_duration_minutes": rule.slot_duration_minutes,
        "buffer_minutes": rule.buffer_minutes,
        "service_id": rule.service_id,
        "service": listing.service,
        "valid_from": None if rule.valid_from is None else rule.valid_from.isoformat(),
        "valid_until": None if rule.valid_until is None else rule.valid_until.isoformat(),
        "is_active": rule.is_active,
    }


@app.command("check")
def check_command(as_json: JsonOption = False, database_url: DatabaseUrlOption = None) -> None:
    """Find rules that are wrong or will not do what was meant, one line per finding.

    error: a bad zone, weekday or time (generate skips the rule); a rule that can never
    produce a slot; two rules that offer one doctor twice at once (also across
    facilities and zones). warning: a rule whose valid_until has passed. note: an
    inactive rule. Exits 1 when there is an error, else 0.
    """
    with open_database(database_url) as database, database.engine.connect() as connection:
        rules = [listing.rule for listing in schedule.list_rules(connection)]
    findings = check_rules(rules, datetime.now(UTC))
    counts = Counter(finding.level for finding in findings)
    if as_json:
        print_json(
            {
                "rules_checked": len(rules),
                "counts": {level: counts[level] for level in LEVELS},
                "findings": [
                    {
                        "level": f.level,
                        "kind": f.kind,
                        "rule_ids": list(f.rule_ids),
                        "message": f.message,
                    }
                    for f in findings
                ],
            }
        )
    elif not findings:
        stdout.print(f"No problems found in {len(rules):,} rules.", markup=False)
    else:
        for finding in findings:
            stdout.print(finding.line(), markup=False)
        summary = ", ".join(f"{counts[level]} {level}(s)" for level in LEVELS if counts[level])
        stderr.print(f"{summary} in {len(rules):,} rules.", markup=False)
    if counts[ERROR]:
        raise typer.Exit(ExitCode.FAILED)
