"""Checking every row of the input before anything is written: types, references, meaning.

The checks generate applies to rules and exceptions are applied here too, so no row that
generate would skip gets in.
"""

from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from slotgen.core.model import EXCEPTIONS_TABLE, RULES_TABLE, AvailabilityException, Rule
from slotgen.core.validate import exception_problem, rule_problem
from slotgen.importing.columns import COLUMNS, TABLES, column_problem, positive
from slotgen.importing.rows import Checked, CleanRow, Problem, SourceRow, Where


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _clean(row: SourceRow, problems: list[Problem]) -> tuple[int | None, CleanRow]:
    """The row's id, and the row with each value typed that could be; adds the problems.

    An unusable row still comes back, with only its good values, so its id and references
    are still checked: every problem is reported at once, and one bad value does not
    cause a cascade of messages about others.
    """
    for name in row.values:
        if problem := column_problem(row.table, name):
            problems.append(Problem(row.where.at(row.lines.get(name)), problem))
    row_id: int | None = None
    if _given(row.values.get("id")):
        try:
            row_id = positive(row.values["id"])
        except ValueError as exc:
            problems.append(Problem(row.where.at(row.lines.get("id")), f"id: {exc}"))
    values: dict[str, Any] = {}
    for column in COLUMNS[row.table]:
        raw = row.values.get(column.name)
        if not _given(raw):
            if column.required:
                problems.append(Problem(row.where, f"{column.name}: required, but missing"))
            values[column.name] = column.default
            continue
        try:
            values[column.name] = column.coerce(raw)
        except ValueError as exc:
            where = row.where.at(row.lines.get(column.name))
            problems.append(Problem(where, f"{column.name}: {exc}"))
    return row_id, CleanRow(row.table, row.where, row_id, values)


def _meaning_problem(row: CleanRow) -> str | None:
    """The checks generate applies to rules and exceptions, so no bad row gets in.

    The zone is checked on the facility row itself; UTC stands in here so a rule is not
    blamed for its facility.
    """
    values = row.values
    if row.table == RULES_TABLE:
        return rule_problem(Rule(id=row.id or 0, **values, timezone="UTC"))
    if row.table == EXCEPTIONS_TABLE:
        return exception_problem(AvailabilityException(id=row.id or 0, **values, timezone="UTC"))
    return None


def check_rows(rows: Iterable[SourceRow], existing: Mapping[str, Set[int]]) -> Checked:
    """Every problem in the input, in file order, or the rows ready to write.

    `existing` holds the ids already in the database, per table: a reference is good when
    the row it names is in the input or in the database.
    """
    cleaned: list[tuple[SourceRow, CleanRow, list[Problem]]] = []
    first_seen: dict[tuple[str, int], Where] = {}
    for row in rows:
        problems: list[Problem] = []
        row_id, clean = _clean(row, problems)
        if row_id is not None:
            key = (row.table, row_id)
            if key in first_seen:
                problems.append(
                    Problem(
                        row.where.at(row.lines.get("id")),
                        f"duplicate id {row_id} in {row.table} (first at {first_seen[key]})",
                    )
                )
            else:
                first_seen[key] = row.where
        cleaned.append((row, clean, problems))
    checked = Checked()
    for row, clean, problems in cleaned:
        usable = not problems
        for column in COLUMNS[clean.table]:
            target, value = column.references, clean.values.get(column.name)
            if target is None or value is None:
                continue
            if (target, value) not in first_seen and value not in existing.get(target, ()):
                problems.append(
                    Problem(
                        row.where.at(row.lines.get(column.name)),
                        f"{column.name}: no {target} row with id {value}, "
                        "neither in the input nor in the database",
                    )
                )
        if usable and (meaning := _meaning_problem(clean)):
            problems.append(Problem(row.where, meaning))
        if problems:
            checked.problems.extend(problems)
        else:
            checked.rows.append(clean)
    return checked


def ordered(rows: Sequence[CleanRow]) -> list[CleanRow]:
    """Rows in writing order: referenced tables first, and within a table as read."""
    return sorted(rows, key=lambda row: TABLES.index(row.table))
