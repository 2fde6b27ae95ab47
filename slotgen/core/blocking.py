"""Availability exceptions as UTC intervals, and dropping the slots they close."""

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from slotgen.core.dates import MIDNIGHT, ONE_DAY, UnknownZoneError, load_zone, window_instants
from slotgen.core.intervals import IntervalIndex
from slotgen.core.model import (
    EXCEPTIONS_TABLE,
    AvailabilityException,
    FacilityWindow,
    PlannedSlot,
    RowProblem,
)
from slotgen.core.validate import exception_problem
from slotgen.vocabulary import is_taken

Closure = tuple[datetime, datetime, str]


def _zone_for(exc: AvailabilityException, windows: Mapping[int, FacilityWindow]) -> ZoneInfo | None:
    """The exception's zone, else its facility's: a row with a bad zone must still block."""
    for name in (
        exc.timezone,
        windows[exc.facility_id].zone if exc.facility_id in windows else None,
    ):
        if name is not None:
            try:
                return load_zone(name)
            except UnknownZoneError:
                continue
    return None


def _closures(
    exc: AvailabilityException, zone: ZoneInfo, malformed: bool, first_day: date, last_day: date
) -> Iterable[Closure]:
    """The exception's closed intervals on the days from first_day to last_day."""
    lo, hi = exc.start_date, exc.end_date or exc.start_date
    if malformed:
        lo, hi = min(lo, hi), max(lo, hi)
    lo, hi = max(lo, first_day), min(hi, last_day)
    if lo > hi:
        return ()
    opens, closes = exc.start_time, exc.end_time
    if malformed or opens is None or closes is None:
        start, _ = window_instants(lo, MIDNIGHT, MIDNIGHT, zone)
        _, end = window_instants(hi, MIDNIGHT, MIDNIGHT, zone)
        return ((start, end, exc.type),)
    return (
        (*window_instants(lo + ONE_DAY * n, opens, closes, zone), exc.type)
        for n in range((hi - lo).days + 1)
    )


class Closures:
    """Every exception of a chunk, indexed per facility (doctor_id None) and per doctor."""

    def __init__(
        self,
        exceptions: Iterable[AvailabilityException],
        windows: Mapping[int, FacilityWindow],
    ) -> None:
        """Exceptions are expanded only over the chunk's dates: slots never leave their own
        local day, and a years-long exception then costs no more than the run's range."""
        self.problems: list[RowProblem] = []
        found: dict[tuple[int, int | None], list[Closure]] = {}
        first_day = min((w.first_day for w in windows.values()), default=date.max)
        last_day = max((w.last_day for w in windows.values()), default=date.min)
        for exc in exceptions:
            problem = exception_problem(exc)
            if problem:
                self.problems.append(RowProblem(EXCEPTIONS_TABLE, exc.id, problem))
            zone = _zone_for(exc, windows)
            if zone is None:
                continue
            found.setdefault((exc.facility_id, exc.doctor_id), []).extend(
                _closures(exc, zone, bool(problem), first_day, last_day)
            )
        self._index = {owner: IntervalIndex.build(c) for owner, c in found.items() if c}

    def for_doctor(self, facility_id: int, doctor_id: int) -> list[IntervalIndex[str]]:
        return [
            index
            for index in (
                self._index.get((facility_id, None)),
                self._index.get((facility_id, doctor_id)),
            )
            if index is not None
        ]


def drop_closed(
    slots: list[PlannedSlot],
    indexes: list[IntervalIndex[str]],
    blocked: Counter[str],
    count_from: datetime | None,
) -> list[PlannedSlot]:
    """The slots no exception touches (slots sorted by start, non-empty).

    Blocked slots starting at or after count_from are counted by exception type (None:
    count nothing), once each, for the earliest-starting exception that closes them.
    """
    lo, hi = slots[0].start_at, slots[-1].end_at
    closures = sorted(c for index in indexes for c in index.overlapping(lo, hi))
    if not closures:
        return slots
    kept = []
    for slot in slots:
        start_at, end_at = slot.start_at, slot.end_at
        kind = next((k for start, end, k in closures if start < end_at and start_at < end), None)
        if kind is None:
            kept.append(slot)
        elif count_from is not None and start_at >= count_from:
            blocked[kind] += 1
    return kept


class StoredSlot(Protocol):
    @property
    def start_at(self) -> datetime: ...
    @property
    def end_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def rule_id(self) -> int | None: ...


SlotT = TypeVar("SlotT", bound=StoredSlot)


def closed_by(exc: AvailabilityException) -> IntervalIndex[str]:
    """Every interval `exc` closes over all of its own days, read exactly as generate
    reads it (whole days, windows, 24:00, DST nights); its zone must be known."""
    zone = load_zone(exc.timezone)
    malformed = exception_problem(exc) is not None
    first, last = sorted((exc.start_date, exc.end_date or exc.start_date))
    return IntervalIndex.build(_closures(exc, zone, malformed, first, last))


def exception_effect(closed: IntervalIndex[str], slots: Iterable[SlotT]) -> tuple[int, list[SlotT]]:
    """What an exception's `closed_by` intervals do to these stored slots (those of its
    facility, or of its doctor there, from now on): how many open slots the next generate
    removes (only slots generate made, with a rule), and the taken slots inside, which
    generate keeps and reports."""
    to_remove, taken = 0, []
    for slot in slots:
        if not closed.overlapping(slot.start_at, slot.end_at):
            continue
        if is_taken(slot.status):
            taken.append(slot)
        elif slot.rule_id is not None:
            to_remove += 1
    return to_remove, taken
