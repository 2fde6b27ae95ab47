"""Properties of the plan that must hold in every zone, on every day, DST nights included.

Dates are drawn mostly from the days around each zone's own offset changes, found by
scanning the year, because a uniformly drawn date almost never lands on one.
"""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotgen.core.model import AvailabilityException, PlannedSlot, Rule
from tests.core.support import closure, plan, rule, window

ZONES = sorted(available_timezones())
YEARS = range(2024, 2028)


@cache
def offset_change_days(zone_name: str, year: int) -> tuple[date, ...]:
    """Local dates on which the zone's UTC offset changes (between this noon and the next)."""
    zone = ZoneInfo(zone_name)
    days: list[date] = []
    day = date(year, 1, 1)
    while day.year == year:
        noon = datetime.combine(day, time(12), zone)
        next_noon = datetime.combine(day + timedelta(days=1), time(12), zone)
        if noon.utcoffset() != next_noon.utcoffset():
            days.extend((day, day + timedelta(days=1)))
        day += timedelta(days=1)
    return tuple(days)


@st.composite
def zone_and_day(draw: st.DrawFn) -> tuple[str, date]:
    zone = draw(st.sampled_from(ZONES))
    changes = offset_change_days(zone, draw(st.sampled_from(YEARS)))
    near_a_change: bool = draw(st.booleans())
    if changes and near_a_change:
        return zone, draw(st.sampled_from(changes))
    return zone, draw(st.dates(date(2024, 1, 1), date(2027, 12, 31)))


def wall_time() -> st.SearchStrategy[time]:
    return st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def rule_on(draw: st.DrawFn, zone: str, day: date, rule_id: int) -> Rule:
    start = draw(wall_time())
    end = draw(wall_time().filter(lambda t: t > start) | st.just(time(0)))
    return rule(
        rule_id,
        day_of_week=(day.weekday() + 1) % 7,
        start=start,
        end=end,
        duration=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90])),
        buffer=draw(st.sampled_from([0, 0, 5, 10, 15])),
        zone=zone,
    )


def instant(day: date, at: time, zone: str, *, is_end: bool = False) -> datetime:
    """The contract's reading of a wall-clock time (fold=0), computed independently;
    an end at 00:00 is the end of the day."""
    if is_end and at == time(0):
        day += timedelta(days=1)
    return datetime.combine(day, at, ZoneInfo(zone)).astimezone(UTC)


def exception_window(exc: AvailabilityException, day: date, zone: str) -> tuple[datetime, datetime]:
    if exc.start_time is None or exc.end_time is None:
        return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC), instant(
            day, time(0), zone, is_end=True
        )
    return instant(day, exc.start_time, zone), instant(day, exc.end_time, zone, is_end=True)


def assert_within(slot: PlannedSlot, r: Rule, day: date) -> None:
    assert slot.end_at - slot.start_at == timedelta(minutes=r.slot_duration_minutes)
    assert instant(day, r.start_time, r.timezone) <= slot.start_at
    assert slot.end_at <= instant(day, r.end_time, r.timezone, is_end=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), where=zone_and_day())
def test_one_rule_fills_exactly_the_real_length_of_its_window(
    data: st.DataObject, where: tuple[str, date]
) -> None:
    zone, day = where
    r = data.draw(rule_on(zone, day, 1))
    result = plan([r], windows={1: window(zone, day)})

    begin, end = instant(day, r.start_time, zone), instant(day, r.end_time, zone, is_end=True)
    duration = timedelta(minutes=r.slot_duration_minutes)
    step = duration + timedelta(minutes=r.buffer_minutes)
    expected = 0 if end - begin < duration else (end - begin - duration) // step + 1
    assert len(result.inserts) == expected
    for slot in result.inserts:
        assert_within(slot, r, day)
    starts = [s.start_at for s in result.inserts]
    assert starts == sorted(set(starts)), "each instant once, in order"
    assert all(b - a == step for a, b in itertools.pairwise(starts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), where=zone_and_day())
def test_several_rules_and_an_exception_never_overlap_or_enter_the_exception(
    data: st.DataObject, where: tuple[str, date]
) -> None:
    zone, day = where
    rules = [data.draw(rule_on(zone, day, rule_id)) for rule_id in (1, 2, 3)]
    whole_day = data.draw(st.booleans())
    start = data.draw(wall_time())
    end = data.draw(wall_time().filter(lambda t: t > start) | st.just(time(0)))
    exc = (
        closure(start_date=day, zone=zone)
        if whole_day
        else closure(start_date=day, start=start, end=end, zone=zone)
    )
    applies = data.draw(st.booleans())
    result = plan(rules, [exc] if applies else [], windows={1: window(zone, day)})

    by_rule = {r.id: r for r in rules}
    closed_from, closed_until = exception_window(exc, day, zone)
    for slot in result.inserts:
        assert_within(slot, by_rule[slot.rule_id], day)
        if applies:
            assert slot.end_at <= closed_from or slot.start_at >= closed_until, slot
    for earlier, later in zip(result.inserts, result.inserts[1:], strict=False):
        assert earlier.end_at <= later.start_at, (earlier, later)
    assert result.problems == []
