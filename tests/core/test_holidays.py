"""The plan `holidays sync` makes for one facility, case by case, without a database."""

from datetime import date

from slotgen.core.holidays import SyncedRow, plan_facility

SOURCE = "holidays:DE-BY"
YEAR_2027 = {
    date(2027, 1, 1): "Neujahr",
    date(2027, 1, 6): "Heilige Drei Könige",
    date(2027, 5, 1): "Erster Mai",
}


def in_2027(day: date) -> bool:
    return day.year == 2027


def row(
    row_id: int,
    day: date,
    reason: str,
    source: str = SOURCE,
    *,
    whole_day: bool = True,
    end_date: date | None = None,
) -> SyncedRow:
    return SyncedRow(row_id, day, end_date, whole_day, True, "blocked", reason, source)


def test_every_holiday_in_range_is_created_once() -> None:
    calendar = {**YEAR_2027, date(2028, 1, 1): "Neujahr"}

    plan = plan_facility(SOURCE, calendar, [], [], in_2027)

    assert [(h.day, h.name) for h in plan.create] == sorted(YEAR_2027.items())
    assert (plan.update, plan.remove, plan.unchanged) == ([], [], 0)


def test_rows_that_match_are_left_alone() -> None:
    rows = [row(n, day, name) for n, (day, name) in enumerate(sorted(YEAR_2027.items()), 1)]

    plan = plan_facility(SOURCE, YEAR_2027, rows, [], in_2027)

    assert plan.changes == 0
    assert plan.unchanged == 3


def test_a_renamed_holiday_updates_its_row() -> None:
    rows = [row(7, date(2027, 1, 6), "Epiphany")]
    calendar = {date(2027, 1, 6): "Heilige Drei Könige"}

    plan = plan_facility(SOURCE, calendar, rows, [], in_2027)

    assert [(c.id, c.holiday.name, c.before.reason) for c in plan.update] == [
        (7, "Heilige Drei Könige", "Epiphany")
    ]
    assert (plan.create, plan.remove) == ([], [])


def test_a_moved_holiday_keeps_its_row_by_name() -> None:
    rows = [row(7, date(2027, 5, 2), "Erster Mai")]

    plan = plan_facility(SOURCE, {date(2027, 5, 1): "Erster Mai"}, rows, [], in_2027)

    assert [(c.id, c.holiday.day, c.before.start_date) for c in plan.update] == [
        (7, date(2027, 5, 1), date(2027, 5, 2))
    ]
    assert (plan.create, plan.remove) == ([], [])


def test_a_row_given_hours_or_more_days_is_made_whole_again() -> None:
    rows = [
        row(1, date(2027, 1, 1), "Neujahr", whole_day=False),
        row(2, date(2027, 1, 6), "Heilige Drei Könige", end_date=date(2027, 1, 8)),
    ]
    calendar = {date(2027, 1, 1): "Neujahr", date(2027, 1, 6): "Heilige Drei Könige"}

    plan = plan_facility(SOURCE, calendar, rows, [], in_2027)

    assert [c.id for c in plan.update] == [1, 2]


def test_another_calendar_replaces_what_no_longer_applies() -> None:
    """The facility moved from Bavaria to Berlin: shared days change calendar, keep ids."""
    rows = [
        row(1, date(2027, 1, 1), "Neujahr"),
        row(2, date(2027, 1, 6), "Heilige Drei Könige"),
    ]
    berlin = {date(2027, 1, 1): "Neujahr", date(2027, 3, 8): "Frauentag"}

    plan = plan_facility("holidays:DE-BE", berlin, rows, [], in_2027)

    assert [(c.id, c.before.source) for c in plan.update] == [(1, SOURCE)]
    assert [r.id for r in plan.remove] == [2]
    assert [h.day for h in plan.create] == [date(2027, 3, 8)]


def test_a_day_the_facility_opens_on_is_not_closed_again() -> None:
    rows = [row(2, date(2027, 1, 6), "Heilige Drei Könige")]

    plan = plan_facility(SOURCE, YEAR_2027, rows, [date(2027, 1, 6)], in_2027)

    assert [h.day for h in plan.kept_open] == [date(2027, 1, 6)]
    assert date(2027, 1, 6) not in [h.day for h in plan.create]
    assert [r.id for r in plan.remove] == [2]


def test_rows_outside_the_range_are_never_touched() -> None:
    rows = [row(9, date(2028, 1, 1), "Neujahr", source="holidays:FR")]

    plan = plan_facility(SOURCE, {}, rows, [], in_2027)

    assert plan.changes == 0


def test_a_facility_without_a_calendar_loses_its_synced_rows_in_range() -> None:
    rows = [row(1, date(2027, 1, 1), "Neujahr")]

    plan = plan_facility("", {}, rows, [], in_2027)

    assert [r.id for r in plan.remove] == [1]
