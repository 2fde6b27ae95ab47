"""What generate writes given the stored slots: only its own open slots, in range, from now."""

from datetime import date, time
from typing import Any

from slotgen.core.model import ExistingSlot, PlannedSlot
from tests.core.support import apply, closure, plan, rule, stored, utc, window

MONDAY = date(2026, 3, 2)
WINDOWS = {1: window("UTC", MONDAY), 2: window("UTC", MONDAY)}
RULE = rule(1, start=time(9), end=time(12), duration=60)


def wanted(hour: int, **changes: Any) -> PlannedSlot:
    slot = PlannedSlot(1, utc(2026, 3, 2, hour), utc(2026, 3, 2, hour + 1), 1, None, 1)
    return slot._replace(**changes)


def test_missing_slots_are_inserted() -> None:
    result = plan([RULE], windows=WINDOWS)
    assert result.inserts == [wanted(9), wanted(10), wanted(11)]
    assert (result.updates, result.deletes, result.unchanged, result.conflicts) == ([], [], 0, [])


def test_stored_slots_equal_to_the_plan_are_unchanged() -> None:
    existing = [stored(wanted(h), id=h) for h in (9, 10, 11)]
    result = plan([RULE], existing=existing, windows=WINDOWS)
    assert (result.inserts, result.updates, result.deletes) == ([], [], [])
    assert result.unchanged == 3


def test_open_slot_with_other_end_service_facility_or_rule_is_updated() -> None:
    service_rule = RULE._replace(service_id=4)
    existing = [
        stored(wanted(9, service_id=None), id=30),
        stored(wanted(10, service_id=4, end_at=utc(2026, 3, 2, 10, 30)), id=20),
        stored(wanted(11, service_id=4, facility_id=2, rule_id=8), id=10),
    ]
    result = plan([service_rule], existing=existing, windows=WINDOWS)
    assert result.updates == [
        (10, wanted(11, service_id=4)),
        (20, wanted(10, service_id=4)),
        (30, wanted(9, service_id=4)),
    ]
    assert (result.inserts, result.deletes, result.conflicts) == ([], [], [])


def test_open_slot_the_rules_no_longer_produce_is_deleted() -> None:
    existing = [
        stored(wanted(8), id=5),
        stored(wanted(9), id=6),
        stored(wanted(13, rule_id=99), id=7),
    ]
    result = plan([RULE], existing=existing, windows=WINDOWS)
    assert result.deletes == [5, 7]
    assert result.inserts == [wanted(10), wanted(11)]
    assert result.unchanged == 1


def test_taken_slot_that_disagrees_is_reported_not_changed() -> None:
    existing = [stored(wanted(10, service_id=3), id=41, status="booked")]
    result = plan([RULE], existing=existing, windows=WINDOWS)
    assert result.updates == []
    assert result.deletes == []
    assert result.inserts == [wanted(9), wanted(11)]
    [conflict] = result.conflicts
    assert (conflict.kind, conflict.slot_id, conflict.start_at) == (
        "taken_slot_disagrees",
        41,
        utc(2026, 3, 2, 10),
    )
    assert "booked" in conflict.detail
    assert "service None (stored 3)" in conflict.detail


def test_taken_slot_matching_the_plan_is_unchanged() -> None:
    existing = [stored(wanted(10), id=41, status="reserved")]
    result = plan([RULE], existing=existing, windows=WINDOWS)
    assert result.unchanged == 1
    assert result.conflicts == []
    assert result.inserts == [wanted(9), wanted(11)]


def test_booked_slot_inside_a_new_exception_is_reported_not_deleted() -> None:
    existing = [stored(wanted(10), id=41, status="booked"), stored(wanted(11), id=42)]
    result = plan(
        [RULE],
        [closure(start_date=MONDAY, start=time(10), end=time(12))],
        existing,
        windows=WINDOWS,
    )
    assert result.deletes == [42]
    assert [(c.kind, c.slot_id, c.rule_id) for c in result.conflicts] == [
        ("taken_slot_not_planned", 41, 1)
    ]


def test_unknown_status_counts_as_taken() -> None:
    existing = [stored(wanted(13), id=41, status="held_by_phone")]
    result = plan([RULE], existing=existing, windows=WINDOWS)
    assert result.deletes == []
    assert [c.kind for c in result.conflicts] == ["taken_slot_not_planned"]


def test_slot_not_created_by_slotgen_is_never_touched_and_blocks() -> None:
    manual = ExistingSlot(
        50, 1, utc(2026, 3, 2, 10, 30), utc(2026, 3, 2, 11), 1, None, None, "open"
    )
    far = ExistingSlot(51, 1, utc(2026, 3, 2, 15), utc(2026, 3, 2, 16), 1, None, None, "open")
    same_time = ExistingSlot(52, 1, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), 1, None, None, "open")
    result = plan([RULE], existing=[manual, far, same_time], windows=WINDOWS)
    assert result.inserts == [wanted(11)]
    assert (result.updates, result.deletes) == ([], [])
    assert [(c.kind, c.slot_id, c.start_at.hour) for c in result.conflicts] == [
        ("occupied", 52, 9),
        ("occupied", 50, 10),
    ]
    assert "not created by slotgen" in result.conflicts[0].detail


def test_slots_of_out_of_scope_facilities_are_untouched_but_block() -> None:
    other = stored(wanted(10, facility_id=2, rule_id=2), id=60)
    leftover = stored(wanted(14, facility_id=2, rule_id=2), id=61)
    windows = {1: window("UTC", MONDAY), 2: window("UTC", MONDAY, in_scope=False)}
    result = plan([RULE], existing=[other, leftover], windows=windows)
    assert result.inserts == [wanted(9), wanted(11)]
    assert (result.updates, result.deletes) == ([], [])
    assert [(c.kind, c.slot_id) for c in result.conflicts] == [("occupied", 60)]
    unknown_facility = stored(wanted(11, facility_id=7, rule_id=2), id=62)
    result = plan([RULE], existing=[unknown_facility], windows=WINDOWS)
    assert result.deletes == []
    assert [c.slot_id for c in result.conflicts] == [62]


def test_slots_outside_the_range_are_untouched() -> None:
    tuesday = stored(
        wanted(9)._replace(start_at=utc(2026, 3, 3, 9), end_at=utc(2026, 3, 3, 10)), 70
    )
    sunday = stored(wanted(9)._replace(start_at=utc(2026, 3, 1, 23), end_at=utc(2026, 3, 2)), 71)
    result = plan([RULE], existing=[tuesday, sunday], windows=WINDOWS)
    assert result.deletes == []
    assert len(result.inserts) == 3


def test_range_is_the_facility_local_day() -> None:
    # Monday in Tokyo is Sunday 15:00 to Monday 15:00 UTC: a slot at Monday 16:00 UTC is
    # Tuesday there, outside the run, and must survive.
    tokyo = {1: window("Asia/Tokyo", MONDAY)}
    inside = stored(
        wanted(9)._replace(start_at=utc(2026, 3, 1, 16), end_at=utc(2026, 3, 1, 17)), 80
    )
    outside = stored(wanted(16), 81)
    result = plan([], existing=[inside, outside], windows=tokyo)
    assert result.deletes == [80]


def test_the_past_is_never_changed() -> None:
    existing = [
        stored(wanted(9, service_id=5), id=90),  # started before now: not updated
        stored(wanted(8), id=91),  # started before now, no longer wanted: not deleted
        stored(wanted(10, service_id=5), id=92),  # after now: updated
    ]
    result = plan([RULE], existing=existing, windows=WINDOWS, now=utc(2026, 3, 2, 9, 30))
    assert result.updates == [(92, wanted(10))]
    assert result.deletes == []
    assert result.inserts == [wanted(11)]


def test_slot_overlapping_a_slot_that_already_started_is_occupied() -> None:
    running = stored(wanted(9, end_at=utc(2026, 3, 2, 10, 30), rule_id=2), id=93)
    result = plan([RULE], existing=[running], windows=WINDOWS, now=utc(2026, 3, 2, 9, 30))
    assert result.inserts == [wanted(11)]
    assert [(c.kind, c.slot_id, c.start_at.hour) for c in result.conflicts] == [
        ("occupied", 93, 10)
    ]
    assert "already started" in result.conflicts[0].detail


def test_open_slot_at_a_blocked_time_is_deleted_and_the_time_reported_occupied() -> None:
    mine = stored(wanted(10), id=94)
    manual = ExistingSlot(
        95, 1, utc(2026, 3, 2, 10, 45), utc(2026, 3, 2, 11), 1, None, None, "open"
    )
    result = plan([RULE], existing=[mine, manual], windows=WINDOWS)
    assert result.deletes == [94]
    assert [c.slot_id for c in result.conflicts] == [95]


def test_other_doctors_slots_do_not_interfere() -> None:
    theirs = stored(wanted(10, doctor_id=2), id=96)
    result = plan([RULE], existing=[theirs], windows=WINDOWS)
    assert result.inserts == [wanted(9), wanted(10), wanted(11)]
    assert result.deletes == [96]  # doctor 2 is in the chunk and has no rules any more


def test_replanning_after_applying_the_plan_has_nothing_to_do() -> None:
    rules = [
        RULE,
        rule(2, facility_id=2, start=time(11), end=time(14), duration=45, buffer=15),
        rule(3, doctor_id=2, day_of_week=1, zone="Europe/Berlin"),
    ]
    windows = {
        1: window("UTC", MONDAY, date(2026, 3, 20)),
        2: window("UTC", MONDAY, date(2026, 3, 20)),
    }
    exceptions = [closure(start_date=date(2026, 3, 9))]
    now = utc(2026, 3, 2, 9, 15)
    existing = [
        stored(wanted(10, service_id=9), id=1),
        stored(wanted(16), id=2),
        stored(wanted(11, rule_id=2, facility_id=2), id=3, status="booked"),
    ]
    first = plan(rules, exceptions, existing, windows=windows, now=now)
    assert first.inserts
    assert first.updates
    assert first.deletes
    table = apply(first, existing)
    second = plan(rules, exceptions, table, windows=windows, now=now)
    assert (second.inserts, second.updates, second.deletes) == ([], [], [])
    assert second.unchanged == first.unchanged + len(first.inserts) + len(first.updates)
    assert second.conflicts == first.conflicts
