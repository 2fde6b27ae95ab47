"""`generate`: reconcile the slot table with the rules for a range of dates.

The use case (`generate`) checks the request, then runs the work on record or as a dry
run; the work (`generate_slots`) goes one doctor chunk at a time, each chunk its own
short transaction, so the web app keeps booking during a long run and a crash loses at
most the chunk in flight: the next run finishes the work.
"""

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from slotgen.core.dates import UnknownZoneError, facility_window, span_utc
from slotgen.core.model import (
    AvailabilityException,
    ChunkPlan,
    Conflict,
    ExistingSlot,
    FacilityWindow,
    RowProblem,
)
from slotgen.core.plan import ChunkPlanner
from slotgen.core.watermark import DayRange, Watermark, claim, mark_after
from slotgen.db import lookup, watermarks
from slotgen.db import slots as store
from slotgen.db.bulk import insert_slots, is_deadlock
from slotgen.db.database import Database
from slotgen.db.engine import size_cache_for_bulk_writes
from slotgen.errors import BadInput
from slotgen.services.common import require_known
from slotgen.services.jobs import JobResult, perform
from slotgen.services.params import GenerateParams
from slotgen.services.runner import Checkpoint, RunOptions

log = logging.getLogger("slotgen.generate")

DOCTORS_PER_CHUNK = 50
"""Doctors planned and written per transaction: keeps memory flat and locks short."""
DEADLOCK_RETRIES = 3
DETAILED_CONFLICTS = 200

Progress = Callable[[int, int], None]


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

    def json(self) -> dict[str, Any]:
        """Everything --json prints besides the run: the counts and each finding."""
        return {
            **self.stats(),
            "dry_run": self.dry_run,
            "created_per_rule": {str(k): v for k, v in sorted(self.created_per_rule.items())},
            "conflict_list": [
                {**asdict(conflict), "start_at": conflict.start_at.isoformat()}
                for conflict in self.conflicts
            ],
            "bad_rows": [asdict(problem) for problem in self.problems.values()],
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


@dataclass(frozen=True)
class GenerateRequest:
    params: GenerateParams
    dry_run: bool = False
    options: RunOptions = field(default_factory=RunOptions)


def generate(
    database: Database, request: GenerateRequest, now: datetime, progress: Progress | None = None
) -> JobResult[GenerateReport]:
    """The `slotgen generate` use case: on record (lock, job_runs row, tries) or dry."""
    work = GenerateWork(request.params, dry_run=request.dry_run, progress=progress)
    return perform(database, work, request.options, now, dry_run=request.dry_run)


@dataclass(frozen=True)
class GenerateWork:
    """A generate run's work, as the runner and `slotgen retry` run it."""

    params: GenerateParams
    dry_run: bool = False
    progress: Progress | None = None

    def check(self, engine: Engine, now: datetime) -> None:
        prepare(engine, self.params, now)

    def run(self, engine: Engine, now: datetime, checkpoint: Checkpoint) -> GenerateReport:
        return generate_slots(
            engine,
            self.params,
            now,
            dry_run=self.dry_run,
            progress=self.progress,
            checkpoint=checkpoint,
        )


@dataclass(frozen=True)
class Prepared:
    """What every chunk of one run shares: each facility's dates, the doctors, the
    exceptions, and the UTC span of stored slots to read: from the UTC midnight a day or
    more before the first facility's first day (context: a slot there may overlap one of
    that day's), so that whole UTC days are read and a watermark can count them."""

    windows: dict[int, FacilityWindow]
    doctor_ids: list[int]
    exceptions: list[AvailabilityException]
    since: datetime
    until: datetime
    days: DayRange | None = None
    """The days a watermark can prove, where the database keeps watermarks."""


def prepare(engine: Engine, params: GenerateParams, now: datetime) -> Prepared:
    """Check the request against the database; BadInput before anything is written."""
    with engine.connect() as connection:
        require_known(connection, params.facility_ids, params.doctor_ids)
        windows: dict[int, FacilityWindow] = {}
        spans: list[tuple[datetime, datetime]] = []
        for facility in lookup.all_facilities(connection).values():
            in_scope = not params.facility_ids or facility.id in params.facility_ids
            window, span = _window(facility.timezone, now, params, in_scope)
            windows[facility.id] = window
            spans.append(span)
        doctor_ids = store.doctors_in_scope(connection, params.facility_ids, params.doctor_ids)
        if not windows:
            return Prepared(windows, doctor_ids, [], now, now)
        first = min(window.first_day for window in windows.values())
        last = max(window.last_day for window in windows.values())
        exceptions = store.exceptions_between(
            connection, first - timedelta(days=1), last + timedelta(days=1)
        )
        tracks_edits = watermarks.tracks_edits(connection)
    earliest = min(start for start, _ in spans).astimezone(UTC) - timedelta(days=1)
    since = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
    until = max(end for _, end in spans)
    days = DayRange.of(since, until) if tracks_edits else None
    return Prepared(windows, doctor_ids, exceptions, since, until, days)


def _window(
    zone: str, now: datetime, params: GenerateParams, in_scope: bool
) -> tuple[FacilityWindow, tuple[datetime, datetime]]:
    """A facility's dates and their UTC span; a bad zone is read as UTC for its dates only.

    The planner reports and skips the rules of a facility with a bad zone; its dates still
    have to exist so that the rest of the run goes on.
    """
    start, end, days = params.start, params.end, params.days
    try:
        window = facility_window(zone, now, start, end, days, in_scope)
        return window, span_utc(window)
    except UnknownZoneError:
        window = facility_window("UTC", now, start, end, days, in_scope)
        return replace(window, zone=zone), span_utc(window)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def generate_slots(
    engine: Engine,
    params: GenerateParams,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> GenerateReport:
    """Reconcile the slots of the request's scope with the rules, one doctor chunk at a time."""
    prepared = prepare(engine, params, now)
    doctor_ids = prepared.doctor_ids
    report = GenerateReport(dry_run=dry_run, doctors=len(doctor_ids))
    run = _Run(engine, prepared, now, report)
    log.info(
        "Generating slots for facility %s, doctor %s",
        _describe(params.facility_ids),
        _describe(params.doctor_ids),
    )
    for done in range(0, len(doctor_ids), DOCTORS_PER_CHUNK):
        if checkpoint is not None:
            checkpoint()
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
class _Proof:
    """What one chunk's watermarks prove, and what it needs to leave new ones."""

    days: DayRange
    digests: dict[int, list[str]]
    """Per doctor, the digest of each day's wanted slots."""
    marks: dict[int, Watermark]
    proven: dict[int, tuple[int, int]]
    """Per doctor, the days [first, end) proven (doctors with none left out)."""
    longest_slot: timedelta
    """How far a wanted slot before the proven days can reach into them."""


@dataclass(frozen=True)
class _Run:
    engine: Engine
    prepared: Prepared
    now: datetime
    report: GenerateReport

    def chunk(self, doctor_ids: Sequence[int]) -> None:
        """Plan and write one chunk in one transaction; a deadlock retries it whole."""
        report, prepared, days = self.report, self.prepared, self.prepared.days
        cleared = 0
        with self.engine.connect() if report.dry_run else self.engine.begin() as connection:
            size_cache_for_bulk_writes(connection)
            rules = store.rules_of(connection, doctor_ids)
            planner = ChunkPlanner(rules, prepared.exceptions, prepared.windows, self.now)
            proof = None if days is None else self._prove(connection, days, planner, doctor_ids)
            existing = self._read_back(connection, doctor_ids, proof)
            if proof is not None and proof.proven:
                undone = planner.reaching(existing, proof.days, proof.proven)
                if undone:  # read those doctors' slots again, whole
                    proof = replace(proof, proven=_without(proof.proven, undone))
                    existing = [slot for slot in existing if slot.doctor_id not in undone]
                    existing += self._read_back(connection, sorted(undone), None)
            plan = planner.reconcile(existing, days, None if proof is None else proof.proven)
            if report.dry_run:
                created, updated, removed = len(plan.inserts), len(plan.updates), len(plan.deletes)
            else:
                created = insert_slots(connection, plan.inserts, self.now)
                updated = store.update_open_slots(connection, plan.updates, self.now)
                removed = store.delete_open_slots(connection, plan.deletes)
                if updated < len(plan.updates) or removed < len(plan.deletes):
                    cleared = self._clear_overlaps(connection, plan)
                if proof is not None:
                    as_planned = not cleared and (created, updated, removed) == (
                        len(plan.inserts),
                        len(plan.updates),
                        len(plan.deletes),
                    )
                    self._leave_watermarks(connection, plan, proof, as_planned)
        report.created += created
        report.updated += updated
        report.removed += removed + cleared
        report.taken_meanwhile += len(plan.updates) - updated + len(plan.deletes) - removed
        report.add(plan)
        if log.isEnabledFor(logging.DEBUG):  # a line per rule: thousands in a large clinic
            verb = "Would create" if report.dry_run else "Created"
            for rule_id, count in sorted(plan.created_per_rule.items()):
                log.debug("%s %d slots for rule ID %d", verb, count, rule_id)

    def _prove(
        self,
        connection: Connection,
        days: DayRange,
        planner: ChunkPlanner,
        doctor_ids: Sequence[int],
    ) -> _Proof:
        """Which days each doctor's watermark proves: the digests agree there, and every
        slot its days counted is still stored (slotgen.core.watermark)."""
        scope = days.scope(planner.scope.spans, planner.scope.bad_rules)
        digests = {d: days.digests(planner.wanted.get(d, ()), scope) for d in doctor_ids}
        marks = watermarks.watermarks_of(connection, doctor_ids)
        until = self.prepared.until
        claims = {d: claim(marks.get(d), digests[d], days, self.now, until) for d in doctor_ids}
        by_span: dict[tuple[int, int], list[int]] = {}
        for doctor_id, made in claims.items():
            if made is not None:
                by_span.setdefault((made.count_from, made.count_to), []).append(doctor_id)
        proven = {}
        for (count_from, count_to), doctors in sorted(by_span.items()):
            since = days.starts[count_from]
            until = min(days.starts[count_to], self.prepared.until)  # as far as runs read
            found = watermarks.stored_between(connection, doctors, since, until)
            for doctor_id in doctors:
                made = claims[doctor_id]
                if made is not None and found.get(doctor_id, 0) == made.stored:
                    proven[doctor_id] = (made.first, made.end)
        return _Proof(days, digests, marks, proven, planner.longest_slot)

    def _read_back(
        self, connection: Connection, doctor_ids: Sequence[int], proof: _Proof | None
    ) -> list[ExistingSlot]:
        """The stored slots the plan is compared with: all of the run's, or for a doctor
        with proven days, those around them, and as context the proven days' slots that
        could overlap them: as far as a wanted slot before them reaches into them, and
        from as far back as the longest slot they store before the days after them."""
        prepared = self.prepared
        by_span: dict[tuple[datetime, datetime], list[int]] = {}
        for doctor_id in doctor_ids:
            proven = None if proof is None else proof.proven.get(doctor_id)
            if proof is None or proven is None:
                spans = [(prepared.since, prepared.until)]
            else:
                starts = proof.days.starts
                first, end = proven
                head = (prepared.since, starts[first] + proof.longest_slot) if first else None
                reach = max(starts[end] - proof.marks[doctor_id].longest, prepared.since)
                tail = (reach, prepared.until) if end < proof.days.count else None
                if head and tail and head[1] >= tail[0]:
                    spans = [(head[0], tail[1])]
                else:
                    spans = [span for span in (head, tail) if span]
            for span in spans:
                by_span.setdefault(span, []).append(doctor_id)
        existing: list[ExistingSlot] = []
        for (since, until), doctors in sorted(by_span.items()):
            existing += store.existing_slots(connection, doctors, since, until)
        return existing

    def _leave_watermarks(
        self, connection: Connection, plan: ChunkPlan, proof: _Proof, as_planned: bool
    ) -> None:
        """Rewrite the watermarks of the doctors this chunk reconciled at least a day of;
        a doctor proven throughout keeps the one that proved it, as does one with neither
        a wanted nor a stored slot. When the web app took a slot meanwhile, forget all of
        the chunk's instead."""
        if not as_planned:
            watermarks.replace_watermarks(connection, list(proof.digests), {})
            return
        left = {
            doctor_id: mark_after(
                now=self.now,
                days=proof.days,
                digests=proof.digests[doctor_id],
                proven=proof.proven.get(doctor_id),
                old=proof.marks.get(doctor_id),
                stored_after=stored,
                longest=plan.longest_slot[doctor_id],
                until=self.prepared.until,
            )
            for doctor_id, stored in plan.stored_per_day.items()
            if doctor_id in proof.digests and proof.proven.get(doctor_id) != (0, proof.days.count)
        }
        watermarks.replace_watermarks(connection, list(left), left)

    def _clear_overlaps(self, connection: Connection, plan: ChunkPlan) -> int:
        """The web app took some slots this chunk meant to change: they keep their old
        times, so no new open slot may overlap them. Checked in the chunk's transaction,
        after its writes: a booking can then only find the new slots, which agree."""
        meant = [slot_id for slot_id, _ in plan.updates] + plan.deletes
        in_scope = [fid for fid, window in self.prepared.windows.items() if window.in_scope]
        cleared = store.clear_overlaps_of_taken(connection, sorted(meant), in_scope, self.now)
        if cleared:
            log.info("Removed %d open slots overlapping slots taken during the run", cleared)
        return cleared


def _without(proven: dict[int, tuple[int, int]], doctors: set[int]) -> dict[int, tuple[int, int]]:
    return {doctor_id: days for doctor_id, days in proven.items() if doctor_id not in doctors}


def _describe(ids: Sequence[int]) -> str:
    return ", ".join(map(str, ids)) if ids else "all"
