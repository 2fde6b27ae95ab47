"""One `generate` run: reconcile the slot table with the rules for a range of dates."""

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from slotgen.core.dates import DateSpec, UnknownZoneError, facility_window, span_utc
from slotgen.core.model import (
    AvailabilityException,
    ChunkPlan,
    Conflict,
    FacilityWindow,
    RowProblem,
)
from slotgen.core.plan import plan_chunk
from slotgen.db import slots as store
from slotgen.db.bulk import insert_slots, is_deadlock
from slotgen.db.schema import doctors, facilities
from slotgen.errors import BadInput

log = logging.getLogger("slotgen.generate")

DOCTORS_PER_CHUNK = 50
"""Doctors planned and written per transaction: keeps memory flat and locks short."""
DEADLOCK_RETRIES = 3
DETAILED_CONFLICTS = 200

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class GenerateRequest:
    facility_ids: tuple[int, ...] = ()
    doctor_ids: tuple[int, ...] = ()
    start: DateSpec | None = None
    end: DateSpec | None = None
    days: int | None = None
    dry_run: bool = False


@dataclass
class GenerateReport:
    dry_run: bool
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    taken_meanwhile: int = 0
    """Planned changes not made because the web app took the slot during the run."""
    conflicts: list[Conflict] = field(default_factory=list)
    problems: dict[tuple[str, int], RowProblem] = field(default_factory=dict)
    blocked_by_type: Counter[str] = field(default_factory=Counter)
    created_per_rule: Counter[int] = field(default_factory=Counter)
    doctors: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        verb = "Would create" if self.dry_run else "Created"
        line = (
            f"{verb} {self.created:,} slots, updated {self.updated:,}, removed {self.removed:,}, "
            f"unchanged {self.unchanged:,}"
        )
        if self.conflicts:
            line += f"; {len(self.conflicts):,} conflicts need attention"
        if self.problems:
            line += f"; {len(self.problems):,} bad rows skipped"
        if self.taken_meanwhile:
            line += f"; {self.taken_meanwhile:,} slots were taken during the run and left alone"
        if not (self.created or self.updated or self.removed) and not self.dry_run:
            line += " (nothing to change)"
        return line

    def stats(self) -> dict[str, Any]:
        """The counts, as stored in job_runs.stats and printed by --json."""
        return {
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "taken_meanwhile": self.taken_meanwhile,
            "conflicts": len(self.conflicts),
            "bad_rows": len(self.problems),
            "blocked_by_type": dict(sorted(self.blocked_by_type.items())),
            "doctors": self.doctors,
        }

    def details(self) -> str | None:
        """Skipped rows and conflicts, one per line, for job_runs.details."""
        lines = [
            f"skipped {problem.table} id {problem.id}: {problem.reason}"
            for problem in self.problems.values()
        ]
        lines += [
            f"conflict ({conflict.kind}) slot {conflict.slot_id}: {conflict.detail}"
            for conflict in self.conflicts[:DETAILED_CONFLICTS]
        ]
        if len(self.conflicts) > DETAILED_CONFLICTS:
            lines.append(f"... and {len(self.conflicts) - DETAILED_CONFLICTS} more conflicts")
        return "\n".join(lines) or None

    def add(self, plan: ChunkPlan) -> None:
        self.conflicts.extend(plan.conflicts)
        for problem in plan.problems:
            self.problems.setdefault((problem.table, problem.id), problem)
        self.blocked_by_type.update(plan.blocked_by_type)
        self.created_per_rule.update(plan.created_per_rule)
        self.unchanged += plan.unchanged


def generate(
    engine: Engine, request: GenerateRequest, now: datetime, progress: Progress | None = None
) -> GenerateReport:
    """Reconcile the slots of the request's scope with the rules, one doctor chunk at a time.

    Every chunk is its own short transaction, so the web app keeps booking during a long
    run and a crash loses at most the chunk in flight; the next run finishes the work.
    """
    windows, doctor_ids, exceptions, since, until = _prepare(engine, request, now)
    report = GenerateReport(dry_run=request.dry_run, doctors=len(doctor_ids))
    run = _Run(engine, exceptions, windows, since, until, now, report)
    log.info(
        "Generating slots for facility %s, doctor %s",
        _describe(request.facility_ids),
        _describe(request.doctor_ids),
    )
    for done in range(0, len(doctor_ids), DOCTORS_PER_CHUNK):
        chunk = doctor_ids[done : done + DOCTORS_PER_CHUNK]
        for attempt in range(1, DEADLOCK_RETRIES + 1):
            try:
                run.chunk(chunk)
                break
            except DBAPIError as exc:
                if not is_deadlock(exc) or attempt == DEADLOCK_RETRIES:
                    raise
                log.warning("Chunk of %d doctors hit a deadlock; retrying", len(chunk))
        if progress is not None:
            progress(min(done + DOCTORS_PER_CHUNK, len(doctor_ids)), len(doctor_ids))
    for problem in report.problems.values():
        log.warning("Skipped %s id %d: %s", problem.table, problem.id, problem.reason)
    log.info(
        "Total slots created: %d (updated %d, removed %d, unchanged %d, conflicts %d)",
        report.created,
        report.updated,
        report.removed,
        report.unchanged,
        len(report.conflicts),
    )
    return report


@dataclass(frozen=True)
class _Run:
    """What every chunk of one run shares: the clock, the dates, the exceptions."""

    engine: Engine
    exceptions: Sequence[AvailabilityException]
    windows: dict[int, FacilityWindow]
    since: datetime
    until: datetime
    now: datetime
    report: GenerateReport

    def chunk(self, doctor_ids: Sequence[int]) -> None:
        """Plan and write one chunk in one transaction; a deadlock retries it whole."""
        report = self.report
        with self.engine.connect() if report.dry_run else self.engine.begin() as connection:
            rules = store.rules_of(connection, doctor_ids)
            existing = store.existing_slots(connection, doctor_ids, self.since, self.until)
            plan = plan_chunk(rules, self.exceptions, existing, self.windows, self.now)
            if report.dry_run:
                created, updated, removed = len(plan.inserts), len(plan.updates), len(plan.deletes)
            else:
                created = insert_slots(connection, plan.inserts, self.now)
                updated = store.update_open_slots(connection, plan.updates, self.now)
                removed = store.delete_open_slots(connection, plan.deletes)
        report.created += created
        report.updated += updated
        report.removed += removed
        report.taken_meanwhile += len(plan.updates) - updated + len(plan.deletes) - removed
        report.add(plan)
        verb = "Would create" if report.dry_run else "Created"
        for rule_id, count in sorted(plan.created_per_rule.items()):
            log.info("%s %d slots for rule ID %d", verb, count, rule_id)


def _prepare(
    engine: Engine, request: GenerateRequest, now: datetime
) -> tuple[dict[int, FacilityWindow], list[int], list[AvailabilityException], datetime, datetime]:
    """Check the request against the database before anything is written."""
    with engine.connect() as connection:
        for table, ids, noun in (
            (facilities, request.facility_ids, "facility"),
            (doctors, request.doctor_ids, "doctor"),
        ):
            if missing := store.missing_ids(connection, table, ids):
                raise BadInput(f"unknown {noun} id {', '.join(map(str, missing))}")
        zones = store.facility_zones(connection)
        windows: dict[int, FacilityWindow] = {}
        spans: list[tuple[datetime, datetime]] = []
        for facility_id, zone in zones.items():
            in_scope = not request.facility_ids or facility_id in request.facility_ids
            window, span = _window(zone, now, request, in_scope)
            windows[facility_id] = window
            spans.append(span)
        doctor_ids = store.doctors_in_scope(connection, request.facility_ids, request.doctor_ids)
        if not windows:
            return windows, doctor_ids, [], now, now
        first = min(window.first_day for window in windows.values())
        last = max(window.last_day for window in windows.values())
        exceptions = store.exceptions_between(
            connection, first - timedelta(days=1), last + timedelta(days=1)
        )
    since = min(start for start, _ in spans) - timedelta(days=1)
    until = max(end for _, end in spans)
    return windows, doctor_ids, exceptions, since, until


def _window(
    zone: str, now: datetime, request: GenerateRequest, in_scope: bool
) -> tuple[FacilityWindow, tuple[datetime, datetime]]:
    """A facility's dates and their UTC span; a bad zone is read as UTC for its dates only.

    The planner reports and skips the rules of a facility with a bad zone; its dates still
    have to exist so that the rest of the run goes on.
    """
    try:
        window = facility_window(zone, now, request.start, request.end, request.days, in_scope)
        return window, span_utc(window)
    except UnknownZoneError:
        window = facility_window("UTC", now, request.start, request.end, request.days, in_scope)
        return replace(window, zone=zone), span_utc(window)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _describe(ids: Sequence[int]) -> str:
    return ", ".join(map(str, ids)) if ids else "all"
