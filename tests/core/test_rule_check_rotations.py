"""`rules check` on rotations: overlaps only where the dates really meet, and rotations
that never fall inside their validity."""

from datetime import UTC, date, datetime, time

from slotgen.core.model import Rule
from slotgen.core.rule_check import ERROR, Finding, check_rules
from tests.core.support import rule

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
"""Sunday 10 January 2027."""
WEEK_A = date(2027, 1, 4)
WEEK_B = date(2027, 1, 11)


def kinds(findings: list[Finding]) -> list[tuple[str, tuple[int, ...]]]:
    return [(f.kind, f.rule_ids) for f in findings]


def biweekly(id: int, valid_from: date, *, facility_id: int = 1, zone: str = "UTC") -> Rule:
    return rule(
        id,
        facility_id=facility_id,
        day_of_week=5,
        start=time(9),
        end=time(13),
        valid_from=valid_from,
        zone=zone,
        recurrence="FREQ=WEEKLY;INTERVAL=2",
    )


def test_two_every_two_weeks_rules_in_opposite_weeks_do_not_overlap() -> None:
    rules = [biweekly(1, WEEK_A), biweekly(2, WEEK_B, facility_id=2)]
    assert check_rules(rules, NOW) == []


def test_two_every_two_weeks_rules_in_the_same_week_parity_overlap() -> None:
    rules = [biweekly(1, WEEK_A), biweekly(2, date(2027, 1, 18), facility_id=2)]
    findings = check_rules(rules, NOW)
    assert kinds(findings) == [("overlap", (1, 2))]
    assert findings[0].level == ERROR
    assert "both on 2027-01-22" in findings[0].message
    assert "every 2 weeks from 2027-01-04 (week A)" in findings[0].message


def test_opposite_parities_across_zones_do_not_overlap_and_same_parities_do() -> None:
    berlin = biweekly(1, WEEK_A, zone="Europe/Berlin")
    opposite = biweekly(2, WEEK_B, facility_id=2, zone="Europe/London")
    assert check_rules([berlin, opposite], NOW) == []
    same = biweekly(2, WEEK_A, facility_id=2, zone="Europe/London")
    assert kinds(check_rules([berlin, same], NOW)) == [("overlap", (1, 2))]


def test_a_weekly_rule_meets_every_rotation_on_its_weekday() -> None:
    weekly = rule(1, day_of_week=5, start=time(12), end=time(14))
    last_friday = rule(
        2,
        facility_id=2,
        day_of_week=5,
        start=time(9),
        end=time(13),
        recurrence="FREQ=MONTHLY;BYDAY=-1FR",
    )
    findings = check_rules([weekly, last_friday], NOW)
    assert kinds(findings) == [("overlap", (1, 2))]
    assert "both on 2027-01-29" in findings[0].message


def test_first_and_last_monday_never_meet() -> None:
    first = rule(1, day_of_week=1, recurrence="FREQ=MONTHLY;BYDAY=1MO")
    last = rule(2, facility_id=2, day_of_week=1, recurrence="FREQ=MONTHLY;BYDAY=-1MO")
    assert check_rules([first, last], NOW) == []


def test_a_rotation_that_never_falls_inside_its_validity_never_produces() -> None:
    # No fifth Monday between 1 and 28 February 2027.
    fifth = rule(
        1,
        day_of_week=1,
        valid_from=date(2027, 2, 1),
        valid_until=date(2027, 2, 28),
        recurrence="FREQ=MONTHLY;BYDAY=5MO",
    )
    findings = check_rules([fifth], NOW)
    assert kinds(findings) == [("never_produces", (1,))]
    assert "5th Monday never falls between valid_from 2027-02-01" in findings[0].message
    # Every 3 weeks from 4 January: 4 Jan, 25 Jan; nothing in 5-22 January.
    gap = rule(
        2,
        day_of_week=1,
        valid_from=date(2027, 1, 5),
        valid_until=date(2027, 1, 22),
        recurrence="FREQ=WEEKLY;INTERVAL=3",
    )
    assert kinds(check_rules([gap], NOW)) == [("never_produces", (2,))]


def test_a_bad_recurrence_is_an_error_naming_the_reason() -> None:
    bad = rule(3, day_of_week=1, recurrence="FREQ=WEEKLY;COUNT=2")
    findings = check_rules([bad], NOW)
    assert kinds(findings) == [("bad_row", (3,))]
    assert "COUNT not supported" in findings[0].message
