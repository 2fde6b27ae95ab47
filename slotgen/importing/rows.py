"""A schedule file's rows on their way in, and where each one was found.

A schedule file is edited by hand, so every problem is reported where the person will
look for it, `FILE:LINE: message`, and all of them at once: a fix-one-rerun loop over a
hundred rows is how imports get abandoned half done.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Where:
    """Where a row or value is in its file: a line when known, else the row's index."""

    file: str
    line: int | None = None
    index: str | None = None

    def at(self, line: int | None) -> "Where":
        return Where(self.file, line, self.index) if line is not None else self

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.index}" if self.index else f"{self.file}:1"


@dataclass(frozen=True, slots=True)
class Problem:
    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row as read from a file, values untyped (CSV gives text, TOML its own types)."""

    table: str
    where: Where
    values: Mapping[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)
    """The line of each column's value, where the format and the scan can tell."""


@dataclass(frozen=True, slots=True)
class CleanRow:
    """A row ready to write: every column typed and present, defaults filled in."""

    table: str
    where: Where
    id: int | None
    values: Mapping[str, Any]


class RowSource(Protocol):
    """A file's rows, read afresh on every call.

    A large schedule is never held as Python objects: the checks read the rows once to
    check them and the writer once more per table, so a source is asked for its rows
    several times and must give the same rows, in the same order, each time.
    """

    def rows(self, table: str | None = None) -> Iterator[SourceRow]:
        """Every row in file order, or only those of `table`."""
        ...


@dataclass(frozen=True, slots=True)
class RowList:
    """Rows already in memory: a TOML file (small, and parsed whole) or rows built in code."""

    items: Sequence[SourceRow]

    def rows(self, table: str | None = None) -> Iterator[SourceRow]:
        if table is None:
            return iter(self.items)
        return (row for row in self.items if row.table == table)


@dataclass(slots=True)
class Parsed:
    rows: list[SourceRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class Checked:
    rows: list[CleanRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
