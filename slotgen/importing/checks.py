"""Checking every row of the input before anything is written: types, references, meaning.

The checks generate applies to rules and exceptions are applied here too, so no row that
generate would skip gets in.

Rows are not kept: a large file's rows as Python objects take many times the file's size.
The checks read each source's rows once and keep only what later rows are checked
against, the ids each table defines (`IdSet`, about a bit each) and the references not
yet resolved (two ints each); the writer reads the rows again and types them again
(`rows_to_write`).
Where a problem is only known once every row has been seen (a reference to an id no row
defines, the first row of a duplicate id), the rows are read once more to say where.
"""

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from slotgen.core.model import EXCEPTIONS_TABLE, RULES_TABLE, AvailabilityException, Rule
from slotgen.core.validate import exception_problem, rule_problem
from slotgen.importing.columns import COLUMNS, TABLES, Column, column_problem, positive
from slotgen.importing.ids import IdSet
from slotgen.importing.rows import (
    Checked,
    CleanRow,
    Problem,
    RowList,
    RowSource,
    SourceRow,
    Where,
)

_NAMES = {
    table: frozenset(["id", *(c.name for c in columns)]) for table, columns in COLUMNS.items()
}
_REFERENCES = {
    table: tuple((index, c) for index, c in enumerate(columns) if c.references)
    for table, columns in COLUMNS.items()
}
"""Per table, each column that names a row of another table, with its place in the row."""

_CLEAN, _REFERENCE, _MEANING = 1, 2, 3
"""The order of a row's problems: its values and id, then its references, then its meaning."""


@dataclass(slots=True)
class CheckResult:
    """What checking the input found: its problems, and what a write would do per table."""

    problems: list[Problem] = field(default_factory=list)
    with_id: dict[str, int] = field(default_factory=dict)
    """Rows per table that give an id."""
    without_id: dict[str, int] = field(default_factory=dict)
    updates: dict[str, int] = field(default_factory=dict)
    """Rows per table whose id is already in the database."""

    @property
    def counts(self) -> dict[str, tuple[int, int]]:
        """Per table: (inserted, updated), as writing the rows would count them."""
        return {
            table: (
                self.with_id.get(table, 0)
                + self.without_id.get(table, 0)
                - self.updates.get(table, 0),
                self.updates.get(table, 0),
            )
            for table in TABLES
        }


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _clean(row: SourceRow, problems: list[Problem]) -> tuple[int | None, dict[str, Any]]:
    """The row's id, and the row with each value typed that could be; adds the problems.

    An unusable row still comes back, with only its good values, so its id and references
    are still checked: every problem is reported at once, and one bad value does not
    cause a cascade of messages about others. (Every row goes through here twice, to be
    checked and to be written, hence the plain loop.)
    """
    table, raw_values = row.table, row.values
    known = _NAMES[table]
    for name in raw_values:
        if name not in known and (problem := column_problem(table, name)):
            problems.append(Problem(row.where.at(row.lines.get(name)), problem))
    row_id: int | None = None
    if _given(raw_values.get("id")):
        try:
            row_id = positive(raw_values["id"])
        except ValueError as exc:
            problems.append(Problem(row.where.at(row.lines.get("id")), f"id: {exc}"))
    values: dict[str, Any] = {}
    for column in COLUMNS[table]:
        name = column.name
        raw = raw_values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if column.required:
                problems.append(Problem(row.where, f"{name}: required, but missing"))
            values[name] = column.default
            continue
        try:
            values[name] = column.coerce(raw)
        except ValueError as exc:
            problems.append(Problem(row.where.at(row.lines.get(name)), f"{name}: {exc}"))
    return row_id, values


def _row_id(row: SourceRow) -> int | None:
    """The row's id as `_clean` reads it, None when missing or not an id."""
    if not _given(row.values.get("id")):
        return None
    try:
        return positive(row.values["id"])
    except ValueError:
        return None


def _meaning_problem(table: str, row_id: int | None, values: Mapping[str, Any]) -> str | None:
    """The checks generate applies to rules and exceptions, so no bad row gets in.

    The zone is checked on the facility row itself; UTC stands in here so a rule is not
    blamed for its facility.
    """
    if table == RULES_TABLE:
        return rule_problem(Rule(id=row_id or 0, **values, timezone="UTC"))
    if table == EXCEPTIONS_TABLE:
        shape = {key: value for key, value in values.items() if key != "source"}
        return exception_problem(AvailabilityException(id=row_id or 0, **shape, timezone="UTC"))
    return None


def _every_row(sources: Iterable[RowSource], table: str | None = None) -> Iterator[SourceRow]:
    for source in sources:
        yield from source.rows(table)


@dataclass(slots=True)
class _Found:
    """A problem, with what puts it in file order: row number, kind, then as found."""

    row: int
    kind: int
    order: int
    problem: Problem


def check_sources(sources: Sequence[RowSource], existing: Mapping[str, Set[int]]) -> CheckResult:
    """Every problem in the input, in file order, and the counts of a write.

    `existing` holds the ids already in the database, per table: a reference is good when
    the row it names is in the input or in the database.
    """
    return _check(sources, existing)[0]


def _check(
    sources: Sequence[RowSource], existing: Mapping[str, Set[int]]
) -> tuple[CheckResult, set[int]]:
    """The result, and the numbers (in reading order) of the rows that have a problem."""
    result = CheckResult(
        with_id=dict.fromkeys(TABLES, 0),
        without_id=dict.fromkeys(TABLES, 0),
        updates=dict.fromkeys(TABLES, 0),
    )
    ids = {table: IdSet() for table in TABLES}
    found: list[_Found] = []
    duplicates: list[tuple[int, int, Where, str, int]] = []
    """(row number, order, where, table, id) of each repeated id: "first at" comes later."""
    unresolved: dict[tuple[str, int], tuple[array[int], array[int]]] = {}
    """Per (table, column), the row numbers and ids of references not yet seen anywhere."""
    order = count()
    nowhere: Set[int] = frozenset()
    for number, row in enumerate(_every_row(sources)):
        table = row.table
        problems: list[Problem] = []
        row_id, values = _clean(row, problems)
        found.extend(_Found(number, _CLEAN, next(order), problem) for problem in problems)
        usable = not problems
        if row_id is None:
            result.without_id[table] += 1
        else:
            result.with_id[table] += 1
            result.updates[table] += row_id in existing.get(table, nowhere)
            if row_id in ids[table]:
                where = row.where.at(row.lines.get("id"))
                duplicates.append((number, next(order), where, table, row_id))
                usable = False
            else:
                ids[table].add(row_id)
        for index, column in _REFERENCES[table]:
            target, value = column.references, values.get(column.name)
            if target is None or value is None:
                continue
            if value not in ids[target] and value not in existing.get(target, nowhere):
                numbers, values_ = unresolved.setdefault((table, index), (array("q"), array("q")))
                numbers.append(number)
                values_.append(value)
        if usable and (meaning := _meaning_problem(table, row_id, values)):
            found.append(_Found(number, _MEANING, next(order), Problem(row.where, meaning)))
    missing: dict[int, list[tuple[int, Column, int]]] = {}
    for (table, index), (numbers, values_) in unresolved.items():
        column = COLUMNS[table][index]
        target = column.references
        assert target is not None
        for number, value in zip(numbers, values_, strict=True):
            if value not in ids[target] and value not in existing.get(target, nowhere):
                missing.setdefault(number, []).append((index, column, value))
    if missing or duplicates:
        found += _located(sources, missing, duplicates)
    found.sort(key=lambda f: (f.row, f.kind, f.order))
    result.problems = [f.problem for f in found]
    return result, {f.row for f in found}


def _located(
    sources: Sequence[RowSource],
    missing: Mapping[int, list[tuple[int, Column, int]]],
    duplicates: Sequence[tuple[int, int, Where, str, int]],
) -> list[_Found]:
    """The problems only known after every row was seen, placed by reading the rows again."""
    located: list[_Found] = []
    first_at: dict[tuple[str, int], Where | None] = {(t, i): None for *_, t, i in duplicates}
    for number, row in enumerate(_every_row(sources)):
        if first_at and (row_id := _row_id(row)) is not None:
            key = (row.table, row_id)
            if key in first_at and first_at[key] is None:
                first_at[key] = row.where
        for index, column, value in missing.get(number, ()):
            located.append(
                _Found(
                    number,
                    _REFERENCE,
                    index,
                    Problem(
                        row.where.at(row.lines.get(column.name)),
                        f"{column.name}: no {column.references} row with id {value}, "
                        "neither in the input nor in the database",
                    ),
                )
            )
    for number, order, where, table, row_id in duplicates:
        message = f"duplicate id {row_id} in {table} (first at {first_at[table, row_id]})"
        located.append(_Found(number, _CLEAN, order, Problem(where, message)))
    return located


def rows_to_write(sources: Sequence[RowSource], result: CheckResult) -> Iterator[CleanRow]:
    """The rows typed again, in writing order: by table in `TABLES` order, rows with an id
    first, else as read.

    Referenced tables come first so every reference is already there when its row is
    written. Rows with an id come first so that no id the database picks for a new row
    can be one the input gives: the database moves its counter past the given ids first.
    Only rows that passed `check_sources` may be written.
    """
    if result.problems:
        raise ValueError("rows with problems are never written")
    for table in TABLES:
        for with_id, rows in ((True, result.with_id), (False, result.without_id)):
            if not rows.get(table):
                continue
            for row in _every_row(sources, table):
                if _given(row.values.get("id")) is not with_id:
                    continue
                problems: list[Problem] = []
                row_id, values = _clean(row, problems)
                if problems:
                    raise RuntimeError(f"a row changed after it was checked: {problems[0]}")
                yield CleanRow(table, row.where, row_id, values)


def check_rows(rows: Iterable[SourceRow], existing: Mapping[str, Set[int]]) -> Checked:
    """Every problem in the input, in file order, and the rows without one, typed."""
    source = RowList(list(rows))
    result, with_problems = _check([source], existing)
    checked = Checked(problems=result.problems)
    for number, row in enumerate(source.rows()):
        if number not in with_problems:
            row_id, values = _clean(row, [])
            checked.rows.append(CleanRow(row.table, row.where, row_id, values))
    return checked


def ordered(rows: Sequence[CleanRow]) -> list[CleanRow]:
    """Rows in writing order: referenced tables first, and within a table as read."""
    return sorted(rows, key=lambda row: TABLES.index(row.table))
