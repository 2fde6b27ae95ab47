"""Which stored half-open intervals overlap a query interval, in O(log n) per query."""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Generic, TypeVar

T = TypeVar("T")


class IntervalIndex(Generic[T]):
    """Intervals sorted by start, which may overlap one another.

    Remembering the longest interval bounds how far before a query an overlapping
    interval can start, so plain bisect on the starts finds every candidate without an
    interval tree; the intervals slotgen indexes (slots, closure days) are all short.
    """

    __slots__ = ("ends", "items", "max_length", "starts")

    def __init__(self, starts: list[datetime], ends: list[datetime], items: list[T]) -> None:
        """Take parallel lists already sorted by start (the cheap path for sorted rows)."""
        self.starts = starts
        self.ends = ends
        self.items = items
        self.max_length = max(map(datetime.__sub__, ends, starts), default=timedelta(0))

    @classmethod
    def build(cls, intervals: Iterable[tuple[datetime, datetime, T]]) -> "IntervalIndex[T]":
        ordered = sorted(intervals, key=itemgetter(0, 1))
        return cls([i[0] for i in ordered], [i[1] for i in ordered], [i[2] for i in ordered])

    def __len__(self) -> int:
        return len(self.items)

    def candidates(self, lo: datetime, hi: datetime) -> range:
        """Indexes of every interval that may overlap [lo, hi); check ends[i] > lo for each."""
        first = bisect_right(self.starts, lo - self.max_length)
        return range(first, bisect_left(self.starts, hi, first))

    def overlapping(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, T]]:
        starts, ends, items = self.starts, self.ends, self.items
        return [(starts[i], ends[i], items[i]) for i in self.candidates(lo, hi) if ends[i] > lo]
