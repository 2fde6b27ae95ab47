"""Why a rule or exception row cannot be used, in words an operator can act on.

A bad row must never stop a run: planning skips it (or, for an exception, blocks its
days) and reports the reason, and `rules check` shows the same reasons up front.
"""

from datetime import time

from slotgen.core.dates import MIDNIGHT, UnknownZoneError, day_name, load_zone
from slotgen.core.model import AvailabilityException, Rule
from slotgen.core.recurrence import recurrence_problem
from slotgen.vocabulary import ExceptionType

_EXCEPTION_TYPES = frozenset(ExceptionType)
_EXPECTED_TYPES = " or ".join(f"'{kind}'" for kind in ExceptionType)
__all__ = ["day_name", "exception_problem", "rule_problem"]


def _zone_problem(name: str) -> str | None:
    try:
        load_zone(name)
    except UnknownZoneError as error:
        return f"facility has an {error}"
    return None


def _times_problem(start: time, end: time) -> str | None:
    if end <= start and end != MIDNIGHT:
        return (
            f"end_time {end:%H:%M} is not after start_time {start:%H:%M} "
            "(00:00 means the end of the day)"
        )
    return None


def rule_problem(rule: Rule) -> str | None:
    reasons = [
        _zone_problem(rule.timezone),
        None
        if 0 <= rule.day_of_week <= 6
        else f"day_of_week {rule.day_of_week} is not 0 (Sunday) to 6 (Saturday)",
        _times_problem(rule.start_time, rule.end_time),
        None
        if rule.slot_duration_minutes > 0
        else f"slot_duration_minutes must be positive, got {rule.slot_duration_minutes}",
        None
        if rule.buffer_minutes >= 0
        else f"buffer_minutes must not be negative, got {rule.buffer_minutes}",
        None
        if rule.valid_from is None
        or rule.valid_until is None
        or rule.valid_from <= rule.valid_until
        else f"valid_until {rule.valid_until} is before valid_from {rule.valid_from}",
        recurrence_problem(rule.recurrence, rule.day_of_week, rule.valid_from),
    ]
    return "; ".join(r for r in reasons if r) or None


def exception_problem(exc: AvailabilityException) -> str | None:
    times: str | None
    if (exc.start_time is None) != (exc.end_time is None):
        times = "start_time and end_time must both be set or both be empty"
    elif exc.start_time is not None and exc.end_time is not None:
        times = _times_problem(exc.start_time, exc.end_time)
    else:
        times = None
    reasons = [
        _zone_problem(exc.timezone),
        None
        if exc.type in _EXCEPTION_TYPES
        else f"unknown type {exc.type!r} (expected {_EXPECTED_TYPES})",
        times,
        None
        if exc.end_date is None or exc.end_date >= exc.start_date
        else f"end_date {exc.end_date} is before start_date {exc.start_date}",
    ]
    return "; ".join(r for r in reasons if r) or None
