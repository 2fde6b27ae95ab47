"""Rules that will not do what their author meant, found before `generate` meets them.

`generate` already survives bad rules (it skips them and resolves overlaps by rule id),
but it can only say so per run and per slot. This check looks at the rules themselves,
so the clinic can fix the row instead of reading conflicts every night.

Levels: `error` for a rule that is wrong (generate skips it, it can never produce a slot,
or it collides with another rule of the same doctor); `warning` for a rule that expired;
`note` for an inactive rule. Only errors make the check fail.

How overlaps are found (a doctor is one person, so overlaps count across facilities):

- Only active, well-formed, unexpired rules of the same doctor are compared, and only
  over validity dates from today on (today only if the collision has not ended yet): a
  collision that lies wholly in the past harms nobody.
- Both facilities in the same zone: the two windows overlap when they are on the same
  weekday, their local times overlap (an end of 00:00 meaning 24:00) and their validity
  ranges share a date with that weekday. Wall-clock comparison is exact here because both
  windows are read through the same zone on the same date.
- Rotations (every n weeks, the n-th weekday of a month) are compared on the dates they
  really apply, over as long as their two patterns take to repeat (at least the year
  below): two every-2-weeks rules in the same week parity collide, opposite parities
  never do.
- Different zones: local times say nothing, and a Monday in Auckland can meet a Sunday in
  Honolulu. Each rule's windows are turned into real instants (with the planner's
  `window_instants`, so DST is read exactly as generate reads it) over up to a year of
  their shared validity, which also catches collisions that only exist while one zone is
  on summer time and the other is not, and the first colliding pair is reported.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import combinations
from math import lcm

from slotgen.core.dates import MIDNIGHT, ONE_DAY, describe_instant, load_zone, window_instants
from slotgen.core.model import Rule
from slotgen.core.recurrence import (
    describe_recurrence,
    period_days,
    recurrence_dates,
    usable_recurrence,
)
from slotgen.core.validate import day_name, rule_problem

ERROR = "error"
WARNING = "warning"
NOTE = "note"
LEVELS = (ERROR, WARNING, NOTE)

SCAN_DAYS = 371
"""How far cross-zone rules are compared: a year and a week covers both DST seasons."""
MAX_SCAN_DAYS = 3660
"""Rotations whose patterns take longer than ten years to line up are not compared further."""
ZONE_MARGIN = timedelta(days=2)
"""Local dates of two zones are at most 26 hours apart, windows at most a day long."""


@dataclass(frozen=True, slots=True)
class Finding:
    level: str
    kind: str
    """'bad_row', 'never_produces', 'overlap', 'expired' or 'inactive'."""
    rule_ids: tuple[int, ...]
    message: str

    def line(self) -> str:
        return f"{self.level} rule {', '.join(map(str, self.rule_ids))}: {self.message}"


def clock(at: time, *, end: bool = False) -> str:
    """HH:MM, with an end of 00:00 written as 24:00 so a window never reads backwards."""
    return "24:00" if end and at == MIDNIGHT else f"{at:%H:%M}"


def describe_window(start: time, end: time) -> str:
    return f"{clock(start)}-{clock(end, end=True)}"


def _minutes(at: time, *, end: bool = False) -> int:
    return 24 * 60 if end and at == MIDNIGHT else at.hour * 60 + at.minute


def _has_weekday(lo: date, hi: date | None, day_of_week: int) -> bool:
    """Whether some date in [lo, hi] falls on a cron-numbered weekday."""
    if hi is None or (hi - lo).days >= 6:
        return True
    return any(
        (lo + ONE_DAY * n).isoweekday() % 7 == day_of_week for n in range((hi - lo).days + 1)
    )


def rule_dates(rule: Rule, lo: date, hi: date) -> list[date]:
    """The local dates in [lo, hi] a well-formed rule applies on, validity and rotation
    included, in order."""
    if rule.valid_from is not None:
        lo = max(lo, rule.valid_from)
    if rule.valid_until is not None:
        hi = min(hi, rule.valid_until)
    if hi < lo:
        return []
    recurrence = usable_recurrence(rule.recurrence)
    if recurrence is not None:
        return sorted(recurrence_dates(recurrence, rule.day_of_week, rule.valid_from, lo, hi))
    first = lo + ONE_DAY * ((rule.day_of_week - lo.isoweekday() % 7) % 7)
    return [first + timedelta(days=7 * n) for n in range((hi - first).days // 7 + 1)]


def _never_in_validity(rule: Rule) -> Finding | None:
    """A rotation whose dates all miss a bounded validity (a 5th Monday in a short range)."""
    recurrence = usable_recurrence(rule.recurrence)
    if recurrence is None or rule.valid_until is None:
        return None
    lo = rule.valid_from or rule.valid_until - timedelta(days=period_days(recurrence))
    if rule_dates(rule, lo, rule.valid_until):
        return None
    return Finding(
        ERROR,
        "never_produces",
        (rule.id,),
        f"{describe_recurrence(rule.recurrence, rule.day_of_week, rule.valid_from)} never "
        f"falls between valid_from {rule.valid_from} and valid_until {rule.valid_until}: "
        "it never produces a slot",
    )


def _own_findings(rule: Rule, now: datetime) -> tuple[list[Finding], date | None]:
    """A rule's problems on its own, and its local today when it takes part in overlaps."""
    if not rule.is_active:
        return [
            Finding(
                NOTE, "inactive", (rule.id,), "inactive (is_active is false): generate ignores it"
            )
        ], None
    problem = rule_problem(rule)
    if problem:
        return [Finding(ERROR, "bad_row", (rule.id,), f"{problem}; generate skips this rule")], None
    findings = []
    window = _minutes(rule.end_time, end=True) - _minutes(rule.start_time)
    if rule.slot_duration_minutes > window:
        findings.append(
            Finding(
                ERROR,
                "never_produces",
                (rule.id,),
                f"slot_duration_minutes {rule.slot_duration_minutes} is longer than its "
                f"{window}-minute window {describe_window(rule.start_time, rule.end_time)}: "
                "it never produces a slot",
            )
        )
    if rule.valid_from is not None and not _has_weekday(
        rule.valid_from, rule.valid_until, rule.day_of_week
    ):
        findings.append(
            Finding(
                ERROR,
                "never_produces",
                (rule.id,),
                f"no {day_name(rule.day_of_week)} between valid_from {rule.valid_from} and "
                f"valid_until {rule.valid_until}: it never produces a slot",
            )
        )
    elif (never := _never_in_validity(rule)) is not None:
        findings.append(never)
    today = now.astimezone(load_zone(rule.timezone)).date()
    if rule.valid_until is not None and rule.valid_until < today:
        findings.append(
            Finding(
                WARNING,
                "expired",
                (rule.id,),
                f"expired: valid_until {rule.valid_until} is before today ({today} in "
                f"{rule.timezone}); it produces no more slots",
            )
        )
    return findings, None if findings else today


def check_rules(rules: Iterable[Rule], now: datetime) -> list[Finding]:
    """Every finding about these rules, by first rule id; `now` is aware (it sets "today")."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    findings: list[Finding] = []
    usable: dict[int, list[tuple[Rule, date]]] = {}
    for rule in sorted(rules, key=lambda r: r.id):
        own, today = _own_findings(rule, now)
        findings.extend(own)
        if today is not None:
            usable.setdefault(rule.doctor_id, []).append((rule, today))
    for doctor_rules in usable.values():
        for (a, today_a), (b, today_b) in combinations(doctor_rules, 2):
            overlap = _overlap(a, b, min(today_a, today_b), now)
            if overlap is not None:
                findings.append(Finding(ERROR, "overlap", (a.id, b.id), overlap))
    findings.sort(key=lambda f: (f.rule_ids, LEVELS.index(f.level), f.kind))
    return findings


def _shared_validity(a: Rule, b: Rule, today: date) -> tuple[date, date | None] | None:
    froms = [d for d in (a.valid_from, b.valid_from, today) if d is not None]
    untils = [d for d in (a.valid_until, b.valid_until) if d is not None]
    lo, hi = max(froms), min(untils, default=None)
    return None if hi is not None and hi < lo else (lo, hi)


def _overlap(a: Rule, b: Rule, today: date, now: datetime) -> str | None:
    """Why rules a and b (a.id < b.id, same doctor) can offer the doctor twice at once."""
    shared = _shared_validity(a, b, today)
    if shared is None:
        return None
    lo, hi = shared
    keeps = f"generate keeps rule {a.id}'s slots where they collide"
    if a.timezone == b.timezone:
        if (
            a.day_of_week != b.day_of_week
            or _minutes(a.start_time) >= _minutes(b.end_time, end=True)
            or _minutes(b.start_time) >= _minutes(a.end_time, end=True)
        ):
            return None
        if (
            lo == today
            and _has_weekday(today, today, a.day_of_week)
            and _ended_today(a, b, today, now)
        ):
            lo += ONE_DAY
        if (hi is not None and hi < lo) or not _has_weekday(lo, hi, a.day_of_week):
            return None
        if a.recurrence or b.recurrence:
            return _rotation_overlap(a, b, lo, hi, keeps)
        until = f" until {hi}" if hi is not None else ""
        return (
            f"overlap: doctor {a.doctor_id} on {day_name(a.day_of_week)}s, "
            f"{describe_window(a.start_time, a.end_time)} at facility {a.facility_id} and "
            f"{describe_window(b.start_time, b.end_time)} at facility {b.facility_id} "
            f"({a.timezone}), both valid from {lo}{until}; {keeps}"
        )
    last = lo + timedelta(days=SCAN_DAYS) if hi is None else min(hi, lo + timedelta(days=SCAN_DAYS))
    found = _first_collision(_windows(a, lo, last, now), _windows(b, lo, last, now))
    if found is None:
        return None
    return (
        f"overlap: doctor {a.doctor_id} has {_describe(a)} and {_describe(b)}; they first "
        f"collide at {describe_instant(found)}; {keeps}"
    )


def _ended_today(a: Rule, b: Rule, today: date, now: datetime) -> bool:
    """Whether the part of today where two same-zone windows meet is already over."""
    zone = load_zone(a.timezone)
    ends = (window_instants(today, r.start_time, r.end_time, zone)[1] for r in (a, b))
    return min(ends) <= now


def _rotation_overlap(a: Rule, b: Rule, lo: date, hi: date | None, keeps: str) -> str | None:
    """Same zone, same weekday, overlapping times: do the rotations share a date?"""
    period = lcm(
        period_days(usable_recurrence(a.recurrence)), period_days(usable_recurrence(b.recurrence))
    )
    horizon = lo + timedelta(days=min(max(SCAN_DAYS, period), MAX_SCAN_DAYS))
    last = horizon if hi is None else min(hi, horizon)
    shared = sorted(set(rule_dates(a, lo, last)) & set(rule_dates(b, lo, last)))
    if not shared:
        return None
    return (
        f"overlap: doctor {a.doctor_id} has {_describe(a)} and {_describe(b)}, both on "
        f"{shared[0]}"
        + (f" and {len(shared) - 1} more date(s) by {last}" if len(shared) > 1 else "")
        + f"; {keeps}"
    )


def _describe(rule: Rule) -> str:
    recurrence = usable_recurrence(rule.recurrence)
    days = f"{day_name(rule.day_of_week)}s"
    if recurrence is not None:
        days = describe_recurrence(rule.recurrence, rule.day_of_week, rule.valid_from)
        if not days.startswith("every"):
            days = f"the {days}"
        else:
            days = f"{day_name(rule.day_of_week)}s {days}"
    return (
        f"{days} {describe_window(rule.start_time, rule.end_time)} "
        f"{rule.timezone} at facility {rule.facility_id}"
    )


def _windows(rule: Rule, lo: date, hi: date, now: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The rule's windows as real instants on its dates near [lo, hi], still ahead of now."""
    first, last = lo - ZONE_MARGIN, hi + ZONE_MARGIN
    if rule.valid_from is not None:
        first = max(first, rule.valid_from)
    if rule.valid_until is not None:
        last = min(last, rule.valid_until)
    zone = load_zone(rule.timezone)
    for day in rule_dates(rule, first, last):
        start, end = window_instants(day, rule.start_time, rule.end_time, zone)
        if end > now and start < end:
            yield start, end


def _first_collision(
    left: Iterator[tuple[datetime, datetime]], right: Iterator[tuple[datetime, datetime]]
) -> datetime | None:
    """The first instant two time-ordered runs of disjoint windows overlap."""
    a, b = next(left, None), next(right, None)
    while a is not None and b is not None:
        if a[0] < b[1] and b[0] < a[1]:
            return max(a[0], b[0])
        if a[1] <= b[1]:
            a = next(left, None)
        else:
            b = next(right, None)
    return None
