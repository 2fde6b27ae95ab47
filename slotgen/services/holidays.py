"""`holidays sync`: each facility's public holidays as whole-day facility exceptions.

The calendars come from the `holidays` package (python-holidays), by the facility's
`holiday_country` and `holiday_subdivision`; what to change is decided by
`slotgen.core.holidays`. Each facility is its own short transaction, so a sync stopped
by a signal leaves every facility either synced or as it was, and the next run finishes.
Holiday names are asked for in the country's own language, never the locale of the
shell: cron and a terminal must read the same names, or every other run would rename.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from slotgen.core.dates import UnknownZoneError, load_zone
from slotgen.core.holidays import Change, HolidayPlan, plan_facility
from slotgen.core.model import AvailabilityException
from slotgen.db import holidays as store
from slotgen.db.database import Database
from slotgen.db.holidays import CalendarFacility, Opening
from slotgen.db.schedule import TouchedSlot
from slotgen.errors import BadInput
from slotgen.services.common import require_known
from slotgen.services.exceptions import preview, taken_json
from slotgen.services.jobs import JobResult, perform
from slotgen.services.params import HolidaysParams
from slotgen.services.runner import Checkpoint, RunOptions
from slotgen.vocabulary import ExceptionType, holiday_source

if TYPE_CHECKING:
    from holidays import HolidayBase

log = logging.getLogger("slotgen.holidays")

DETAILED_CHANGES = 200


def _calendar(country: str, subdivision: str | None, years: list[int]) -> "HolidayBase":
    """The package's calendar; NotImplementedError for a country or subdivision it lacks."""
    from holidays import country_holidays

    language = country_holidays(country, subdiv=subdivision).default_language
    return country_holidays(country, subdiv=subdivision, years=years, language=language)


def calendar_problem(facility: CalendarFacility) -> str | None:
    """Why this facility's calendar cannot be synced (bad input: nothing is written)."""
    country, subdivision = facility.holiday_country, facility.holiday_subdivision
    who = f"facility {facility.id} ({facility.name})"
    if country is None:
        if subdivision:
            return f"{who} has holiday_subdivision {subdivision!r} but no holiday_country"
        return None
    from holidays import list_supported_countries

    supported = list_supported_countries()
    code = country.upper()
    if code not in supported:
        return (
            f"{who}: holiday_country {country!r} is not a country the holidays package knows; "
            "use an ISO 3166 code such as DE"
        )
    if subdivision and subdivision not in supported[code]:
        known = ", ".join(supported[code]) or "none"
        return (
            f"{who}: holiday_subdivision {subdivision!r} is not a subdivision of {code} the "
            f"holidays package knows ({known})"
        )
    return None


@dataclass
class FacilitySync:
    facility_id: int
    facility: str
    timezone: str
    source: str | None
    """The calendar, `holidays:DE-BY`; None for a facility with no holiday_country."""
    plan: HolidayPlan
    first_day: date
    last_day: date
    created_ids: dict[date, int] = field(default_factory=dict)
    open_slots_to_remove: int = 0
    taken: list[TouchedSlot] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "facility_id": self.facility_id,
            "facility": self.facility,
            "timezone": self.timezone,
            "source": self.source,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "created": [
                {
                    "id": self.created_ids.get(holiday.day),
                    "date": holiday.day.isoformat(),
                    "name": holiday.name,
                }
                for holiday in plan.create
            ],
            "updated": [
                {
                    "id": change.id,
                    "date": change.holiday.day.isoformat(),
                    "name": change.holiday.name,
                    "was_date": change.before.start_date.isoformat(),
                    "was_name": change.before.reason,
                    "was_source": change.before.source,
                }
                for change in plan.update
            ],
            "removed": [
                {"id": row.id, "date": row.start_date.isoformat(), "name": row.reason}
                for row in plan.remove
            ],
            "unchanged": plan.unchanged,
            "kept_open": [
                {"date": holiday.day.isoformat(), "name": holiday.name}
                for holiday in plan.kept_open
            ],
            "open_slots_to_remove": self.open_slots_to_remove,
            "taken_slots": [taken_json(slot, self.timezone) for slot in self.taken],
        }


@dataclass
class HolidaysReport:
    dry_run: bool
    facilities: list[FacilitySync] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    """Facilities skipped (a zone the database does not know), by id."""

    def _count(self, pick: Callable[[HolidayPlan], int]) -> int:
        return sum(pick(synced.plan) for synced in self.facilities)

    @property
    def ok(self) -> bool:
        return not self.problems

    def stats(self) -> dict[str, Any]:
        """The counts, as stored in job_runs.stats and printed by --json."""
        return {
            "created": self._count(lambda plan: len(plan.create)),
            "updated": self._count(lambda plan: len(plan.update)),
            "removed": self._count(lambda plan: len(plan.remove)),
            "unchanged": self._count(lambda plan: plan.unchanged),
            "kept_open": self._count(lambda plan: len(plan.kept_open)),
            "facilities": len(self.facilities),
            "open_slots_to_remove": sum(s.open_slots_to_remove for s in self.facilities),
            "taken_slots": sum(len(s.taken) for s in self.facilities),
            "bad_rows": len(self.problems),
        }

    def summary(self) -> str:
        stats = self.stats()
        verb = "Would create" if self.dry_run else "Created"
        line = (
            f"{verb} {stats['created']:,} holiday exceptions at {stats['facilities']:,} "
            f"facilities, updated {stats['updated']:,}, removed {stats['removed']:,}, "
            f"unchanged {stats['unchanged']:,}"
        )
        if stats["kept_open"]:
            line += f"; {stats['kept_open']:,} holidays kept open"
        if self.problems:
            line += f"; {len(self.problems):,} facilities skipped"
        if not (stats["created"] or stats["updated"] or stats["removed"]) and not self.dry_run:
            line += " (nothing to change)"
        return line

    def details(self) -> str | None:
        """Each change and each skipped facility, one per line, for job_runs.details."""
        lines = [f"skipped facilities id {fid}: {reason}" for fid, reason in self.problems]
        for synced in self.facilities:
            plan, where = synced.plan, f"facility {synced.facility_id}"
            lines += [f"created {where} {h.day} {h.name}" for h in plan.create]
            lines += [
                f"updated {where} exception {c.id}: {c.before.start_date} {c.before.reason} "
                f"-> {c.holiday.day} {c.holiday.name}"
                for c in plan.update
            ]
            lines += [
                f"removed {where} exception {r.id}: {r.start_date} {r.reason}" for r in plan.remove
            ]
            lines += [
                f"taken slot {slot.id} ({slot.status}) at {where} on a new holiday"
                for slot in synced.taken
            ]
        if len(lines) > DETAILED_CHANGES:
            lines = [*lines[:DETAILED_CHANGES], f"... and {len(lines) - DETAILED_CHANGES} more"]
        return "\n".join(lines) or None

    def json(self) -> dict[str, Any]:
        return {
            **self.stats(),
            "dry_run": self.dry_run,
            "facility_list": [synced.json() for synced in self.facilities],
            "bad_rows": [
                {"table": "facilities", "id": fid, "reason": reason}
                for fid, reason in self.problems
            ],
        }


@dataclass(frozen=True)
class HolidaysRequest:
    params: HolidaysParams = field(default_factory=HolidaysParams)
    dry_run: bool = False
    options: RunOptions = field(default_factory=RunOptions)


def sync_holidays(
    database: Database, request: HolidaysRequest, now: datetime
) -> JobResult[HolidaysReport]:
    """The `slotgen holidays sync` use case: on record (lock, job_runs row, tries) or dry."""
    work = HolidaysWork(request.params, dry_run=request.dry_run)
    return perform(database, work, request.options, now, dry_run=request.dry_run)


@dataclass(frozen=True)
class HolidaysWork:
    """A holidays sync's work, as the runner and `slotgen retry` run it."""

    params: HolidaysParams
    dry_run: bool = False

    def check(self, engine: Engine, now: datetime) -> None:
        with engine.connect() as connection:
            _in_scope(connection, self.params)

    def run(self, engine: Engine, now: datetime, checkpoint: Checkpoint) -> HolidaysReport:
        return sync(engine, self.params, now, dry_run=self.dry_run, checkpoint=checkpoint)


def _in_scope(connection: Connection, params: HolidaysParams) -> list[CalendarFacility]:
    """The facilities to sync, every calendar checked: bad input before anything is written."""
    require_known(connection, params.facility_ids)
    found = store.calendar_facilities(connection, params.facility_ids)
    for facility in found:
        if problem := calendar_problem(facility):
            raise BadInput(problem)
    return found


def _days(params: HolidaysParams, today: date) -> tuple[list[int], date, date]:
    """The years to ask the calendar for, and the first and last local day to sync."""
    if params.years:
        years = list(params.years)
        return years, date(years[0], 1, 1), date(years[-1], 12, 31)
    ahead = params.ahead_days
    if ahead is not None:
        last = today + timedelta(days=ahead)
        return list(range(today.year, last.year + 1)), today, last
    return [today.year, today.year + 1], date(today.year, 1, 1), date(today.year + 1, 12, 31)


def sync(
    engine: Engine,
    params: HolidaysParams,
    now: datetime,
    *,
    dry_run: bool = False,
    checkpoint: Checkpoint | None = None,
) -> HolidaysReport:
    """Sync each facility in scope in its own transaction, in id order."""
    report = HolidaysReport(dry_run=dry_run)
    with engine.connect() as connection:
        facilities = _in_scope(connection, params)
    for facility in facilities:
        if checkpoint is not None:
            checkpoint()
        try:
            zone = load_zone(facility.timezone)
        except UnknownZoneError as exc:
            reason = f"{exc}: its local days are unknown; fix facilities.timezone"
            report.problems.append((facility.id, reason))
            log.warning("Skipped facility id %d: %s", facility.id, reason)
            continue
        today = now.astimezone(zone).date()
        with engine.connect() if dry_run else engine.begin() as connection:
            report.facilities.append(
                _sync_facility(
                    connection, facility, params=params, today=today, now=now, dry_run=dry_run
                )
            )
    log.info("%s", report.summary())
    return report


def _sync_facility(
    connection: Connection,
    facility: CalendarFacility,
    *,
    params: HolidaysParams,
    today: date,
    now: datetime,
    dry_run: bool,
) -> FacilitySync:
    years, first, last = _days(params, today)
    calendar_days: Mapping[date, str] = {}
    source = None
    if facility.holiday_country is not None:
        country = facility.holiday_country.upper()
        subdivision = facility.holiday_subdivision or None
        source = holiday_source(country, subdivision)
        calendar_days = dict(_calendar(country, subdivision, years).items())
    years_set = set(years)

    def in_range(day: date) -> bool:
        return first <= day <= last and (not params.years or day.year in years_set)

    plan = plan_facility(
        source or "",
        calendar_days,
        store.synced_rows(connection, facility.id),
        store.opened_days(connection, facility.id),
        in_range,
    )
    synced = FacilitySync(facility.id, facility.name, facility.timezone, source, plan, first, last)
    if not dry_run and source is not None:
        for holiday in plan.create:
            new_id = store.insert_synced(connection, facility.id, holiday, source)
            synced.created_ids[holiday.day] = new_id
            log.info(
                "Created exception %d at facility %d on %s: %s",
                new_id,
                facility.id,
                holiday.day,
                holiday.name,
            )
        for change in plan.update:
            store.update_synced(connection, change, source, now)
            log.info(
                "Updated exception %d at facility %d: %s %s is now %s %s",
                change.id,
                facility.id,
                change.before.start_date,
                change.before.reason,
                change.holiday.day,
                change.holiday.name,
            )
    if not dry_run:
        store.delete_synced(connection, [row.id for row in plan.remove])
        for row in plan.remove:
            log.info(
                "Removed exception %d at facility %d on %s: %s",
                row.id,
                facility.id,
                row.start_date,
                row.reason,
            )
    new_days = [*plan.create] + [change.holiday for change in plan.update if _closes_more(change)]
    for holiday in sorted(new_days, key=lambda holiday: holiday.day):
        draft = AvailabilityException(
            0,
            facility.id,
            None,
            holiday.day,
            None,
            None,
            None,
            ExceptionType.BLOCKED,
            holiday.name,
            facility.timezone,
        )
        to_remove, taken = preview(connection, draft, now)
        synced.open_slots_to_remove += to_remove
        synced.taken.extend(taken)
    return synced


def _closes_more(change: Change) -> bool:
    """Whether an update closes time the row did not close before: a moved holiday, or a
    row someone had narrowed to some hours or to one doctor."""
    before = change.before
    return before.start_date != change.holiday.day or not (
        before.whole_day and before.facility_wide
    )


@dataclass(frozen=True)
class OpeningsRequest:
    facility_ids: tuple[int, ...] = ()


def list_openings(database: Database, request: OpeningsRequest, now: datetime) -> list[Opening]:
    """The holidays facilities open on: synced exceptions removed by `exceptions remove`."""
    with database.engine.connect() as connection:
        require_known(connection, request.facility_ids)
        return store.list_openings(connection, request.facility_ids)


def opening_json(opening: Opening) -> dict[str, Any]:
    return {
        "id": opening.id,
        "facility_id": opening.facility_id,
        "facility": opening.facility,
        "date": opening.holiday_date.isoformat(),
        "name": opening.name,
        "source": opening.source,
        "opened_at": opening.created_at.astimezone(UTC).isoformat(),
    }


def restore_holiday(database: Database, opening_id: int, now: datetime) -> Opening:
    """Forget that a facility opens on a holiday: the next sync closes the day again."""
    with database.engine.begin() as connection:
        found = store.list_openings(connection, opening_ids=[opening_id])
        if not found or not store.forget_opening(connection, opening_id):
            raise BadInput(
                f"no holiday opening with id {opening_id}; `slotgen holidays openings` shows them"
            )
    return found[0]
