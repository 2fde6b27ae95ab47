"""A compact set of row ids: the one thing the checks keep per row of a large import.

A Python `set` of 100,000 ints takes about 7 MB, more than the rows' CSV file itself, and
an import keeps two per table (the ids the input defines and those already in the
database). Ids are mostly dense (a sequence hands them out, an export numbers its rows),
so they are kept as bits, one per possible id up to the largest seen; an id so far beyond
the others that its bit would cost more than a set entry goes into a plain set instead.
"""

from collections.abc import Iterable, Iterator, Set
from typing import Any

_MIN_BYTES = 1 << 16
"""Bits for ids up to 524,288 are always kept as bits: 64 KiB at most."""
_BYTES_PER_ID = 8
"""Beyond that the bits may take this many bytes per id held (a set entry takes ~70)."""


class IdSet(Set[int]):
    """A set of ints, as bits where they are dense and as a `set` where they are not."""

    __slots__ = ("_bits", "_count", "_others")

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        self._others: set[int] = set()
        self._count = 0
        for row_id in ids:
            self.add(row_id)

    def add(self, row_id: int) -> None:
        if row_id in self:
            return
        self._count += 1
        if row_id > 0:
            index = row_id >> 3
            if index >= len(self._bits):
                limit = max(_MIN_BYTES, _BYTES_PER_ID * self._count)
                if index < limit:
                    grown = max(index + 1, min(2 * len(self._bits), limit))
                    self._bits.extend(bytes(grown - len(self._bits)))
            if index < len(self._bits):
                self._bits[index] |= 1 << (row_id & 7)
                return
        self._others.add(row_id)

    def __contains__(self, value: Any) -> bool:
        # An id that went to the others before the bits grew over it stays there.
        in_bits = isinstance(value, int) and value > 0 and (value >> 3) < len(self._bits)
        if in_bits and self._bits[value >> 3] >> (value & 7) & 1:
            return True
        return value in self._others

    def __iter__(self) -> Iterator[int]:
        """The ids held as bits in ascending order, then the others."""
        for index, byte in enumerate(self._bits):
            if byte:
                base = index << 3
                yield from (base + bit for bit in range(8) if byte >> bit & 1)
        yield from self._others

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"IdSet({sorted(self)!r})"
