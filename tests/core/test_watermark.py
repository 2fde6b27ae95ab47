"""Watermark digests and claims: what a run may take as reconciled without reading it."""

from datetime import UTC, date, datetime, timedelta

from slotgen.core.model import PlannedSlot
from slotgen.core.watermark import DayRange, Watermark, claim, mark_after

SINCE = datetime(2083, 3, 1, tzinfo=UTC)
UNTIL = datetime(2083, 3, 5, 13, tzinfo=UTC)
"""Five UTC days, the last cut short at 13:00 (where a facility's last day ends)."""
DAYS = DayRange.of(SINCE, UNTIL)
NOW = datetime(2083, 2, 28, tzinfo=UTC)


def slots(day: int, hour: int, count: int, rule_id: int = 7) -> list[PlannedSlot]:
    start = datetime(2083, 3, day, hour, tzinfo=UTC)
    return [
        PlannedSlot(
            1,
            start + timedelta(minutes=30 * n),
            start + timedelta(minutes=30 * (n + 1)),
            2,
            None,
            rule_id,
        )
        for n in range(count)
    ]


def days() -> DayRange:
    assert DAYS is not None
    return DAYS


def digests(*segments: list[PlannedSlot]) -> list[str]:
    scope = days().scope({2: (SINCE, UNTIL)}, ())
    return days().digests([(segment, segment[0].rule_id) for segment in segments], scope)


def mark(digest: list[str], stored: list[int], until: datetime = UNTIL) -> Watermark:
    return Watermark(
        NOW, days().first, list(zip(digest, stored, strict=True)), timedelta(minutes=30), until
    )


def test_the_range_is_whole_utc_days_up_to_the_one_cut_short() -> None:
    assert (days().first, days().count) == (date(2083, 3, 1), 5)
    assert days().starts[-1] == datetime(2083, 3, 6, tzinfo=UTC)
    late = DayRange.of(datetime(2083, 3, 1, 6, tzinfo=UTC), UNTIL)
    assert late is not None
    assert late.first == date(2083, 3, 2), "a day begun is context"


def test_a_digest_changes_with_any_slot_and_only_on_its_day() -> None:
    base = digests(slots(1, 9, 6), slots(3, 9, 6))
    assert base == digests(slots(1, 9, 6), slots(3, 9, 6)), "stable across calls"
    empty = digests()
    assert (base[1], base[3], base[4]) == (empty[1], empty[3], empty[4]), "days off"
    for changed in (
        digests(slots(1, 9, 5), slots(3, 9, 6)),  # a slot fewer
        digests(slots(1, 9, 6, rule_id=8), slots(3, 9, 6)),  # another rule
        digests(
            [s._replace(end_at=s.end_at + timedelta(microseconds=1)) for s in slots(1, 9, 6)],
            slots(3, 9, 6),
        ),
        digests([s._replace(service_id=4) for s in slots(1, 9, 6)], slots(3, 9, 6)),
    ):
        assert changed[0] != base[0]
        assert changed[1:] == base[1:]


def test_a_window_across_utc_midnight_counts_on_both_days() -> None:
    late = digests(slots(1, 22, 6))  # 22:00 to 01:00
    assert late[0] == digests(slots(1, 22, 4))[0], "the four before midnight"
    assert late[1] != digests()[1], "the two after midnight belong to the next day"


def test_the_scope_is_part_of_the_digest() -> None:
    wanted = [(slots(1, 9, 6), 7)]
    whole = days().digests(wanted, days().scope({2: (SINCE, UNTIL)}, ()))
    later = days().digests(wanted, days().scope({2: (SINCE + timedelta(hours=20), UNTIL)}, ()))
    skipping = days().digests(wanted, days().scope({2: (SINCE, UNTIL)}, (9,)))
    assert later[0] != whole[0], "the facility's dates moved"
    assert later[1:] == whole[1:]
    assert all(a != b for a, b in zip(skipping, whole, strict=True)), "a rule skipped as bad"


def test_a_claim_is_the_longest_matching_run_counted_a_day_either_side() -> None:
    digest = digests(slots(1, 9, 6), slots(2, 9, 6), slots(3, 9, 6), slots(4, 9, 6))
    stored = [6, 6, 6, 6, 0]
    changed = digests(slots(1, 9, 5), slots(2, 9, 6), slots(3, 9, 6), slots(4, 9, 6))
    made = claim(mark(digest, stored), changed, days(), NOW, UNTIL)
    assert made is not None
    assert (made.first, made.end, made.count_from, made.count_to) == (1, 5, 0, 5)
    assert made.stored == sum(stored)


def test_nothing_is_claimed_once_the_clock_went_back() -> None:
    digest = digests(slots(1, 9, 6))
    assert (
        claim(mark(digest, [6, 0, 0, 0, 0]), digest, days(), NOW - timedelta(seconds=1), UNTIL)
        is None
    )


def test_a_day_cut_short_elsewhere_is_not_claimed() -> None:
    digest = digests(slots(1, 9, 6))
    earlier = mark(digest, [6, 0, 0, 0, 0], until=UNTIL - timedelta(hours=2))
    made = claim(earlier, digest, days(), NOW, UNTIL)
    assert made is not None
    assert (made.end, made.count_to) == (3, 4), "the last day, counted to 11:00, is unknown"


def test_an_unknown_day_beside_the_run_narrows_it() -> None:
    digest = digests(slots(1, 9, 6), slots(2, 9, 6), slots(3, 9, 6))
    holes = Watermark(
        NOW, days().first, [None, *zip(digest[1:], [6, 6, 0, 0], strict=True)], timedelta(0), UNTIL
    )
    made = claim(holes, digest, days(), NOW, UNTIL)
    assert made is not None
    assert (made.first, made.count_from) == (2, 1)


def test_a_new_watermark_keeps_the_proven_days_and_the_longest_slot() -> None:
    digest = digests(slots(1, 9, 6))
    old = mark(digest, [6, 0, 0, 0, 0])
    new = mark_after(
        now=NOW + timedelta(days=1),
        days=days(),
        digests=digest,
        proven=(0, 3),
        old=old,
        stored_after={3: 2, 4: 0},
        longest=timedelta(minutes=15),
        until=UNTIL,
    )
    assert list(new.days) == [*old.days[:3], (digest[3], 2), (digest[4], 0)]
    assert new.longest == timedelta(minutes=30)
