"""Availability exceptions: whole days, daily windows, several days, whose, and bad rows."""

from datetime import date, time

import pytest

from slotgen.core.plan import exception_problem
from tests.core.support import closure, plan, rule, utc, window

WEEK = window("UTC", date(2026, 3, 2), date(2026, 3, 6))  # Monday to Friday
WEEKDAYS = [rule(d, day_of_week=d, start=time(9), end=time(12), duration=60) for d in range(1, 6)]


def opening_hours(result_inserts: list) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    return [(s.start_at.day, s.start_at.hour) for s in result_inserts]


def test_whole_day_exception_closes_that_day_only() -> None:
    result = plan(WEEKDAYS, [closure(start_date=date(2026, 3, 4))], windows={1: WEEK})
    assert {day for day, _ in opening_hours(result.inserts)} == {2, 3, 5, 6}
    assert result.blocked_by_type == {"blocked": 3}


def test_exception_with_times_closes_that_window_on_each_day() -> None:
    result = plan(
        WEEKDAYS,
        [
            closure(
                start_date=date(2026, 3, 3),
                end_date=date(2026, 3, 4),
                start=time(10),
                end=time(10, 30),
                type="emergency",
            )
        ],
        windows={1: WEEK},
    )
    hours = opening_hours(result.inserts)
    assert (3, 10) not in hours
    assert (4, 10) not in hours
    assert (3, 9) in hours
    assert (3, 11) in hours
    assert (2, 10) in hours
    assert (5, 10) in hours
    assert result.blocked_by_type == {"emergency": 2}


def test_exception_ending_at_midnight_closes_the_rest_of_the_day() -> None:
    result = plan(
        WEEKDAYS,
        [closure(start_date=date(2026, 3, 2), start=time(11), end=time(0))],
        windows={1: WEEK},
    )
    assert [h for d, h in opening_hours(result.inserts) if d == 2] == [9, 10]


def test_multi_day_exception_closes_every_day_in_between() -> None:
    result = plan(
        WEEKDAYS,
        [closure(start_date=date(2026, 3, 3), end_date=date(2026, 3, 5))],
        windows={1: WEEK},
    )
    assert {day for day, _ in opening_hours(result.inserts)} == {2, 6}
    assert result.blocked_by_type == {"blocked": 9}


def test_doctor_exception_closes_only_that_doctor_and_facility_exception_everyone() -> None:
    rules = [
        rule(1, doctor_id=1, end=time(10)),
        rule(2, doctor_id=2, end=time(10)),
        rule(3, doctor_id=1, facility_id=2, day_of_week=2, end=time(10)),
    ]
    windows = {1: WEEK, 2: WEEK}
    doctor_only = plan(rules, [closure(doctor_id=1, start_date=date(2026, 3, 2))], windows=windows)
    assert {(s.doctor_id, s.start_at.day) for s in doctor_only.inserts} == {(1, 3), (2, 2)}
    facility_wide = plan(
        rules,
        [closure(start_date=date(2026, 3, 2), end_date=date(2026, 3, 3))],
        windows=windows,
    )
    # Facility 1 is closed for all; doctor 1's Tuesday at facility 2 is untouched.
    assert {(s.doctor_id, s.facility_id) for s in facility_wide.inserts} == {(1, 2)}


def test_exception_of_another_facility_does_not_close_this_one() -> None:
    result = plan(
        WEEKDAYS,
        [closure(facility_id=2, start_date=date(2026, 3, 2), end_date=date(2026, 3, 6))],
        windows={1: WEEK},
    )
    assert len(result.inserts) == 15


def test_slot_touching_an_exception_edge_is_kept() -> None:
    result = plan(
        WEEKDAYS,
        [closure(start_date=date(2026, 3, 2), start=time(10), end=time(11))],
        windows={1: WEEK},
    )
    assert [h for d, h in opening_hours(result.inserts) if d == 2] == [9, 11]


def test_exception_overlapping_a_slot_by_one_minute_closes_it() -> None:
    result = plan(
        WEEKDAYS,
        [closure(start_date=date(2026, 3, 2), start=time(10, 59), end=time(11, 1))],
        windows={1: WEEK},
    )
    assert [h for d, h in opening_hours(result.inserts) if d == 2] == [9]


def test_exception_in_a_local_zone_closes_the_local_day() -> None:
    # Tokyo's 2026-03-03 is 2026-03-02 15:00 to 2026-03-03 15:00 UTC.
    result = plan(
        [
            rule(day_of_week=d, start=time(0), end=time(0), duration=60, zone="Asia/Tokyo")
            for d in (1, 2, 3)
        ],
        [closure(start_date=date(2026, 3, 3), zone="Asia/Tokyo")],
        windows={1: window("Asia/Tokyo", date(2026, 3, 2), date(2026, 3, 4))},
    )
    starts = [s.start_at for s in result.inserts]
    assert utc(2026, 3, 2, 14) in starts
    assert utc(2026, 3, 3, 15) in starts
    assert not any(utc(2026, 3, 2, 15) <= s < utc(2026, 3, 3, 15) for s in starts)


def test_blocked_slots_before_now_or_out_of_scope_are_not_counted() -> None:
    result = plan(
        [rule(1, end=time(12), duration=60), rule(2, facility_id=2, day_of_week=2, duration=60)],
        [
            closure(1, start_date=date(2026, 3, 2)),
            closure(2, facility_id=2, start_date=date(2026, 3, 3)),
        ],
        windows={1: WEEK, 2: window("UTC", date(2026, 3, 2), date(2026, 3, 6), in_scope=False)},
        now=utc(2026, 3, 2, 10, 30),
    )
    assert result.blocked_by_type == {"blocked": 1}  # only Monday 11:00 would have been new


BAD_EXCEPTIONS = [
    (
        closure(9, start_date=date(2026, 3, 3), start=time(10)),
        "start_time and end_time must both be set or both be empty",
    ),
    (
        closure(9, start_date=date(2026, 3, 3), end=time(10)),
        "start_time and end_time must both be set or both be empty",
    ),
    (
        closure(9, start_date=date(2026, 3, 3), start=time(11), end=time(10)),
        "end_time 10:00 is not after start_time 11:00",
    ),
    (
        closure(9, start_date=date(2026, 3, 3), type="holiday", start=time(10), end=time(11)),
        "unknown type 'holiday'",
    ),
    (
        closure(9, start_date=date(2026, 3, 3), zone="Not/AZone"),
        "unknown time zone 'Not/AZone'",
    ),
]


@pytest.mark.parametrize(("bad", "words"), BAD_EXCEPTIONS)
def test_bad_exception_is_reported_and_closes_its_whole_day(bad, words) -> None:  # type: ignore[no-untyped-def]
    result = plan(WEEKDAYS, [bad], windows={1: WEEK})
    assert [(p.table, p.id) for p in result.problems] == [("availability_exceptions", 9)]
    assert words in result.problems[0].reason
    assert {day for day, _ in opening_hours(result.inserts)} == {2, 4, 5, 6}


def test_exception_ending_before_it_starts_closes_every_day_it_names() -> None:
    bad = closure(9, start_date=date(2026, 3, 5), end_date=date(2026, 3, 3))
    result = plan(WEEKDAYS, [bad], windows={1: WEEK})
    assert "end_date 2026-03-03 is before start_date 2026-03-05" in result.problems[0].reason
    assert {day for day, _ in opening_hours(result.inserts)} == {2, 6}


def test_exception_problem_accepts_good_rows() -> None:
    assert exception_problem(closure(start_date=date(2026, 3, 3))) is None
    assert (
        exception_problem(closure(start_date=date(2026, 3, 3), start=time(22), end=time(0))) is None
    )
    assert exception_problem(closure(start_date=date(2026, 3, 3), type="emergency")) is None
