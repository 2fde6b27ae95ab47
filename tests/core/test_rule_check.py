"""`rules check` findings from slotgen.core.rule_check, on hand-built rules and a fixed `now`.

Each kind the module documents (bad_row, never_produces, overlap, expired, inactive) has
its own tests. Cross-zone collisions are checked against an independent brute-force
computation with zoneinfo, so the reported "first collide at" instant is not trusted
from the code under test.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotgen.core.model import Rule
from slotgen.core.rule_check import (
    ERROR,
    NOTE,
    WARNING,
    Finding,
    check_rules,
    clock,
    describe_window,
)

SUNDAY, MONDAY, TUESDAY = 0, 1, 2
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
"""Sunday 10 January 2027, noon UTC: winter on both sides of the Atlantic."""
SPRING_2027 = datetime(2027, 4, 1, tzinfo=UTC)
"""After both the US (14 March) and the EU (28 March) moved their clocks forward."""
NEW_YORK, BERLIN, LONDON, LAGOS = (
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Africa/Lagos",
)


# --------------------------------------------------------------------------------------
# Builders


def rule(
    id: int = 1,
    *,
    doctor: int = 1,
    facility: int = 1,
    day: int = MONDAY,
    start: time = time(9),
    end: time = time(10),
    duration: int = 30,
    buffer: int = 0,
    valid_from: date | None = None,
    valid_until: date | None = None,
    active: bool = True,
    zone: str = "UTC",
) -> Rule:
    return Rule(
        id=id,
        facility_id=facility,
        doctor_id=doctor,
        service_id=None,
        day_of_week=day,
        start_time=start,
        end_time=end,
        slot_duration_minutes=duration,
        buffer_minutes=buffer,
        valid_from=valid_from,
        valid_until=valid_until,
        is_active=active,
        timezone=zone,
    )


def summary(findings: list[Finding]) -> list[tuple[str, str, tuple[int, ...]]]:
    """(level, kind, rule ids) of each finding, in the order reported."""
    return [(f.level, f.kind, f.rule_ids) for f in findings]


def only(findings: list[Finding], kind: str) -> Finding:
    """The one finding of this kind; fails when there is none or more than one."""
    [found] = [f for f in findings if f.kind == kind]
    return found


def windows_utc(r: Rule, now: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """The rule's weekly windows as UTC instants over `days` local dates from now, by hand.

    Independent of slotgen: plain `datetime(..., tzinfo=ZoneInfo)` (fold=0), an end of
    00:00 read on the next day, and only windows that have not ended by `now`.
    """
    zone = ZoneInfo(r.timezone)
    found: list[tuple[datetime, datetime]] = []
    for offset in range(-2, days):
        day = now.date() + timedelta(days=offset)
        if day.isoweekday() % 7 != r.day_of_week:
            continue
        if (r.valid_from and day < r.valid_from) or (r.valid_until and day > r.valid_until):
            continue
        end_day = day + timedelta(days=1) if r.end_time == time(0) else day
        start = datetime.combine(day, r.start_time, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(end_day, r.end_time, tzinfo=zone).astimezone(UTC)
        if end > now:
            found.append((start, end))
    return found


def expected_first_collision(
    pair: Sequence[Rule], now: datetime, days: int = 366
) -> datetime | None:
    """The first instant two rules' windows overlap, by comparing every pair of windows."""
    a, b = pair
    collisions = [
        max(start_a, start_b)
        for start_a, end_a in windows_utc(a, now, days)
        for start_b, end_b in windows_utc(b, now, days)
        if start_a < end_b and start_b < end_a
    ]
    return min(collisions, default=None)


def collide_text(moment: datetime) -> str:
    return f"they first collide at {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def new_york_and_berlin(
    valid_from: date | None = None, valid_until: date | None = None
) -> tuple[Rule, Rule]:
    """Mondays 09-10 in New York and 14-15 in Berlin, one doctor.

    Six hours apart (most of the year) the Berlin window ends as the New York one starts;
    in the weeks the US is on summer time and the EU is not, they are five hours apart
    and the windows coincide.
    """
    return (
        rule(
            1,
            facility=1,
            zone=NEW_YORK,
            start=time(9),
            end=time(10),
            valid_from=valid_from,
            valid_until=valid_until,
        ),
        rule(
            2,
            facility=2,
            zone=BERLIN,
            start=time(14),
            end=time(15),
            valid_from=valid_from,
            valid_until=valid_until,
        ),
    )


# --------------------------------------------------------------------------------------
# Clean rules


def test_well_formed_rules_that_do_not_collide_have_no_findings() -> None:
    rules = [
        rule(1, start=time(9), end=time(12)),
        rule(2, start=time(13), end=time(17), facility=2),
        rule(3, day=TUESDAY, zone=BERLIN, valid_from=date(2027, 1, 1)),
        rule(4, doctor=2, start=time(9), end=time(12)),
    ]

    assert check_rules(rules, NOW) == []


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        check_rules([rule()], datetime(2027, 1, 10, 12))


# --------------------------------------------------------------------------------------
# bad_row


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (
            rule(7, zone="Mars/Olympus_Mons"),
            "facility has an unknown time zone 'Mars/Olympus_Mons'",
        ),
        (rule(7, day=7), "day_of_week 7 is not 0 (Sunday) to 6 (Saturday)"),
        (
            rule(7, start=time(12), end=time(9)),
            "end_time 09:00 is not after start_time 12:00 (00:00 means the end of the day)",
        ),
        (rule(7, duration=0), "slot_duration_minutes must be positive, got 0"),
        (
            rule(7, valid_from=date(2027, 6, 1), valid_until=date(2027, 5, 1)),
            "valid_until 2027-05-01 is before valid_from 2027-06-01",
        ),
    ],
)
def test_bad_row_is_an_error_saying_generate_skips_it(bad: Rule, reason: str) -> None:
    assert check_rules([bad], NOW) == [
        Finding(ERROR, "bad_row", (7,), f"{reason}; generate skips this rule")
    ]


def test_bad_row_with_several_faults_names_them_all() -> None:
    finding = only(check_rules([rule(3, day=7, start=time(12), end=time(9))], NOW), "bad_row")

    assert "day_of_week 7" in finding.message
    assert "end_time 09:00 is not after start_time 12:00" in finding.message


def test_bad_row_takes_no_part_in_overlaps() -> None:
    rules = [rule(1), rule(2, facility=2, zone="Mars/Base")]

    assert summary(check_rules(rules, NOW)) == [(ERROR, "bad_row", (2,))]


# --------------------------------------------------------------------------------------
# never_produces


def test_slot_longer_than_its_window_never_produces() -> None:
    finding = only(
        check_rules([rule(4, start=time(9), end=time(10), duration=90)], NOW), "never_produces"
    )

    assert finding.level == ERROR
    assert finding.message == (
        "slot_duration_minutes 90 is longer than its 60-minute window 09:00-10:00: "
        "it never produces a slot"
    )


def test_window_ending_at_midnight_lasts_to_the_end_of_the_day() -> None:
    fits = rule(1, start=time(22), end=time(0), duration=120)
    too_long = rule(2, start=time(22), end=time(0), duration=121, day=TUESDAY)

    findings = check_rules([fits, too_long], NOW)

    assert summary(findings) == [(ERROR, "never_produces", (2,))]
    assert findings[0].message == (
        "slot_duration_minutes 121 is longer than its 120-minute window 22:00-24:00: "
        "it never produces a slot"
    )


def test_short_validity_without_its_weekday_never_produces() -> None:
    # Tuesday 2027-01-12 to Thursday 2027-01-14 holds no Monday.
    short = rule(5, day=MONDAY, valid_from=date(2027, 1, 12), valid_until=date(2027, 1, 14))

    assert check_rules([short], NOW) == [
        Finding(
            ERROR,
            "never_produces",
            (5,),
            "no Monday between valid_from 2027-01-12 and valid_until 2027-01-14: "
            "it never produces a slot",
        )
    ]


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [
        (date(2027, 1, 18), date(2027, 1, 18)),  # a single Monday
        (date(2027, 1, 12), date(2027, 1, 18)),  # Tuesday to the next Monday
        (date(2027, 1, 12), None),  # open-ended
    ],
)
def test_validity_holding_its_weekday_produces(valid_from: date, valid_until: date | None) -> None:
    assert (
        check_rules([rule(day=MONDAY, valid_from=valid_from, valid_until=valid_until)], NOW) == []
    )


# --------------------------------------------------------------------------------------
# Overlaps in one zone


def test_two_rules_of_one_doctor_overlapping_in_the_same_zone_are_an_error() -> None:
    rules = [
        rule(1, facility=1, zone=BERLIN, start=time(9), end=time(12)),
        rule(2, facility=2, zone=BERLIN, start=time(11, 30), end=time(14)),
    ]

    finding = only(check_rules(rules, NOW), "overlap")

    assert (finding.level, finding.rule_ids) == (ERROR, (1, 2))
    assert finding.message == (
        "overlap: doctor 1 on Mondays, 09:00-12:00 at facility 1 and 11:30-14:00 at facility 2 "
        "(Europe/Berlin), both valid from 2027-01-10; "
        "generate keeps rule 1's slots where they collide"
    )


def test_overlap_with_a_window_ending_at_midnight_is_found_and_written_24_00() -> None:
    rules = [rule(1, start=time(20), end=time(0)), rule(2, start=time(23), end=time(0), facility=2)]

    finding = only(check_rules(rules, NOW), "overlap")

    assert "20:00-24:00 at facility 1 and 23:00-24:00 at facility 2" in finding.message


def test_same_zone_overlap_names_the_end_of_the_shared_validity() -> None:
    rules = [
        rule(1, valid_until=date(2027, 3, 29)),
        rule(2, facility=2, valid_from=date(2027, 2, 1), valid_until=date(2027, 6, 30)),
    ]

    finding = only(check_rules(rules, NOW), "overlap")

    assert "both valid from 2027-02-01 until 2027-03-29" in finding.message


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(rule(2, facility=2, day=TUESDAY), id="different weekday"),
        pytest.param(rule(2, facility=2, start=time(10), end=time(11)), id="touching after"),
        pytest.param(rule(2, facility=2, start=time(8), end=time(9)), id="touching before"),
        pytest.param(rule(2, facility=2, doctor=2), id="different doctor"),
        pytest.param(rule(2, facility=2, active=False), id="other rule inactive"),
        pytest.param(rule(2, facility=2, valid_from=date(2027, 7, 1)), id="validity ranges apart"),
        pytest.param(
            rule(2, facility=2, valid_from=date(2027, 6, 29)),  # shared: Tue 29 to Wed 30 June
            id="shared validity without a Monday",
        ),
    ],
)
def test_same_zone_rules_that_cannot_meet_are_not_an_overlap(other: Rule) -> None:
    first = rule(1, start=time(9), end=time(10), valid_until=date(2027, 6, 30))

    findings = check_rules([first, other], NOW)

    assert [f for f in findings if f.kind == "overlap"] == []


def test_same_rules_moved_to_overlap_are_found_so_the_negative_cases_mean_something() -> None:
    first = rule(1, start=time(9), end=time(10), valid_until=date(2027, 6, 30))
    other = rule(2, facility=2, start=time(9, 59), end=time(11))

    assert summary(check_rules([first, other], NOW)) == [(ERROR, "overlap", (1, 2))]


def test_overlap_wholly_in_the_past_is_not_reported_only_the_expiry() -> None:
    rules = [
        rule(1, valid_until=date(2026, 12, 28)),
        rule(2, facility=2, valid_until=date(2027, 12, 31)),
    ]

    assert summary(check_rules(rules, NOW)) == [(WARNING, "expired", (1,))]


@pytest.mark.parametrize(
    ("start", "end", "reported"),
    [(time(9), time(10), False), (time(11), time(12, 30), True), (time(13), time(14), True)],
)
def test_a_collision_on_the_last_shared_day_counts_until_it_has_ended(
    start: time, end: time, reported: bool
) -> None:
    """NOW is Sunday noon: both rules end today, and so does their last collision."""
    rules = [
        rule(1, day=SUNDAY, start=start, end=end, valid_until=NOW.date()),
        rule(2, day=SUNDAY, facility=2, start=start, end=end, valid_until=NOW.date()),
    ]

    kinds = [finding.kind for finding in check_rules(rules, NOW)]

    assert ("overlap" in kinds) is reported


# --------------------------------------------------------------------------------------
# Overlaps across zones


def test_cross_zone_overlap_found_only_while_one_zone_is_on_summer_time() -> None:
    rules = new_york_and_berlin()
    expected = expected_first_collision(rules, NOW)
    assert expected is not None
    # The independent computation lands in the weeks the US is on summer time and the EU not.
    assert expected.astimezone(ZoneInfo(NEW_YORK)).utcoffset() == timedelta(hours=-4)
    assert expected.astimezone(ZoneInfo(BERLIN)).utcoffset() == timedelta(hours=1)

    finding = only(check_rules(rules, NOW), "overlap")

    assert (finding.level, finding.rule_ids) == (ERROR, (1, 2))
    assert collide_text(expected) in finding.message
    assert finding.message == (
        "overlap: doctor 1 has Mondays 09:00-10:00 America/New_York at facility 1 and "
        "Mondays 14:00-15:00 Europe/Berlin at facility 2; "
        f"{collide_text(expected)}; generate keeps rule 1's slots where they collide"
    )


def test_cross_zone_first_collision_after_spring_is_the_autumn_gap() -> None:
    rules = new_york_and_berlin()
    expected = expected_first_collision(rules, SPRING_2027)
    assert expected is not None
    assert expected.astimezone(ZoneInfo(BERLIN)).utcoffset() == timedelta(hours=1)
    assert expected > datetime(2027, 10, 31, tzinfo=UTC)

    finding = only(check_rules(rules, SPRING_2027), "overlap")

    assert collide_text(expected) in finding.message


def test_cross_zone_rules_valid_only_in_summer_do_not_collide() -> None:
    rules = new_york_and_berlin(valid_from=date(2027, 4, 5), valid_until=date(2027, 10, 25))
    assert expected_first_collision(rules, NOW) is None

    assert check_rules(rules, NOW) == []


def test_cross_zone_overlap_with_a_zone_without_summer_time() -> None:
    # London 09-10 is 08-09 UTC in summer, when Lagos 09-10 (always UTC+1) is too.
    rules = [
        rule(1, facility=1, zone=LONDON),
        rule(2, facility=2, zone=LAGOS, doctor=1),
    ]
    expected = expected_first_collision(rules, NOW)
    assert expected is not None
    assert expected.astimezone(ZoneInfo(LONDON)).utcoffset() == timedelta(hours=1)

    finding = only(check_rules(rules, NOW), "overlap")

    assert finding.rule_ids == (1, 2)
    assert collide_text(expected) in finding.message


def test_cross_zone_overlap_that_lies_wholly_in_the_past_is_not_reported() -> None:
    # They collide in March 2027 only (the autumn gap is after September): reported before,
    # not once March is over.
    rules = new_york_and_berlin(valid_until=date(2027, 9, 30))
    assert expected_first_collision(rules, NOW) is not None
    assert expected_first_collision(rules, SPRING_2027) is None

    assert summary(check_rules(rules, NOW)) == [(ERROR, "overlap", (1, 2))]
    assert check_rules(rules, SPRING_2027) == []


def test_cross_zone_overlap_across_the_date_line_is_found() -> None:
    # Monday 08:00-10:00 in Auckland (UTC+13 in January) is Sunday 19:00-21:00 UTC;
    # Sunday 10:00-12:00 in Honolulu (UTC-10) is Sunday 20:00-22:00 UTC.
    rules = [
        rule(1, zone="Pacific/Auckland", day=MONDAY, start=time(8), end=time(10)),
        rule(2, zone="Pacific/Honolulu", day=SUNDAY, start=time(10), end=time(12), facility=2),
    ]
    expected = expected_first_collision(rules, NOW)
    assert expected is not None

    finding = only(check_rules(rules, NOW), "overlap")

    assert collide_text(expected) in finding.message


# --------------------------------------------------------------------------------------
# expired and inactive


def test_expired_rule_is_a_warning() -> None:
    assert check_rules([rule(8, valid_until=date(2027, 1, 9))], NOW) == [
        Finding(
            WARNING,
            "expired",
            (8,),
            "expired: valid_until 2027-01-09 is before today (2027-01-10 in UTC); "
            "it produces no more slots",
        )
    ]


def test_rule_valid_until_today_is_not_expired() -> None:
    assert check_rules([rule(8, day=SUNDAY, valid_until=date(2027, 1, 10))], NOW) == []


def test_expiry_is_judged_by_today_in_the_facility_zone() -> None:
    late_evening = datetime(2027, 1, 10, 23, 30, tzinfo=UTC)  # already the 11th in Auckland
    rules = [
        rule(1, day=SUNDAY, valid_until=date(2027, 1, 10), zone="UTC"),
        rule(2, day=SUNDAY, valid_until=date(2027, 1, 10), zone="Pacific/Auckland", doctor=2),
    ]

    findings = check_rules(rules, late_evening)

    assert summary(findings) == [(WARNING, "expired", (2,))]
    assert "(2027-01-11 in Pacific/Auckland)" in findings[0].message


def test_inactive_rule_is_a_note_even_when_it_is_also_bad() -> None:
    rules = [rule(1, active=False), rule(2, active=False, zone="Mars/Base", doctor=2)]

    assert check_rules(rules, NOW) == [
        Finding(NOTE, "inactive", (1,), "inactive (is_active is false): generate ignores it"),
        Finding(NOTE, "inactive", (2,), "inactive (is_active is false): generate ignores it"),
    ]


# --------------------------------------------------------------------------------------
# Order and text


def test_findings_are_sorted_by_rule_ids_whatever_the_input_order() -> None:
    rules = [
        rule(9, doctor=3, active=False),
        rule(5, doctor=2, valid_until=date(2026, 1, 1)),
        rule(2, doctor=1, facility=2),
        rule(1, doctor=1),
        rule(3, doctor=4, day=7),
    ]

    assert summary(check_rules(rules, NOW)) == [
        (ERROR, "overlap", (1, 2)),
        (ERROR, "bad_row", (3,)),
        (WARNING, "expired", (5,)),
        (NOTE, "inactive", (9,)),
    ]


def test_one_rule_findings_come_errors_first() -> None:
    r = rule(
        4, end=time(10), duration=90, valid_from=date(2026, 1, 6), valid_until=date(2026, 1, 8)
    )

    assert [f.level for f in check_rules([r], NOW)] == [ERROR, ERROR, WARNING]


def test_finding_line_is_level_rule_ids_and_message() -> None:
    assert (
        Finding(ERROR, "overlap", (3, 14), "they collide").line()
        == "error rule 3, 14: they collide"
    )
    assert Finding(NOTE, "inactive", (7,), "inactive").line() == "note rule 7: inactive"


def test_a_reported_finding_prints_as_the_cli_shows_it() -> None:
    [finding] = check_rules([rule(12, active=False)], NOW)

    assert finding.line() == "note rule 12: inactive (is_active is false): generate ignores it"


@pytest.mark.parametrize(
    ("at", "end", "text"),
    [
        (time(0), True, "24:00"),
        (time(0), False, "00:00"),
        (time(9, 5), False, "09:05"),
        (time(9, 5), True, "09:05"),
        (time(23, 59), True, "23:59"),
    ],
)
def test_clock_writes_an_end_of_midnight_as_24_00(at: time, end: bool, text: str) -> None:
    assert clock(at, end=end) == text


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (time(22), time(0), "22:00-24:00"),
        (time(0), time(8), "00:00-08:00"),
        (time(0), time(0), "00:00-24:00"),
        (time(9, 30), time(17, 45), "09:30-17:45"),
    ],
)
def test_describe_window_never_reads_backwards(start: time, end: time, text: str) -> None:
    assert describe_window(start, end) == text
