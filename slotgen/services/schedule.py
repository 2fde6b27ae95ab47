"""`rules list` and `rules check`: the availability rules as people read them, and what is
wrong with them before `generate` finds out."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from slotgen.core.rule_check import ERROR, LEVELS, Finding, check_rules, clock
from slotgen.core.validate import day_name
from slotgen.db import schedule as store
from slotgen.db.database import Database
from slotgen.db.schedule import RuleListing
from slotgen.services.common import require_known


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
