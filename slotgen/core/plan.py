"""Which slots the rules produce: the scheduling contract, including the DST policy.

1. Days. A rule applies on facility-local date D of the run's window when it is active,
   D's weekday is its day_of_week (cron numbering: 0 = Sunday ... 6 = Saturday),
   valid_from <= D <= valid_until (None = open-ended) and, when it has a recurrence
   (every n weeks, the n-th weekday of a month: slotgen.core.recurrence), D is one of the
   recurrence's dates. Recurrences select dates only; the window on each is resolved
   below exactly as for a weekly rule.

2. Window instants (the DST policy). The rule's window runs from D start_time to
   D end_time in the facility's zone, an end_time of 00:00 meaning D+1 00:00. Each end
   becomes a UTC instant the way zoneinfo reads a wall-clock time by default (PEP 495
   fold=0, the same as RFC 5545 section 3.3.5):
   - a time inside a spring-forward gap lands after the gap, shifted by the gap's length
     (02:30 on New York's spring-forward night is 03:30 EDT);
   - a time that occurs twice on a fall-back night is its first occurrence
     (01:30 on New York's fall-back night is 01:30 EDT).
   The same reading applies to exception windows and to the edges of a whole local day,
   which is why a day starts at 01:00 where midnight is skipped (America/Santiago on
   2025-09-07, Africa/Cairo on 2024-04-26).

3. Slots. Slots step through real elapsed time from the window's start instant, every
   slot_duration + buffer minutes, and one exists while start + duration <= the window's
   end instant. A 01:00-04:00 window therefore offers 2 real hours of slots on a
   spring-forward night and 4 on a fall-back night, and no two slots of a rule share an
   instant. Wall-clock slot times shift by the DST jump after a transition inside a
   window; offering the hours that really elapse is what patients and doctors live by.

4. Exceptions. A slot that overlaps (half-open, in real time) an exception window of its
   facility (exception doctor_id None) or of its doctor at that facility is not generated.
   An exception covers each day from start_date to end_date (None = start_date): without
   times the whole local day (that day's 00:00 to the next day's 00:00, read as in 2),
   with times that window on each day (end_time 00:00 = end of day). 'blocked' and
   'emergency' both block; blocked slots are counted per type.

5. One place at a time. A doctor is never offered at overlapping times, across rules and
   facilities: rules are taken in id order and a later rule's slot that overlaps an
   earlier rule's slot is dropped and reported as 'overlapping_rules' naming both.
   Facilities outside the run's scope are planned too, so their slots still win over
   later rules, but slotgen never writes them.

6. The past is fixed. No slot starting before `now` is created, changed or removed.

7. Bad rows are isolated. An active rule with an unknown zone, a window that ends before
   it starts, a non-positive duration, a negative buffer, a weekday outside 0..6 or an
   empty validity range is reported as a RowProblem and skipped; inactive rules and days
   outside validity just produce nothing. A bad rule's stored slots are kept as they
   are (see slotgen.core.reconcile) until it is fixed or deactivated. A malformed
   exception is reported and treated as closing the whole days it names: when in doubt,
   offer nothing.

8. Stored slots are reconciled as described in slotgen.core.reconcile.
"""

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import groupby, repeat
from operator import itemgetter
from typing import Any, cast

from dateutil.rrule import WEEKLY, rrule

from slotgen.core.blocking import Closures, drop_closed
from slotgen.core.dates import describe_instant, load_zone, window_instants
from slotgen.core.model import (
    RULES_TABLE,
    AvailabilityException,
    ChunkPlan,
    Conflict,
    ExistingSlot,
    FacilityWindow,
    PlannedSlot,
    RowProblem,
    Rule,
)
from slotgen.core.reconcile import DoctorReconciler, Scope
from slotgen.core.recurrence import recurrence_dates, usable_recurrence
from slotgen.core.validate import exception_problem, rule_problem
from slotgen.core.watermark import DayRange, Segment
from slotgen.vocabulary import is_taken

__all__ = ["ChunkPlanner", "exception_problem", "plan_chunk", "rule_problem"]

DayPlan = tuple[date, tuple[datetime, ...], tuple[datetime, ...]]
Block = tuple[datetime, datetime, Rule, list[PlannedSlot]]
Run = tuple[list[PlannedSlot], Rule | None]

_START_AT = itemgetter(1)
_STORED_DOCTOR = itemgetter(1)
_STORED_START_AT = itemgetter(2)
_BLOCK_START = itemgetter(0)
_DAY = itemgetter(0)
_RULE_ORDER = itemgetter(2, 0)
_RULE_DOCTOR = itemgetter(2)


@lru_cache(maxsize=4096)
def _offsets(
    window: timedelta, duration: timedelta, step: timedelta
) -> tuple[tuple[timedelta, ...], tuple[timedelta, ...]]:
    """Slot start and end offsets from a window's start instant, per real window length."""
    if window < duration:
        return (), ()
    starts = tuple(step * n for n in range((window - duration) // step + 1))
    return starts, tuple(start + duration for start in starts)


@lru_cache(maxsize=1024)
def _day_plans(
    zone_name: str,
    *,
    day_of_week: int,
    start_time: time,
    end_time: time,
    first_day: date,
    last_day: date,
    duration_minutes: int,
    buffer_minutes: int,
) -> tuple[DayPlan, ...]:
    """Slot instants of one rule shape on each matching day that has room for a slot.

    Cached because clinics repeat the same shape for many doctors: their slots then share
    these datetime objects, and zone arithmetic runs once per shape instead of per slot.
    """
    zone = load_zone(zone_name)
    duration = timedelta(minutes=duration_minutes)
    step = duration + timedelta(minutes=buffer_minutes)
    plans = []
    for moment in rrule(WEEKLY, byweekday=(day_of_week + 6) % 7, dtstart=first_day, until=last_day):
        day = moment.date()
        begin, end = window_instants(day, start_time, end_time, zone)
        starts, ends = _offsets(end - begin, duration, step)
        if starts:
            plans.append((day, tuple(map(begin.__add__, starts)), tuple(map(begin.__add__, ends))))
    return tuple(plans)


def _new_slots(
    rule: Rule, starts: Iterable[datetime], ends: Iterable[datetime]
) -> list[PlannedSlot]:
    """PlannedSlots for one window, built in C: tuple.__new__ skips the NamedTuple's
    Python-level __new__, which would otherwise be the largest cost of a run."""
    fields = zip(
        repeat(rule.doctor_id),
        starts,
        ends,
        repeat(rule.facility_id),
        repeat(rule.service_id),
        repeat(rule.id),
    )
    return cast(list[PlannedSlot], list(map(cast(Any, tuple.__new__), repeat(PlannedSlot), fields)))


class ChunkPlanner:
    """Plans one chunk of doctors in two steps: what the rules want (on construction), then
    the reconcile with the stored slots, so that a caller can first compare what is wanted
    with a watermark and read back only the stored slots it cannot prove."""

    def __init__(
        self,
        rules: Sequence[Rule],
        exceptions: Sequence[AvailabilityException],
        windows: Mapping[int, FacilityWindow],
        now: datetime,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.windows = windows
        self.now = now
        self.closures = Closures(exceptions, windows)
        self.scope = Scope(windows, now)
        self.plan = ChunkPlan()
        self.blocked: Counter[str] = Counter()
        self.first_day = min((w.first_day for w in windows.values()), default=None)
        self.last_day = max((w.last_day for w in windows.values()), default=None)
        usable = []
        for rule in rules:
            if not rule.is_active:
                continue
            problem = rule_problem(rule)
            if problem:
                self.plan.problems.append(RowProblem(RULES_TABLE, rule.id, problem))
                self.scope.bad_rules.add(rule.id)
            else:
                usable.append(rule)
        usable.sort(key=_RULE_ORDER)
        self.longest_slot = timedelta(
            minutes=max((rule.slot_duration_minutes for rule in usable), default=0)
        )
        """How long the longest wanted slot is."""
        self.plan.problems.extend(self.closures.problems)
        self.wanted: dict[int, list[Segment]] = {}
        """Per doctor, the in-scope slots the rules want, past ones included, in time order."""
        for doctor_id, doctor_rules in groupby(usable, key=_RULE_DOCTOR):
            segments = [self._in_scope(run) for run in self._runs(list(doctor_rules))]
            self.wanted[doctor_id] = [segment for segment in segments if segment[0]]

    def reconcile(
        self,
        existing: Sequence[ExistingSlot],
        days: DayRange | None = None,
        proven: Mapping[int, tuple[int, int]] | None = None,
    ) -> ChunkPlan:
        """The chunk's plan against its stored slots.

        `proven` gives, per doctor, the days [first, end) of `days` a watermark proved:
        there the wanted slots count as unchanged and the stored ones are only context.
        With `days`, the plan also counts what each other day that reconciled cleanly
        will hold once the plan is written (ChunkPlan.stored_per_day).
        """
        plan, proven = self.plan, proven or {}
        slots_of = {
            d: sorted(ss, key=_STORED_START_AT)
            for d, ss in groupby(sorted(existing, key=_STORED_DOCTOR), key=_STORED_DOCTOR)
        }
        for doctor_id in sorted(self.wanted.keys() | slots_of.keys()):
            interval = proven.get(doctor_id)
            span = None
            if days is not None and interval is not None:
                span = (days.starts[interval[0]], days.starts[interval[1]])
            reconciler = DoctorReconciler(slots_of.get(doctor_id, []), self.scope, plan, span)
            inserted, deleted = len(plan.inserts), len(plan.deletes)
            conflicted = len(plan.conflicts)
            for slots, rule_id in self.wanted.get(doctor_id, []):
                for wanted in self._cut(slots, span):
                    reconciler.add(wanted, rule_id)
            reconciler.finish()
            if days is not None:
                stored = self._stored_after(reconciler, days, inserted, set(plan.deletes[deleted:]))
                for index in range(*interval) if interval else ():
                    del stored[index]
                for conflict in plan.conflicts[conflicted:]:
                    stored.pop(days.day_index(conflict.start_at), None)
                plan.stored_per_day[doctor_id] = stored
                plan.longest_slot[doctor_id] = max(reconciler.index.max_length, self.longest_slot)
        plan.blocked_by_type = dict(self.blocked)
        plan.updates.sort(key=itemgetter(0))
        plan.deletes.sort()
        plan.conflicts.sort(key=lambda c: (c.doctor_id, c.start_at, c.kind, c.slot_id or 0))
        return plan

    def reaching(
        self,
        existing: Sequence[ExistingSlot],
        days: DayRange,
        proven: Mapping[int, tuple[int, int]],
    ) -> set[int]:
        """Doctors whose proof a stored slot read back with the days before their proven
        ones undoes: one this run may not take over (taken, started, a bad rule's, outside
        the run's facilities or dates, made by hand) that overlaps a wanted slot of the
        proven days from `now` on. A full reconcile would find that slot in the way; the
        proof, made without it, would not."""
        undone = set()
        for slot in existing:
            interval = proven.get(slot.doctor_id)
            if interval is None or slot.doctor_id in undone:
                continue
            first, end = days.starts[interval[0]], days.starts[interval[1]]
            if not slot.start_at < first < slot.end_at:
                continue
            if self.scope.touchable(slot) and not is_taken(slot.status):
                continue
            lo, hi = max(first, self.now), min(slot.end_at, end)
            for wanted, _ in self.wanted.get(slot.doctor_id, ()):
                i = bisect_left(wanted, lo, key=_START_AT)
                if i < len(wanted) and wanted[i].start_at < hi:
                    undone.add(slot.doctor_id)
                    break
        return undone

    def _stored_after(
        self, reconciler: DoctorReconciler, days: DayRange, inserted: int, deleted: set[int]
    ) -> dict[int, int]:
        """Slots stored on each day once this doctor's writes are made (on the days it read
        back). Updates never move a slot's start: only inserts and deletes count."""
        stored = days.stored_per_day(reconciler.index.starts)
        inserts = list(map(_START_AT, self.plan.inserts[inserted:]))
        for index, count in days.stored_per_day(inserts).items():
            stored[index] += count
        for slot in reconciler.index.items if deleted else ():
            index = days.day_index(slot.start_at)
            if slot.id in deleted and index in stored:
                stored[index] -= 1
        return stored

    def _window(self, rule: Rule) -> FacilityWindow | None:
        """The rule's facility window; a facility the caller left out is planned over the
        whole chunk's dates but out of scope, so it still blocks and is never written."""
        window = self.windows.get(rule.facility_id)
        if window is None and self.first_day is not None and self.last_day is not None:
            return FacilityWindow(rule.timezone, self.first_day, self.last_day, False)
        return window

    def _blocks(self, rule: Rule) -> Iterator[Block]:
        """One block per day: the rule's slots that no exception closes."""
        window = self._window(rule)
        if window is None:
            return
        days = _day_plans(
            rule.timezone,
            day_of_week=rule.day_of_week,
            start_time=rule.start_time,
            end_time=rule.end_time,
            first_day=window.first_day,
            last_day=window.last_day,
            duration_minutes=rule.slot_duration_minutes,
            buffer_minutes=rule.buffer_minutes,
        )
        lo = 0 if rule.valid_from is None else bisect_left(days, rule.valid_from, key=_DAY)
        hi = (
            len(days)
            if rule.valid_until is None
            else bisect_right(days, rule.valid_until, key=_DAY)
        )
        applicable = days[lo:hi]
        recurrence = usable_recurrence(rule.recurrence)
        if recurrence is not None:
            dates = recurrence_dates(
                recurrence, rule.day_of_week, rule.valid_from, window.first_day, window.last_day
            )
            applicable = tuple(day for day in applicable if day[0] in dates)
        closed = self.closures.for_doctor(rule.facility_id, rule.doctor_id)
        count_from = self.now if self.scope.in_scope(rule.facility_id) else None
        for _, starts, ends in applicable:
            slots = _new_slots(rule, starts, ends)
            if closed:
                slots = drop_closed(slots, closed, self.blocked, count_from)
                if not slots:
                    continue
            yield slots[0].start_at, slots[-1].end_at, rule, slots

    def _runs(self, rules: list[Rule]) -> list[Run]:
        """A doctor's slots as time-ordered, non-overlapping runs.

        Blocks that overlap no other block (nearly all of them) pass through whole; only
        clusters of overlapping blocks are resolved slot by slot.
        """
        blocks = [block for rule in rules for block in self._blocks(rule)]
        blocks.sort(key=_BLOCK_START)
        runs: list[Run] = []
        i, count = 0, len(blocks)
        while i < count:
            end, j = blocks[i][1], i + 1
            while j < count and blocks[j][0] < end:
                end = max(end, blocks[j][1])
                j += 1
            if j == i + 1:
                runs.append((blocks[i][3], blocks[i][2]))
            else:
                runs.append((self._resolve(blocks[i:j]), None))
            i = j
        return runs

    def _resolve(self, cluster: list[Block]) -> list[PlannedSlot]:
        """Keep the lower rule id's slot wherever slots of a cluster overlap.

        Kept slots stay a sorted list of disjoint intervals, so each check is a bisect;
        merging a block's survivors is a sort of two sorted runs, linear in timsort.
        """
        kept: list[PlannedSlot] = []
        starts: list[datetime] = []
        ends: list[datetime] = []
        for _, _, _, slots in sorted(cluster, key=lambda block: block[2].id):
            survivors = []
            for slot in slots:
                i = bisect_right(starts, slot.start_at)
                if i and ends[i - 1] > slot.start_at:
                    winner: PlannedSlot | None = kept[i - 1]
                elif i < len(kept) and starts[i] < slot.end_at:
                    winner = kept[i]
                else:
                    winner = None
                if winner is None:
                    survivors.append(slot)
                elif self.scope.in_scope(slot.facility_id) and slot.start_at >= self.now:
                    self._overlap(slot, winner)
            if survivors:
                kept = sorted(kept + survivors, key=_START_AT)
                starts = [slot.start_at for slot in kept]
                ends = [slot.end_at for slot in kept]
        return kept

    def _overlap(self, slot: PlannedSlot, winner: PlannedSlot) -> None:
        self.plan.conflicts.append(
            Conflict(
                "overlapping_rules",
                slot.doctor_id,
                slot.start_at,
                slot.rule_id,
                winner.rule_id,
                None,
                f"rule {slot.rule_id} (facility {slot.facility_id}) slot at "
                f"{describe_instant(slot.start_at)} overlaps rule {winner.rule_id} (facility "
                f"{winner.facility_id}) slot at {describe_instant(winner.start_at)}; rule "
                f"{winner.rule_id} has the lower id and keeps the time",
            )
        )

    def _in_scope(self, run: Run) -> Segment:
        """The part of a run in the run's facilities, before the cut at `now` (`_cut`):
        what a digest covers, so that a later clock still proves the same days."""
        slots, rule = run
        if rule is None:
            return [s for s in slots if self.scope.in_scope(s.facility_id)], None
        return (slots if self.scope.in_scope(rule.facility_id) else []), rule.id

    def _cut(
        self, slots: list[PlannedSlot], proven: tuple[datetime, datetime] | None
    ) -> list[list[PlannedSlot]]:
        """The parts of a segment to reconcile: not in the past, nor in a span a watermark
        proved (the slots there are counted unchanged)."""
        now = self.now
        first = 0 if slots[0].start_at >= now else bisect_left(slots, now, key=_START_AT)
        if proven is None or proven[1] <= now or proven[0] > slots[-1].start_at:
            return [slots[first:] if first else slots] if first < len(slots) else []
        lo = bisect_left(slots, max(proven[0], now), lo=first, key=_START_AT)
        hi = bisect_left(slots, proven[1], lo=lo, key=_START_AT)
        self.plan.unchanged += hi - lo
        return [part for part in (slots[first:lo], slots[hi:]) if part]


def plan_chunk(
    rules: Sequence[Rule],
    exceptions: Sequence[AvailabilityException],
    existing: Sequence[ExistingSlot],
    windows: Mapping[int, FacilityWindow],
    now: datetime,
) -> ChunkPlan:
    """Plan one chunk of doctors: every rule, exception and stored slot they could touch.

    The chunk must hold all rules of its doctors (any facility): whether a slot may be
    offered depends on the doctor's other facilities too.
    """
    return ChunkPlanner(rules, exceptions, windows, now).reconcile(existing)
