"""Which days and times a rule offers, how rules of one doctor share time, bad rule rows."""

from datetime import date, time

import pytest

from slotgen.core.model import RowProblem
from slotgen.core.plan import rule_problem
from tests.core.support import local_starts, plan, rule, utc, window

MARCH = window("UTC", date(2026, 3, 1), date(2026, 3, 31))  # Sunday 1st to Tuesday 31st


def days_of(result_inserts: list) -> list[date]:  # type: ignore[type-arg]
    return sorted({s.start_at.date() for s in result_inserts})


def test_day_of_week_zero_is_sunday_and_six_is_saturday() -> None:
    sundays = plan([rule(day_of_week=0, end=time(10))], windows={1: MARCH})
    assert days_of(sundays.inserts) == [date(2026, 3, d) for d in (1, 8, 15, 22, 29)]
    saturdays = plan([rule(day_of_week=6, end=time(10))], windows={1: MARCH})
    assert days_of(saturdays.inserts) == [date(2026, 3, d) for d in (7, 14, 21, 28)]
    mondays = plan([rule(day_of_week=1, end=time(10))], windows={1: MARCH})
    assert days_of(mondays.inserts) == [date(2026, 3, d) for d in (2, 9, 16, 23, 30)]


def test_window_days_are_inclusive_and_local_to_the_facility() -> None:
    # Monday 2026-03-02 09:00 in Auckland is Sunday 20:00 UTC.
    result = plan(
        [rule(end=time(10), zone="Pacific/Auckland")],
        windows={1: window("Pacific/Auckland", date(2026, 3, 2), date(2026, 3, 9))},
    )
    assert [s.start_at for s in result.inserts] == [
        utc(2026, 3, 1, 20),
        utc(2026, 3, 1, 20, 30),
        utc(2026, 3, 8, 20),
        utc(2026, 3, 8, 20, 30),
    ]


def test_end_time_midnight_means_end_of_day() -> None:
    evening = plan([rule(start=time(22), end=time(0), duration=15)], windows={1: MARCH})
    first_monday = [s for s in evening.inserts if s.start_at.date() == date(2026, 3, 2)]
    assert len(first_monday) == 8
    assert first_monday[-1].end_at == utc(2026, 3, 3)
    whole_day = plan(
        [rule(start=time(0), end=time(0), duration=60)],
        windows={1: window("UTC", date(2026, 3, 2))},
    )
    assert len(whole_day.inserts) == 24


def test_buffer_separates_slots_and_the_last_slot_must_fit() -> None:
    result = plan(
        [rule(start=time(9), end=time(10), duration=20, buffer=10)],
        windows={1: window("UTC", date(2026, 3, 2))},
    )
    assert [(s.start_at.time(), s.end_at.time()) for s in result.inserts] == [
        (time(9), time(9, 20)),
        (time(9, 30), time(9, 50)),
    ]
    tight = plan(
        [rule(start=time(9), end=time(10), duration=25, buffer=10)],
        windows={1: window("UTC", date(2026, 3, 2))},
    )
    assert [s.end_at.time() for s in tight.inserts] == [time(9, 25), time(10, 0)]


def test_window_shorter_than_a_slot_offers_nothing() -> None:
    result = plan(
        [rule(start=time(9), end=time(9, 20), duration=30)],
        windows={1: window("UTC", date(2026, 3, 2))},
    )
    assert result.inserts == []
    assert result.problems == []


def test_valid_from_and_valid_until_are_inclusive() -> None:
    result = plan(
        [rule(end=time(10), valid_from=date(2026, 3, 9), valid_until=date(2026, 3, 23))],
        windows={1: MARCH},
    )
    assert days_of(result.inserts) == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]


def test_inactive_rule_and_expired_rule_produce_nothing_and_no_problem() -> None:
    result = plan(
        [
            rule(1, active=False),
            rule(2, valid_until=date(2026, 2, 28)),
            rule(3, valid_from=date(2026, 4, 1)),
        ],
        windows={1: MARCH},
    )
    assert result.inserts == []
    assert result.problems == []


def test_slot_fields_come_from_the_rule() -> None:
    result = plan(
        [rule(7, facility_id=3, doctor_id=4, service_id=5, end=time(9, 30))],
        windows={3: window("UTC", date(2026, 3, 2))},
    )
    assert result.inserts == [(4, utc(2026, 3, 2, 9), utc(2026, 3, 2, 9, 30), 3, 5, 7)]
    assert result.created_per_rule == {7: 1}


def test_overlapping_rules_lower_id_wins_across_facilities() -> None:
    # Rule 3 in Berlin (11:00-14:00 CET = 10:00-13:00 UTC) was created first; rule 5 at a
    # UTC facility (09:00-12:00) overlaps it from 10:00 to 12:00 UTC.
    later = rule(5, facility_id=1, start=time(9), end=time(12), duration=60)
    earlier = rule(
        3, facility_id=2, start=time(11), end=time(14), duration=60, zone="Europe/Berlin"
    )
    windows = {1: window("UTC", date(2026, 3, 2)), 2: window("Europe/Berlin", date(2026, 3, 2))}
    result = plan([later, earlier], windows=windows)
    assert [(s.start_at.hour, s.rule_id) for s in result.inserts] == [
        (9, 5),
        (10, 3),
        (11, 3),
        (12, 3),
    ]
    assert [(c.kind, c.start_at.hour, c.rule_id, c.other_rule_id) for c in result.conflicts] == [
        ("overlapping_rules", 10, 5, 3),
        ("overlapping_rules", 11, 5, 3),
    ]
    assert all("rule 5" in c.detail and "rule 3" in c.detail for c in result.conflicts)


def test_partly_overlapping_slot_is_dropped_but_a_slot_in_a_buffer_gap_is_kept() -> None:
    earlier = rule(1, start=time(9), end=time(10), duration=15, buffer=15)  # 9:00, 9:30
    later = rule(2, facility_id=2, start=time(9, 15), end=time(10), duration=15)
    windows = {1: window("UTC", date(2026, 3, 2)), 2: window("UTC", date(2026, 3, 2))}
    result = plan([earlier, later], windows=windows)
    assert [(s.start_at.strftime("%H:%M"), s.rule_id) for s in result.inserts] == [
        ("09:00", 1),
        ("09:15", 2),
        ("09:30", 1),
        ("09:45", 2),
    ]
    shifted = rule(2, facility_id=2, start=time(9, 10), end=time(10), duration=15)
    result = plan([earlier, shifted], windows=windows)
    # 09:10, 09:25 and 09:40 each overlap 09:00-09:15 or 09:30-09:45 by a few minutes.
    assert [(s.start_at.strftime("%H:%M"), s.rule_id) for s in result.inserts] == [
        ("09:00", 1),
        ("09:30", 1),
    ]
    assert [c.start_at.strftime("%H:%M") for c in result.conflicts] == ["09:10", "09:25", "09:40"]


def test_out_of_scope_facility_still_blocks_later_rules_but_is_not_written() -> None:
    earlier = rule(1, facility_id=1, start=time(9), end=time(11), duration=60)
    later = rule(2, facility_id=2, start=time(10), end=time(12), duration=60)
    windows = {
        1: window("UTC", date(2026, 3, 2), in_scope=False),
        2: window("UTC", date(2026, 3, 2)),
    }
    result = plan([earlier, later], windows=windows)
    assert [(s.start_at.hour, s.rule_id) for s in result.inserts] == [(11, 2)]
    assert [(c.start_at.hour, c.rule_id, c.other_rule_id) for c in result.conflicts] == [(10, 2, 1)]


def test_facility_missing_from_windows_is_planned_out_of_scope() -> None:
    earlier = rule(1, facility_id=9, start=time(9), end=time(11), duration=60)
    later = rule(2, facility_id=2, start=time(10), end=time(12), duration=60)
    result = plan([earlier, later], windows={2: window("UTC", date(2026, 3, 2))})
    assert [(s.start_at.hour, s.rule_id) for s in result.inserts] == [(11, 2)]


def test_now_in_the_middle_of_a_day_keeps_only_later_slots() -> None:
    result = plan(
        [rule(start=time(9), end=time(17), duration=60)],
        windows={1: window("UTC", date(2026, 3, 2))},
        now=utc(2026, 3, 2, 12, 10),
    )
    assert [s.start_at.hour for s in result.inserts] == [13, 14, 15, 16]
    assert result.created_per_rule == {1: 4}


def test_inserts_are_sorted_by_doctor_then_start() -> None:
    rules = [
        rule(1, doctor_id=2, facility_id=1),
        rule(2, doctor_id=1, facility_id=2, zone="Asia/Tokyo"),
        rule(3, doctor_id=1, facility_id=1, day_of_week=2),
    ]
    windows = {
        1: window("UTC", date(2026, 3, 1), date(2026, 3, 14)),
        2: window("Asia/Tokyo", date(2026, 3, 1), date(2026, 3, 14)),
    }
    result = plan(rules, windows=windows)
    keys = [(s.doctor_id, s.start_at) for s in result.inserts]
    assert keys == sorted(keys)
    assert {s.doctor_id for s in result.inserts} == {1, 2}


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (rule(zone="Mars/Olympus_Mons"), "unknown time zone 'Mars/Olympus_Mons'"),
        (rule(zone=""), "unknown time zone ''"),
        (rule(start=time(17), end=time(9)), "end_time 09:00 is not after start_time 17:00"),
        (rule(start=time(9), end=time(9)), "end_time 09:00 is not after start_time 09:00"),
        (rule(duration=0), "slot_duration_minutes must be positive, got 0"),
        (rule(duration=-15), "slot_duration_minutes must be positive, got -15"),
        (rule(buffer=-5), "buffer_minutes must not be negative, got -5"),
        (rule(day_of_week=7), "day_of_week 7 is not 0 (Sunday) to 6 (Saturday)"),
        (rule(day_of_week=-1), "day_of_week -1 is not 0 (Sunday) to 6 (Saturday)"),
        (
            rule(valid_from=date(2026, 3, 10), valid_until=date(2026, 3, 1)),
            "valid_until 2026-03-01 is before valid_from 2026-03-10",
        ),
    ],
)
def test_bad_rule_is_reported_and_skipped_while_the_rest_is_planned(bad, words) -> None:  # type: ignore[no-untyped-def]
    bad = bad._replace(id=9, doctor_id=2)
    good = rule(1, end=time(10))
    result = plan([bad, good], windows={1: MARCH})
    assert result.problems == [RowProblem("availability_rules", 9, rule_problem(bad) or "")]
    assert words in result.problems[0].reason
    assert {s.rule_id for s in result.inserts} == {1}
    assert len(result.inserts) == 10


def test_rule_problem_lists_every_reason_and_accepts_good_rules() -> None:
    assert rule_problem(rule()) is None
    assert rule_problem(rule(start=time(0), end=time(0))) is None
    reason = rule_problem(rule(duration=0, buffer=-1))
    assert reason is not None
    assert "slot_duration_minutes" in reason
    assert "buffer_minutes" in reason


def test_inactive_bad_rule_is_not_reported() -> None:
    result = plan([rule(zone="Nowhere", active=False)], windows={1: MARCH})
    assert result.problems == []


def test_local_starts_helper_shows_offsets() -> None:
    result = plan([rule(end=time(9, 30))], windows={1: window("UTC", date(2026, 3, 2))})
    assert local_starts(result.inserts, "UTC") == ["09:00+0000"]
