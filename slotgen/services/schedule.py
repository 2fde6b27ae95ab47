"""`rules list`, `rules check` and `rules preview`: the availability rules as people read
them, what is wrong with them before `generate` finds out, and the dates they apply on."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from slotgen.core.dates import load_zone, local_text, window_instants
from slotgen.core.recurrence import (
    WEEKLY_FREQ,
    describe_recurrence,
    usable_recurrence,
    week_label,
)
from slotgen.core.rule_check import ERROR, LEVELS, Finding, check_rules, clock, rule_dates
from slotgen.core.validate import day_name, rule_problem
from slotgen.db import schedule as store
from slotgen.db.database import Database
from slotgen.db.schedule import RuleListing
from slotgen.errors import BadInput
from slotgen.services.common import require_known

MAX_PREVIEW = 500
PREVIEW_YEARS = 10
"""How far ahead a preview looks for dates before it says there are no more."""


def validity(valid_from: date | None, valid_until: date | None) -> str:
    if valid_from is None:
        return "always" if valid_until is None else f"until {valid_until}"
    return f"from {valid_from}" if valid_until is None else f"{valid_from} to {valid_until}"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def rule_json(listing: RuleListing) -> dict[str, Any]:
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
        "valid_from": _iso(rule.valid_from),
        "valid_until": _iso(rule.valid_until),
        "is_active": rule.is_active,
        "recurrence": rule.recurrence,
        "repeats": describe_recurrence(rule.recurrence, rule.day_of_week, rule.valid_from),
    }


@dataclass(frozen=True)
class RulesRequest:
    facility_ids: tuple[int, ...] = ()
    doctor_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RulesResult:
    listings: list[RuleListing] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {"rules": [rule_json(listing) for listing in self.listings]}


def list_rules(database: Database, request: RulesRequest, now: datetime) -> RulesResult:
    """Rules in id order, active or not, with the names people know them by."""
    with database.engine.connect() as connection:
        require_known(connection, request.facility_ids, request.doctor_ids)
        listings = store.list_rules(connection, request.facility_ids, request.doctor_ids)
    return RulesResult(listings)


@dataclass(frozen=True)
class RuleCheckResult:
    rules_checked: int
    findings: list[Finding]

    @property
    def counts(self) -> Counter[str]:
        return Counter(finding.level for finding in self.findings)

    @property
    def has_errors(self) -> bool:
        return bool(self.counts[ERROR])

    def tally(self) -> str:
        counts = self.counts
        summary = ", ".join(f"{counts[level]} {level}(s)" for level in LEVELS if counts[level])
        return f"{summary} in {self.rules_checked:,} rules."

    def json(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "rules_checked": self.rules_checked,
            "counts": {level: counts[level] for level in LEVELS},
            "findings": [
                {
                    "level": finding.level,
                    "kind": finding.kind,
                    "rule_ids": list(finding.rule_ids),
                    "message": finding.message,
                }
                for finding in self.findings
            ],
        }


def check_schedule(database: Database, now: datetime) -> RuleCheckResult:
    """Every rule checked on its own and against the doctor's other rules, from today on."""
    with database.engine.connect() as connection:
        rules = [listing.rule for listing in store.list_rules(connection)]
    return RuleCheckResult(len(rules), check_rules(rules, now))


@dataclass(frozen=True)
class PreviewRequest:
    rule_id: int
    count: int = 10


@dataclass(frozen=True, slots=True)
class PreviewDate:
    day: date
    start_local: str
    end_local: str
    """`2027-03-28 09:00 +02:00`: the offset tells the two 02:30s of a fall-back night apart."""
    iso_week: str
    week: str
    """The every-n-weeks rotation's clinic-wide week label (A/B, "2 of 3"), else empty."""


@dataclass(frozen=True)
class PreviewResult:
    listing: RuleListing
    repeats: str
    today: date
    dates: list[PreviewDate]
    problem: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "rule": rule_json(self.listing),
            "repeats": self.repeats,
            "today": self.today.isoformat(),
            "problem": self.problem,
            "dates": [
                {
                    "date": item.day.isoformat(),
                    "start_local": item.start_local,
                    "end_local": item.end_local,
                    "iso_week": item.iso_week,
                    "week": item.week,
                }
                for item in self.dates
            ],
        }


def _week(rule_text: str | None, day: date) -> str:
    recurrence = usable_recurrence(rule_text)
    if recurrence is None or recurrence.freq != WEEKLY_FREQ:
        return ""
    return week_label(day, recurrence.interval)


def preview_rule(database: Database, request: PreviewRequest, now: datetime) -> PreviewResult:
    """The next local dates a rule applies on from today in its facility's zone, each
    with its window as generate reads it; exceptions are not applied.

    The search starts at the rule's valid_from when that is later: a rota entered for
    next year shows its first dates, not an empty list."""
    if not 1 <= request.count <= MAX_PREVIEW:
        raise BadInput(f"--count must be 1 to {MAX_PREVIEW}, got {request.count}")
    with database.engine.connect() as connection:
        found = store.list_rules(connection, rule_ids=(request.rule_id,))
    if not found:
        raise BadInput(f"unknown rule id {request.rule_id}")
    listing = found[0]
    rule = listing.rule
    problem = rule_problem(rule)
    if problem is not None:
        return PreviewResult(listing, "", now.date(), [], problem)
    zone = load_zone(rule.timezone)
    today = now.astimezone(zone).date()
    dates: list[date] = []
    lo = max(today, rule.valid_from) if rule.valid_from else today
    for _ in range(PREVIEW_YEARS):
        hi = lo + timedelta(days=366)
        dates += rule_dates(rule, lo, hi)
        if len(dates) >= request.count or (rule.valid_until and hi >= rule.valid_until):
            break
        lo = hi + timedelta(days=1)
    items = []
    for day in dates[: request.count]:
        begin, end = window_instants(day, rule.start_time, rule.end_time, zone)
        year, week, _ = day.isocalendar()
        items.append(
            PreviewDate(
                day,
                local_text(begin, zone)[11:]
                if local_text(begin, zone).startswith(str(day))
                else local_text(begin, zone),
                local_text(end, zone)[11:]
                if local_text(end, zone).startswith(str(day))
                else local_text(end, zone),
                f"{year}-W{week:02d}",
                _week(rule.recurrence, day),
            )
        )
    repeats = describe_recurrence(rule.recurrence, rule.day_of_week, rule.valid_from)
    return PreviewResult(listing, repeats, today, items)
