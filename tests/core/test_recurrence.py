"""Rotations: every n weeks counted from valid_from's ISO week, the n-th weekday of a
month, and the recurrences a rule may not have."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotgen.core.model import PlannedSlot, RowProblem
from slotgen.core.plan import rule_problem
from slotgen.core.recurrence import (
    RecurrenceError,
    describe_recurrence,
    normalise_recurrence,
    week_label,
)
from slotgen.vocabulary import SlotStatus
from tests.core.support import apply, local_starts, plan, rule, utc, window

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu")


def days_of(slots: list[PlannedSlot]) -> list[date]:
    return sorted({s.start_at.date() for s in slots})


def local_days(slots: list[PlannedSlot], zone: str) -> list[date]:
    return sorted({s.start_at.astimezone(ZoneInfo(zone)).date() for s in slots})


def iso_week_distance(first: date, second: date) -> int:
    return (
        (second - timedelta(days=second.weekday())) - (first - timedelta(days=first.weekday()))
    ).days // 7


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    valid_from=st.dates(date(2024, 12, 1), date(2027, 1, 31)),
    interval=st.integers(1, 5),
    day_of_week=st.integers(0, 6),
    offset=st.integers(0, 120),
)
def test_every_n_weeks_applies_exactly_where_the_iso_week_distance_divides(
    zone: str, valid_from: date, interval: int, day_of_week: int, offset: int
) -> None:
    """Across year ends (2026 has an ISO week 53) and every DST change in the window."""
    first = valid_from + timedelta(days=offset)
    last = first + timedelta(days=62)
    result = plan(
        [
            rule(
                day_of_week=day_of_week,
                start=time(10),
                end=time(11),
                duration=60,
                valid_from=valid_from,
                zone=zone,
                recurrence=f"FREQ=WEEKLY;INTERVAL={interval}",
            )
        ],
        windows={1: window(zone, first, last)},
    )
    expected = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).isoweekday() % 7 == day_of_week
        and iso_week_distance(valid_from, first + timedelta(days=n)) % interval == 0
    ]
    assert local_days(result.inserts, zone) == expected
    assert not result.problems


@settings(max_examples=40, deadline=None)
@given(
    valid_from=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    weeks=st.integers(0, 60),
)
def test_re_saving_a_rule_with_the_same_valid_from_never_moves_its_weeks(
    valid_from: date, weeks: int
) -> None:
    """The weeks depend on valid_from alone, not on the range generate is asked for."""
    biweekly = rule(day_of_week=3, valid_from=valid_from, recurrence="FREQ=WEEKLY;INTERVAL=2")
    start = valid_from + timedelta(weeks=weeks)
    whole = plan([biweekly], windows={1: window("UTC", valid_from, start + timedelta(days=40))})
    part = plan([biweekly], windows={1: window("UTC", start, start + timedelta(days=40))})
    assert days_of(part.inserts) == [d for d in days_of(whole.inserts) if d >= start]


def test_iso_week_53_counts_as_a_week() -> None:
    # 2026 has ISO week 53 (Monday 28 December 2026); counting by week numbers would make
    # week 53 and week 1 of 2027 both odd and break the alternation.
    result = plan(
        [
            rule(
                day_of_week=1,
                end=time(10),
                valid_from=date(2026, 12, 14),
                recurrence="FREQ=WEEKLY;INTERVAL=2",
            )
        ],
        windows={1: window("UTC", date(2026, 12, 1), date(2027, 1, 31))},
    )
    assert days_of(result.inserts) == [
        date(2026, 12, 14),
        date(2026, 12, 28),
        date(2027, 1, 11),
        date(2027, 1, 25),
    ]


def test_valid_from_in_the_middle_of_a_week_counts_that_week() -> None:
    # valid_from Wednesday 6 January 2027: that ISO week is week 0, its Monday (the 4th)
    # is before valid_from, so the first Monday is two weeks on.
    result = plan(
        [
            rule(
                day_of_week=1,
                end=time(10),
                valid_from=date(2027, 1, 6),
                recurrence="FREQ=WEEKLY;INTERVAL=2",
            )
        ],
        windows={1: window("UTC", date(2027, 1, 1), date(2027, 2, 10))},
    )
    assert days_of(result.inserts) == [date(2027, 1, 18), date(2027, 2, 1)]
    friday = plan(
        [
            rule(
                day_of_week=5,
                end=time(10),
                valid_from=date(2027, 1, 6),
                recurrence="FREQ=WEEKLY;INTERVAL=2",
            )
        ],
        windows={1: window("UTC", date(2027, 1, 1), date(2027, 2, 10))},
    )
    assert days_of(friday.inserts) == [date(2027, 1, 8), date(2027, 1, 22), date(2027, 2, 5)]


def test_a_fifth_weekday_rule_has_no_slot_in_months_without_one() -> None:
    # Mondays of 2027: March has five (1, 8, 15, 22, 29), February and April only four;
    # May has five again (3 ... 31).
    result = plan(
        [rule(day_of_week=1, end=time(10), recurrence="FREQ=MONTHLY;BYDAY=5MO")],
        windows={1: window("UTC", date(2027, 2, 1), date(2027, 5, 31))},
    )
    assert days_of(result.inserts) == [date(2027, 3, 29), date(2027, 5, 31)]


def test_last_friday_in_february_of_a_leap_and_a_common_year() -> None:
    result = plan(
        [rule(day_of_week=5, end=time(10), recurrence="FREQ=MONTHLY;BYDAY=-1FR")],
        windows={1: window("UTC", date(2028, 1, 1), date(2028, 3, 31))},
    )
    assert days_of(result.inserts) == [date(2028, 1, 28), date(2028, 2, 25), date(2028, 3, 31)]
    common = plan(
        [rule(day_of_week=5, end=time(10), recurrence="FREQ=MONTHLY;BYDAY=-1FR")],
        windows={1: window("UTC", date(2027, 2, 1), date(2027, 2, 28))},
    )
    assert days_of(common.inserts) == [date(2027, 2, 26)]


def test_second_and_fourth_tuesday_every_other_month_from_valid_from() -> None:
    result = plan(
        [
            rule(
                day_of_week=2,
                end=time(10),
                valid_from=date(2027, 1, 1),
                recurrence="FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU,4TU",
            )
        ],
        windows={1: window("UTC", date(2027, 1, 1), date(2027, 4, 30))},
    )
    assert days_of(result.inserts) == [
        date(2027, 1, 12),
        date(2027, 1, 26),
        date(2027, 3, 9),
        date(2027, 3, 23),
    ]


def test_a_rotation_on_a_dst_night_keeps_the_dst_policy() -> None:
    # Weeks from 8 March: Sunday the 21st is an off week, Sunday the 28th (spring forward)
    # is on, and its 02:30 lands after the gap, at 03:30.
    result = plan(
        [
            rule(
                day_of_week=0,
                start=time(2, 30),
                end=time(4),
                duration=30,
                zone="Europe/Berlin",
                valid_from=date(2027, 3, 8),
                recurrence="FREQ=WEEKLY;INTERVAL=2",
            )
        ],
        windows={1: window("Europe/Berlin", date(2027, 3, 20), date(2027, 3, 31))},
    )
    assert local_starts(result.inserts, "Europe/Berlin") == ["03:30+0200"]


def test_switching_weekly_to_every_two_weeks_removes_open_off_weeks_and_reports_booked() -> None:
    march = window("UTC", date(2027, 3, 1), date(2027, 3, 31))
    weekly = rule(day_of_week=1, end=time(10), duration=60, valid_from=date(2027, 3, 1))
    before = plan([weekly], windows={1: march})
    table = apply(before, [])
    booked_off_week = next(s for s in table if s.start_at == utc(2027, 3, 8, 9))
    table = [s._replace(status=SlotStatus.BOOKED) if s is booked_off_week else s for s in table]
    after = plan(
        [weekly._replace(recurrence="FREQ=WEEKLY;INTERVAL=2")], existing=table, windows={1: march}
    )
    deleted = {s.start_at for s in table if s.id in after.deletes}
    assert deleted == {utc(2027, 3, 22, 9)}, "the open off-week slot goes"
    assert [c.slot_id for c in after.conflicts] == [booked_off_week.id], "the booked one stays"
    assert after.conflicts[0].kind == "taken_slot_not_planned"
    assert not after.inserts


@pytest.mark.parametrize(
    ("recurrence", "reason"),
    [
        ("FREQ=DAILY", "FREQ must be WEEKLY or MONTHLY, not DAILY"),
        ("FREQ=WEEKLY;COUNT=4", "COUNT not supported"),
        ("FREQ=WEEKLY;UNTIL=20271231", "UNTIL not supported"),
        ("FREQ=WEEKLY;INTERVAL=2;BYHOUR=9", "BYHOUR not supported"),
        ("FREQ=MONTHLY;BYDAY=1TU", "names Tuesday but day_of_week is 1 (Monday)"),
        ("FREQ=MONTHLY;BYDAY=MO", "a monthly rule needs BYDAY with a position"),
        ("FREQ=MONTHLY;BYDAY=6MO", "position 6 must be 1 to 5"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number"),
        ("FREQ=WEEKLY;WKST=SU", "weeks start on Monday"),
        ("FREQ=WEEKLY;;", "is not NAME=VALUE"),
        ("every 2 weeks", "is not NAME=VALUE"),
        ("FREQ=WEEKLY;INTERVAL=3", "set valid_from"),
    ],
)
def test_a_bad_recurrence_is_a_bad_row_with_its_reason(recurrence: str, reason: str) -> None:
    bad = rule(7, day_of_week=1, recurrence=recurrence)
    problem = rule_problem(bad)
    assert problem is not None
    assert reason in problem
    result = plan(
        [bad, rule(8, doctor_id=2)], windows={1: window("UTC", date(2027, 3, 1), date(2027, 3, 8))}
    )
    assert result.problems == [RowProblem("availability_rules", 7, problem)]
    assert {s.rule_id for s in result.inserts} == {8}, "the other rules are generated"


def test_a_blank_recurrence_and_every_week_are_plain_weekly_rules() -> None:
    march = window("UTC", date(2027, 3, 1), date(2027, 3, 31))
    plain = plan([rule(end=time(10))], windows={1: march}).inserts
    for text in ("", "  ", "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"):
        assert plan([rule(end=time(10), recurrence=text)], windows={1: march}).inserts == plain


@pytest.mark.parametrize(
    ("written", "stored_as"),
    [
        ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("Every other week", "FREQ=WEEKLY;INTERVAL=2"),
        ("every week", "FREQ=WEEKLY"),
        ("1st monday", "FREQ=MONTHLY;BYDAY=1MO"),
        ("last Friday", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("2nd and 4th tuesday", "FREQ=MONTHLY;BYDAY=2TU,4TU"),
        ("first monday every 3 months", "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO"),
        ("rrule:freq=weekly;interval=2", "FREQ=WEEKLY;INTERVAL=2"),
    ],
)
def test_friendly_forms_are_normalised_to_the_rrule(written: str, stored_as: str) -> None:
    assert normalise_recurrence(written) == stored_as


@pytest.mark.parametrize(
    "unclear", ["biweekly", "sometimes", "every monday and friday", "7th monday"]
)
def test_unclear_forms_are_refused_not_guessed(unclear: str) -> None:
    with pytest.raises(RecurrenceError, match="is not clear"):
        normalise_recurrence(unclear)


def test_descriptions_read_the_way_a_roster_does() -> None:
    assert describe_recurrence(None, 1, None) == "every week"
    assert (
        describe_recurrence("FREQ=WEEKLY;INTERVAL=2", 1, date(2027, 1, 6))
        == "every 2 weeks from 2027-01-04 (week A)"
    )
    assert describe_recurrence("FREQ=WEEKLY;INTERVAL=2", 1, date(2027, 1, 11)).endswith("(week B)")
    assert describe_recurrence("FREQ=MONTHLY;BYDAY=1MO", 1, None) == "1st Monday"
    assert describe_recurrence("FREQ=MONTHLY;BYDAY=-1FR", 5, None) == "last Friday"
    assert describe_recurrence("FREQ=MONTHLY;BYDAY=2TU,4TU", 2, None) == "2nd and 4th Tuesday"


def test_week_labels_are_the_same_for_every_rule_and_alternate() -> None:
    mondays = [date(2026, 12, 21) + timedelta(weeks=n) for n in range(4)]
    assert [week_label(day, 2) for day in mondays] == ["A", "B", "A", "B"]
    assert week_label(date(2026, 12, 27), 2) == "A", "a Sunday belongs to its ISO week"
    assert [week_label(day, 3) for day in mondays] == ["3 of 3", "1 of 3", "2 of 3", "3 of 3"]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(date(2024, 1, 1), date(2027, 12, 1)),
    day_of_week=st.integers(0, 6),
    positions=st.sets(st.sampled_from([1, 2, 3, 4, 5, -1, -2, -5]), min_size=1, max_size=3),
)
def test_the_nth_weekday_of_a_month_is_the_nth_counted_from_either_end(
    zone: str, first: date, day_of_week: int, positions: set[int]
) -> None:
    code = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")[day_of_week]
    byday = ",".join(f"{k}{code}" for k in sorted(positions))
    last = first + timedelta(days=100)
    result = plan(
        [rule(day_of_week=day_of_week, start=time(10), end=time(11), duration=60, zone=zone,
              recurrence=f"FREQ=MONTHLY;BYDAY={byday}")],
        windows={1: window(zone, first, last)},
    )  # fmt: skip

    def month_length(day: date) -> int:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return (following - timedelta(days=1)).day

    expected = [
        day
        for day in (first + timedelta(days=n) for n in range(101))
        if day.isoweekday() % 7 == day_of_week
        and (
            (day.day - 1) // 7 + 1 in positions
            or -((month_length(day) - day.day) // 7 + 1) in positions
        )
    ]
    assert local_days(result.inserts, zone) == expected
