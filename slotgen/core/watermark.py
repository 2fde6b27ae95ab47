"""Proving that a doctor's stored slots still match the plan, without reading them back.

A watermark is what a generate run leaves for each doctor it reconciled: for every UTC
day of the run's range, a digest of the slots the rules wanted that day (in scope, before
the cut at `now`) and how many slots were stored that day once the run had written. A
later run takes a day as already reconciled when

1. its own plan gives the same digest for that day: rules, exceptions, facility zones
   and the zone database all reach the table only through the plan, so this covers them
   all at once, and a change to slotgen's planning as well. The digest also covers what
   decides which other stored slots the run may touch: the part of the day in the
   run's facilities and dates, and the rules skipped as bad rows;
2. as many slots are stored there now as the watermark counted: a slot inserted by hand;
3. the watermark still exists: the database deletes a doctor's watermark whenever one of
   their stored slots is updated or deleted, whoever does it (a booking, a release, an
   edit by hand; migration 0008's triggers);
4. the clock has not gone back since the watermark was written.

A watermark records only the days that reconciled cleanly (no conflict with a stored
slot). A run proves the longest run of consecutive days it can, and reconciles the days
before and after it as any run would, with the proven days' slots as fixed context. So a
re-run with nothing to do reads no slot back, and the daily run reads back only the days
at either end of its range.

Why the days around a proven run reconcile as a full run would: on a proven day the
stored slots a run may touch are exactly the wanted ones, which never overlap the wanted
slots of other days; a stored slot it may not touch that overlaps a later day's wanted
slot would have been a conflict on that later day, which is then not proven. Slots added
since are seen by the counts, which take in the day either side. A slot read back with
the days before the proven ones undoes its doctor's proof when it reaches into them, is
one the run may not take over (taken, started, a bad rule's, outside the run's facilities
or dates, made by hand) and overlaps a wanted slot there from `now` on
(`ChunkPlanner.reaching`); the run then reads that doctor's slots back whole.
"""

from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from hashlib import blake2b
from operator import itemgetter

from slotgen.core.model import PlannedSlot

ONE_DAY = timedelta(days=1)
DIGEST_VERSION = b"slotgen-plan-1"
"""Part of every digest: change it whenever a run would treat the same plan differently."""

_START = itemgetter(1)
_END = itemgetter(2)
_IDS = itemgetter(3, 4, 5)
"""PlannedSlot's facility_id, service_id and rule_id."""

Segment = tuple[list[PlannedSlot], int | None]
"""Wanted slots of one doctor in time order, and their only rule (None: several rules)."""

DayMark = tuple[str, int]
"""A day's digest, and how many slots (any status, any facility) it held after the run."""


@dataclass(frozen=True, slots=True)
class Watermark:
    planned_at: datetime
    first: date
    days: Sequence[DayMark | None]
    """From `first` on, one entry a day; None for a day that did not reconcile cleanly."""
    longest: timedelta
    """At least as long as any slot stored on the days (the runs' longest rule durations
    and slots read back, carried over from older watermarks): how far one can reach."""
    until: datetime
    """Where the run that counted the last day stopped reading: a day cut short there is
    only comparable with a run that stops at the same instant."""

    def day(self, day: date) -> DayMark | None:
        offset = (day - self.first).days
        return self.days[offset] if 0 <= offset < len(self.days) else None


class _Times(dict[tuple[tuple[datetime, ...], tuple[datetime, ...]], bytes]):
    """The starts and ends of a day's slots as bytes for a digest, converted once per
    distinct list: doctors with the same hours share one (and its datetime objects)."""

    def __missing__(self, key: tuple[tuple[datetime, ...], tuple[datetime, ...]]) -> bytes:
        starts, ends = key
        packed = self[key] = array("d", [t.timestamp() for t in starts + ends]).tobytes()
        return packed


@dataclass(frozen=True)
class DayRange:
    """The UTC days of a run that a watermark can prove: whole days from `first` on."""

    first: date
    count: int
    starts: tuple[datetime, ...] = field(repr=False)
    """Each day's first instant, and the instant after the last day."""
    _times: _Times = field(default_factory=_Times, repr=False, compare=False)

    @classmethod
    def of(cls, since: datetime, until: datetime) -> "DayRange | None":
        """The UTC days from the first midnight at or after `since` to the one holding the
        instant before `until` (generate's `since` is a midnight: its day is context that
        runs read and watermarks count, though nothing is wanted on it)."""
        first = since.astimezone(UTC).date()
        if datetime.combine(first, time(), UTC) < since:
            first += ONE_DAY
        last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
        if last < first:
            return None
        count = (last - first).days + 1
        starts = tuple(datetime.combine(first + ONE_DAY * n, time(), UTC) for n in range(count + 1))
        return cls(first, count, starts)

    def day(self, index: int) -> date:
        return self.first + ONE_DAY * index

    def scope(
        self, spans: Mapping[int, tuple[datetime, datetime]], bad_rules: Collection[int]
    ) -> list[blake2b]:
        """What decides, each day, which stored slots a run may touch besides the wanted
        ones (slotgen.core.reconcile.Scope): the part of the day each in-scope facility's
        dates cover, and the rules skipped as bad rows, whose slots are kept as they are.
        As each day's hasher with those taken in, for `digests` to copy."""
        skipped = array("q", sorted(bad_rules)).tobytes()
        days = []
        for index in range(self.count):
            day_start, day_end = self.starts[index], self.starts[index + 1]
            covered = [
                (facility_id, max(start, day_start).timestamp(), min(end, day_end).timestamp())
                for facility_id, (start, end) in sorted(spans.items())
                if start < day_end and end > day_start
            ]
            flat = [value for row in covered for value in row]
            days.append(
                blake2b(
                    DIGEST_VERSION + array("d", flat).tobytes() + b"|" + skipped, digest_size=16
                )
            )
        return days

    def digests(self, segments: Iterable[Segment], scope: Sequence[blake2b]) -> list[str]:
        """Each day's digest of its `scope` and of the wanted slots starting on it; a day
        with none gets the digest of nothing, so a day off proves as well as a working day."""
        hashers = [day.copy() for day in scope]
        times = self._times
        for slots, rule_id in segments:
            for index, part in self._by_day(slots):
                if not 0 <= index < self.count:
                    continue
                update = hashers[index].update
                update(array("q", [len(part), -2 if rule_id is None else rule_id]).tobytes())
                update(times[tuple(map(_START, part)), tuple(map(_END, part))])
                ids = map(_IDS, part) if rule_id is None else [_IDS(part[0])]
                update(array("q", [-1 if i is None else i for row in ids for i in row]).tobytes())
        return [hasher.hexdigest() for hasher in hashers]

    def _by_day(self, slots: list[PlannedSlot]) -> Iterable[tuple[int, list[PlannedSlot]]]:
        """A segment cut at UTC midnights (a day's window crosses at most one; a cluster
        of overlapping rules' slots may cross several)."""
        first, last = self.day_index(slots[0].start_at), self.day_index(slots[-1].start_at)
        if first == last:
            yield first, slots
            return
        start = 0
        for index in range(first, last + 1):
            end = (
                len(slots)
                if index == last
                else bisect_left(slots, self._start(index + 1), start, key=_START)
            )
            yield index, slots[start:end]
            start = end

    def day_index(self, instant: datetime) -> int:
        """The index of the day an instant falls on; out of range before or after."""
        return (instant.astimezone(UTC).date() - self.first).days

    def _start(self, index: int) -> datetime:
        if 0 <= index <= self.count:
            return self.starts[index]
        return datetime.combine(self.day(index), time(), UTC)

    def stored_per_day(self, starts: Sequence[datetime], lo: int = 0) -> dict[int, int]:
        """How many of these sorted start instants fall on each day from day `lo` on."""
        bounds = self.starts
        edges = [bisect_left(starts, bounds[index]) for index in range(lo, self.count + 1)]
        return {lo + n: edges[n + 1] - edges[n] for n in range(len(edges) - 1)}


@dataclass(frozen=True, slots=True)
class Claim:
    """What a watermark proves by digest: the days [first, end), if as many slots as it
    counted are still stored on [count_from, count_to), which adds a day each side: a slot
    added by hand there could overlap one of the proven days' slots."""

    first: int
    end: int
    count_from: int
    count_to: int
    stored: int


def claim(
    mark: Watermark | None,
    digests: Sequence[str],
    days: DayRange,
    now: datetime,
    until: datetime,
) -> Claim | None:
    """The longest run of days whose digest `mark` shares, narrowed so that the day each
    side is one the mark counted; None when it proves nothing. `until` is where this run
    reads to: a day either run cut short counts only if both cut it at the same instant."""
    if mark is None or now < mark.planned_at:
        return None
    known = [mark.day(days.day(index)) for index in range(days.count)]
    if mark.until != until:
        for index in range(days.count):
            if days.starts[index + 1] > min(until, mark.until):
                known[index] = None
    first, end, start = 0, 0, None
    for index, digest in enumerate(digests):
        day = known[index]
        if day is None or day[0] != digest:
            start = None
            continue
        start = index if start is None else start
        if index + 1 - start > end - first:
            first, end = start, index + 1
    if first > 0 and known[first - 1] is None:
        first += 1
    if end < days.count and known[end] is None:
        end -= 1
    if end <= first:
        return None
    count_from, count_to = max(first - 1, 0), min(end + 1, days.count)
    stored = sum(day[1] for day in known[count_from:count_to] if day is not None)
    return Claim(first, end, count_from, count_to, stored)


def mark_after(
    *,
    now: datetime,
    days: DayRange,
    digests: Sequence[str],
    proven: tuple[int, int] | None,
    old: Watermark | None,
    stored_after: Mapping[int, int],
    longest: timedelta,
    until: datetime,
) -> Watermark:
    """The watermark a doctor keeps once the plan is written: the proven days as they
    were, and each other day that reconciled cleanly with what it now holds. `longest`
    is the longest slot of those the run read back or wrote."""
    marks: list[DayMark | None] = [None] * days.count
    if proven is not None and old is not None:
        for index in range(*proven):
            marks[index] = old.day(days.day(index))
        longest = max(longest, old.longest)
    for index, stored in stored_after.items():
        if 0 <= index < days.count:
            marks[index] = (digests[index], stored)
    return Watermark(now, days.first, marks, longest, until)
