"""What `holidays sync` changes at one facility: its synced exceptions against the calendar.

Pure: the calendar's holidays, the facility's synced exceptions and the days it opens
anyway come in as plain values, and the plan comes out, so every case is tested without
a database or the `holidays` package.

A synced exception is one whole local day, facility-wide, `blocked`, its reason the
holiday's name and its source the calendar (`holidays:DE-BY`). Matching, in order:

- by day: the row for a day that is still a holiday is kept, and corrected when its name,
  its calendar or its shape (someone gave it hours, a doctor, more days) differ;
- by name: a row whose day is no longer a holiday takes a holiday of the same name left
  without a row, so a moved holiday keeps its exception's id;
- every row left over is removed (the country changed, the package's data was
  corrected, the facility opens that day), every holiday left over is created.

Only rows whose day lies in the sync's range take part: a sync of 2027 never touches 2028.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from slotgen.vocabulary import ExceptionType


@dataclass(frozen=True, slots=True)
class SyncedRow:
    """A facility's exception that `holidays sync` wrote, as stored now."""

    id: int
    start_date: date
    end_date: date | None
    whole_day: bool
    """No start_time or end_time: the whole local day."""
    facility_wide: bool
    """No doctor_id: every doctor at the facility."""
    type: str
    reason: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class Holiday:
    day: date
    name: str


@dataclass(frozen=True, slots=True)
class Change:
    """A synced row brought in line with its holiday: renamed, moved, or reshaped."""

    id: int
    holiday: Holiday
    before: SyncedRow


@dataclass
class HolidayPlan:
    source: str
    create: list[Holiday] = field(default_factory=list)
    update: list[Change] = field(default_factory=list)
    remove: list[SyncedRow] = field(default_factory=list)
    unchanged: int = 0
    kept_open: list[Holiday] = field(default_factory=list)
    """Holidays the facility opens on (`exceptions remove` of a synced one): not closed."""

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update) + len(self.remove)


def _matches(row: SyncedRow, holiday: Holiday, source: str) -> bool:
    return (
        row.start_date == holiday.day
        and row.end_date in (None, holiday.day)
        and row.whole_day
        and row.facility_wide
        and row.type == ExceptionType.BLOCKED
        and row.reason == holiday.name
        and row.source == source
    )


def plan_facility(
    source: str,
    holidays: Mapping[date, str],
    rows: Iterable[SyncedRow],
    opened: Iterable[date],
    in_range: Callable[[date], bool],
) -> HolidayPlan:
    """The plan for one facility: `holidays` maps each day of the calendar to its name
    (a day with two holidays has one name, joined), `rows` are the facility's synced
    exceptions (any range), `opened` the days it opens anyway."""
    plan = HolidayPlan(source)
    opened_days = set(opened)
    wanted: dict[date, Holiday] = {}
    for day, name in sorted(holidays.items()):
        if not in_range(day):
            continue
        if day in opened_days:
            plan.kept_open.append(Holiday(day, name))
        else:
            wanted[day] = Holiday(day, name)
    candidates = sorted(
        (row for row in rows if in_range(row.start_date)), key=lambda row: (row.start_date, row.id)
    )
    unmatched: list[SyncedRow] = []
    for row in candidates:
        holiday = wanted.pop(row.start_date, None)
        if holiday is None:
            unmatched.append(row)
        elif _matches(row, holiday, source):
            plan.unchanged += 1
        else:
            plan.update.append(Change(row.id, holiday, row))
    by_name: dict[str, list[Holiday]] = {}
    for holiday in wanted.values():
        by_name.setdefault(holiday.name, []).append(holiday)
    for row in unmatched:
        same_name = by_name.get(row.reason or "")
        if same_name:
            holiday = same_name.pop(0)
            del wanted[holiday.day]
            plan.update.append(Change(row.id, holiday, row))
        else:
            plan.remove.append(row)
    plan.create = sorted(wanted.values(), key=lambda holiday: holiday.day)
    plan.update.sort(key=lambda change: (change.holiday.day, change.id))
    return plan
