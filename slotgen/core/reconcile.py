"""Turning the slots the rules produce into inserts, updates and deletes of stored slots.

slotgen owns only what it created, in what the operator asked for, from now on: a stored
slot is *touchable* when its rule_id is set, its facility is in the run's scope, it
starts inside that facility's span_utc and not before `now`. Then:

- a wanted slot with no stored slot at its (doctor, start) is inserted;
- a touchable open slot at a wanted slot's (doctor, start) is kept, or updated when its
  end, facility, service or rule differ;
- a touchable open slot the rules no longer produce is deleted;
- a touchable taken slot (any other status: reserved, booked, ...) is never changed:
  where it disagrees with the rules, or the rules no longer produce it, that is a Conflict;
- every other stored slot (rule_id NULL, out of scope, out of range, past, or made by a
  rule that is now a bad row) is never touched, and a wanted slot overlapping it or a
  taken slot is not offered ('occupied'). A rule that turns bad (its duration set to 0,
  say) thus keeps the slots it made, reported, until it is fixed or deactivated: skipping
  a row must not mean emptying its calendar.
"""

from bisect import bisect_left
from collections.abc import Mapping
from datetime import datetime
from operator import eq, itemgetter

from slotgen.core.dates import UnknownZoneError, describe_instant, span_utc
from slotgen.core.intervals import IntervalIndex
from slotgen.core.model import (
    ChunkPlan,
    Conflict,
    ExistingSlot,
    FacilityWindow,
    PlannedSlot,
)
from slotgen.vocabulary import is_taken

_START_AT = itemgetter(2)
_END_AT = itemgetter(3)
_VALUES = itemgetter(slice(1, 7))
_FIELDS = ("end", "facility", "service", "rule")


class Scope:
    """Which facilities and stored slots this run may write."""

    def __init__(self, windows: Mapping[int, FacilityWindow], now: datetime) -> None:
        self.now = now
        self.bad_rules: set[int] = set()
        """Rules skipped as bad rows: their stored slots are kept as they are."""
        self.spans: dict[int, tuple[datetime, datetime]] = {}
        for facility_id, window in windows.items():
            if window.in_scope:
                try:
                    self.spans[facility_id] = span_utc(window)
                except UnknownZoneError:
                    continue

    def in_scope(self, facility_id: int) -> bool:
        return facility_id in self.spans

    def touchable(self, slot: ExistingSlot) -> bool:
        span = self.spans.get(slot.facility_id)
        return (
            slot.rule_id is not None
            and slot.rule_id not in self.bad_rules
            and span is not None
            and span[0] <= slot.start_at < span[1]
            and slot.start_at >= self.now
        )


def _differences(stored: ExistingSlot, wanted: PlannedSlot) -> str:
    pairs = (
        (stored.end_at, wanted.end_at),
        (stored.facility_id, wanted.facility_id),
        (stored.service_id, wanted.service_id),
        (stored.rule_id, wanted.rule_id),
    )
    return ", ".join(
        f"{name} {new:%H:%M} (stored {old:%H:%M})"
        if isinstance(new, datetime) and isinstance(old, datetime)
        else f"{name} {new} (stored {old})"
        for name, (old, new) in zip(_FIELDS, pairs, strict=True)
        if old != new
    )


class DoctorReconciler:
    """Matches one doctor's wanted slots, in time order, against their stored slots."""

    def __init__(
        self,
        stored: list[ExistingSlot],
        scope: Scope,
        plan: ChunkPlan,
        proven: tuple[datetime, datetime] | None = None,
    ) -> None:
        """stored must be sorted by start_at. `proven` is the span a watermark proved
        (slotgen.core.watermark): stored slots starting in it are fixed context, like the
        past."""
        self.index = IntervalIndex(list(map(_START_AT, stored)), list(map(_END_AT, stored)), stored)
        self.matched = bytearray(len(stored))
        self.scope = scope
        self.plan = plan
        self.proven = proven

    def touchable(self, slot: ExistingSlot) -> bool:
        proven = self.proven
        return self.scope.touchable(slot) and (
            proven is None or not proven[0] <= slot.start_at < proven[1]
        )

    def add(self, wanted: list[PlannedSlot], rule_id: int | None) -> None:
        """Reconcile a run of wanted slots: sorted, disjoint, later than earlier runs.

        rule_id names the run's only rule, or is None for a run mixing rules. A run with
        no stored slot near it is inserted whole and a run stored exactly as wanted is
        left whole; only runs where something differs go slot by slot.
        """
        index, plan = self.index, self.plan
        first, last_end = wanted[0].start_at, wanted[-1].end_at
        near = index.candidates(first, last_end)
        if not near:
            plan.inserts.extend(wanted)
            if rule_id is None:
                for slot in wanted:
                    self._created(slot.rule_id, 1)
            else:
                self._created(rule_id, len(wanted))
            return
        inner = bisect_left(index.starts, first, near.start, near.stop)
        if (
            near.stop - inner == len(wanted)
            and all(index.ends[i] <= first for i in range(near.start, inner))
            and all(map(eq, map(_VALUES, index.items[inner : near.stop]), wanted))
        ):
            plan.unchanged += len(wanted)
            self.matched[inner : near.stop] = b"\x01" * len(wanted)
            return
        for slot in wanted:
            self._add_one(slot)

    def _add_one(self, slot: PlannedSlot) -> None:
        index, touchable_slot, plan = self.index, self.touchable, self.plan
        same: int | None = None
        blocker: ExistingSlot | None = None
        for i in index.candidates(slot.start_at, slot.end_at):
            if index.ends[i] <= slot.start_at:
                continue
            stored = index.items[i]
            touchable = touchable_slot(stored)
            if (
                same is None
                and touchable
                and stored.start_at == slot.start_at
                and not self.matched[i]
            ):
                same = i
            elif blocker is None and not (touchable and not is_taken(stored.status)):
                blocker = stored
        if same is not None and is_taken(index.items[same].status):
            self.matched[same] = 1
            if _VALUES(index.items[same]) == slot:
                plan.unchanged += 1
            else:
                self._conflict("taken_slot_disagrees", slot, index.items[same])
        elif blocker is not None:
            self._conflict("occupied", slot, blocker)
        elif same is not None:
            self.matched[same] = 1
            if _VALUES(index.items[same]) == slot:
                plan.unchanged += 1
            else:
                plan.updates.append((index.items[same].id, slot))
        else:
            plan.inserts.append(slot)
            self._created(slot.rule_id, 1)

    def _created(self, rule_id: int, count: int) -> None:
        created = self.plan.created_per_rule
        created[rule_id] = created.get(rule_id, 0) + count

    def finish(self) -> None:
        """Delete or report the touchable stored slots no wanted slot matched."""
        items, matched = self.index.items, self.matched
        if self.proven is not None:  # the proven span's slots are context: none to visit
            starts = self.index.starts
            lo, hi = (bisect_left(starts, instant) for instant in self.proven)
            matched[lo:hi] = b"\x01" * (hi - lo)
        i = matched.find(0)
        while i != -1:
            stored = items[i]
            if self.touchable(stored):
                if not is_taken(stored.status):
                    self.plan.deletes.append(stored.id)
                else:
                    self._conflict("taken_slot_not_planned", None, stored)
            i = matched.find(0, i + 1)

    def _why_fixed(self, stored: ExistingSlot) -> str:
        if stored.rule_id is None:
            return "not created by slotgen"
        if self.touchable(stored):
            return stored.status
        if stored.start_at < self.scope.now:
            return "already started"
        return "outside this run's facilities or dates"

    def _conflict(self, kind: str, slot: PlannedSlot | None, stored: ExistingSlot) -> None:
        """Record a disagreement; slot None means the rules no longer want stored at all."""
        when = describe_instant(stored.start_at)
        if slot is None:
            detail = (
                f"slot {stored.id} is {stored.status} at {when} but rule {stored.rule_id} "
                "no longer offers that time; it was left as it is"
            )
        elif kind == "taken_slot_disagrees":
            detail = (
                f"slot {stored.id} is {stored.status}; rule {slot.rule_id} now wants "
                f"{_differences(stored, slot)}; it was left as it is"
            )
        else:
            detail = (
                f"slot {stored.id} ({self._why_fixed(stored)}) covers {when}-"
                f"{stored.end_at:%H:%M}; rule {slot.rule_id}'s slot at "
                f"{describe_instant(slot.start_at)} was not offered"
            )
        self.plan.conflicts.append(
            Conflict(
                kind,
                stored.doctor_id,
                stored.start_at if slot is None else slot.start_at,
                stored.rule_id if slot is None else slot.rule_id,
                None if slot is None else stored.rule_id,
                stored.id,
                detail,
            )
        )
