"""Checking in passes over rows that are read again finds what checking a list found.

The reference is the check slotgen had before: every row cleaned and held, then a second
loop over the held rows for references and meaning. Both are given the same random rows
(good and bad ids, duplicates, references to rows earlier, later, in the database or
nowhere, bad values), spread over several sources; the problems must be the same, in
the same order, and what is written must be the rows without a problem, referenced
tables first.
"""

from collections.abc import Mapping, Sequence, Set
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotgen.importing.checks import (
    _clean,
    _meaning_problem,
    check_rows,
    check_sources,
    rows_to_write,
)
from slotgen.importing.columns import COLUMNS, TABLES
from slotgen.importing.ids import IdSet
from slotgen.importing.rows import CleanRow, Problem, RowList, SourceRow, Where

RULES = "availability_rules"


def reference_check(
    rows: Sequence[SourceRow], existing: Mapping[str, Set[int]]
) -> tuple[list[Problem], list[CleanRow]]:
    cleaned: list[tuple[SourceRow, CleanRow, list[Problem]]] = []
    first_seen: dict[tuple[str, int], Where] = {}
    for row in rows:
        problems: list[Problem] = []
        row_id, values = _clean(row, problems)
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
        cleaned.append((row, CleanRow(row.table, row.where, row_id, values), problems))
    found: list[Problem] = []
    good: list[CleanRow] = []
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
        if usable and (meaning := _meaning_problem(clean.table, clean.id, clean.values)):
            problems.append(Problem(row.where, meaning))
        if problems:
            found.extend(problems)
        else:
            good.append(clean)
    return found, good


IDS = st.one_of(st.none(), st.integers(-1, 6), st.sampled_from(["3", " 4 ", "x", "", True]))
REFERENCES = st.one_of(st.none(), st.integers(0, 6), st.sampled_from(["2", "two"]))


@st.composite
def source_rows(draw: st.DrawFn, line: int) -> SourceRow:
    table = draw(st.sampled_from(["facilities", "doctors", "services", RULES]))
    values: dict[str, Any] = {}
    if (row_id := draw(IDS)) is not None:
        values["id"] = row_id
    if table == RULES:
        values |= {
            "facility_id": draw(REFERENCES),
            "doctor_id": draw(REFERENCES),
            "service_id": draw(REFERENCES),
            "day_of_week": draw(st.sampled_from([1, "mon", "funday", 9])),
            "start_time": draw(st.sampled_from(["09:00", "12:00"])),
            "end_time": "10:00",
            "slot_duration_minutes": draw(st.sampled_from([30, 0])),
        }
    else:
        values["name"] = draw(st.sampled_from(["A", "", 7]))
    if draw(st.booleans()):
        values["colour"] = "blue"
    values = {key: value for key, value in values.items() if value is not None}
    lines = {key: line + offset for offset, key in enumerate(values, start=1)}
    where = Where(f"file{line % 3}.toml", line, f"{table}[{line}]")
    return SourceRow(table, where, values, lines)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[list[list[SourceRow]], dict[str, IdSet]]:
    count = draw(st.integers(0, 14))
    rows = [draw(source_rows(line * 10)) for line in range(1, count + 1)]
    cuts = sorted(draw(st.lists(st.integers(0, count), max_size=2)))
    parts = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, count], strict=True)]
    existing = {
        table: IdSet(draw(st.sets(st.integers(1, 6), max_size=3)))
        for table in ("facilities", "doctors", "services", RULES)
    }
    return parts, existing


@settings(max_examples=300, deadline=None)
@given(given_inputs=inputs())
def test_checking_in_passes_finds_what_checking_a_list_found(
    given_inputs: tuple[list[list[SourceRow]], dict[str, IdSet]],
) -> None:
    parts, existing = given_inputs
    rows = [row for part in parts for row in part]
    sources = [RowList(part) for part in parts]
    problems, good = reference_check(rows, existing)

    result = check_sources(sources, existing)

    assert [str(p) for p in result.problems] == [str(p) for p in problems]
    checked = check_rows(rows, existing)
    assert [str(p) for p in checked.problems] == [str(p) for p in problems]
    assert checked.rows == good
    if problems:
        return
    in_writing_order = [
        row
        for table in TABLES
        for with_id in (True, False)
        for row in good
        if row.table == table and (row.id is not None) is with_id
    ]
    assert list(rows_to_write(sources, result)) == in_writing_order
    for table in TABLES:
        mine = [row for row in good if row.table == table]
        updated = sum(1 for row in mine if row.id is not None and row.id in existing.get(table, ()))
        assert result.counts[table] == (len(mine) - updated, updated)


@st.composite
def valid_inputs(draw: st.DrawFn) -> tuple[list[list[SourceRow]], dict[str, IdSet]]:
    """Rows that pass: unique ids or none, references to rows anywhere in the input or
    already in the database, tables in any order."""
    existing = {
        table: IdSet(draw(st.sets(st.integers(1, 9), max_size=3)))
        for table in ("facilities", "doctors", "services", RULES)
    }
    fresh = iter(draw(st.permutations(range(1, 30))))
    plan = draw(
        st.lists(st.sampled_from(["facilities", "doctors", "services", RULES]), max_size=16)
    )
    ids = {
        table: [next(fresh) if draw(st.booleans()) else None for t in plan if t == table]
        for table in set(plan)
    }
    defined = {table: [i for i in ids.get(table, []) if i is not None] for table in existing}
    rows: list[SourceRow] = []
    for line, table in enumerate(plan, start=1):
        row_id = ids[table].pop(0)
        values: dict[str, Any] = {} if row_id is None else {"id": row_id}
        if table == RULES:
            for column, target in (("facility_id", "facilities"), ("doctor_id", "doctors")):
                choices = [*defined[target], *existing[target]]
                if not choices:
                    existing[target].add(1)
                    choices = [1]
                values[column] = draw(st.sampled_from(choices))
            values |= {
                "day_of_week": 1,
                "start_time": "09:00",
                "end_time": "10:00",
                "slot_duration_minutes": 30,
            }
        else:
            values["name"] = f"{table} {line}"
        rows.append(SourceRow(table, Where("clinic.toml", line), values))
    cuts = sorted(draw(st.lists(st.integers(0, len(rows)), max_size=2)))
    parts = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
    return parts, existing


@settings(max_examples=200, deadline=None)
@given(given_inputs=valid_inputs())
def test_good_rows_are_written_referenced_tables_first_and_given_ids_first(
    given_inputs: tuple[list[list[SourceRow]], dict[str, IdSet]],
) -> None:
    parts, existing = given_inputs
    rows = [row for part in parts for row in part]
    sources = [RowList(part) for part in parts]
    problems, good = reference_check(rows, existing)
    assert problems == []

    result = check_sources(sources, existing)

    assert result.problems == []
    in_writing_order = [
        row
        for table in TABLES
        for with_id in (True, False)
        for row in good
        if row.table == table and (row.id is not None) is with_id
    ]
    assert list(rows_to_write(sources, result)) == in_writing_order
    for table in TABLES:
        mine = [row for row in good if row.table == table]
        updated = sum(1 for row in mine if row.id is not None and row.id in existing.get(table, ()))
        assert result.counts[table] == (len(mine) - updated, updated)


def test_a_reference_to_a_row_later_in_another_file_is_resolved_without_a_problem() -> None:
    rules = RowList(
        [
            SourceRow(
                RULES,
                Where("rules.csv", 2),
                {
                    "facility_id": "1",
                    "doctor_id": "2",
                    "day_of_week": "mon",
                    "start_time": "09:00",
                    "end_time": "10:00",
                    "slot_duration_minutes": "30",
                },
            )
        ]
    )
    later = RowList(
        [
            SourceRow("facilities", Where("facilities.csv", 2), {"id": "1", "name": "North"}),
            SourceRow("doctors", Where("doctors.csv", 2), {"id": "2", "name": "Dr. Lee"}),
        ]
    )

    result = check_sources([rules, later], {})

    assert result.problems == []
    assert [(row.table, row.id) for row in rows_to_write([rules, later], result)] == [
        ("facilities", 1),
        ("doctors", 2),
        (RULES, None),
    ]


def test_rows_with_problems_are_never_handed_to_the_writer() -> None:
    source = RowList([SourceRow("doctors", Where("doctors.csv", 2), {"id": "x", "name": "A"})])
    result = check_sources([source], {})

    assert [str(p) for p in result.problems] == [
        "doctors.csv:2: id: must be a whole number, got 'x'"
    ]
    with pytest.raises(ValueError, match="never written"):
        next(rows_to_write([source], result))


# --------------------------------------------------------------------------------------
# IdSet


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(
        st.one_of(
            st.integers(1, 3000),
            st.integers(-5, 0),
            st.integers(2**20, 2**31 - 1),
            st.sampled_from([2**31 - 1, 524_287, 524_288]),
        ),
        max_size=60,
    ),
    probes=st.lists(st.integers(-10, 2**31), max_size=20),
)
def test_an_id_set_holds_what_a_set_holds(ids: list[int], probes: list[int]) -> None:
    compact = IdSet()
    plain: set[int] = set()
    for row_id in ids:
        compact.add(row_id)
        plain.add(row_id)
        assert row_id in compact
        assert len(compact) == len(plain)

    assert set(compact) == plain
    assert sorted(compact) == sorted(plain)
    for probe in [*probes, *ids]:
        assert (probe in compact) == (probe in plain)
    anything: Set[object] = compact
    assert "1" not in anything


def test_dense_ids_take_about_a_bit_each() -> None:
    ids = IdSet(range(1, 100_001))

    assert len(ids) == 100_000
    assert 100_000 in ids
    assert 100_001 not in ids
    assert 0 not in ids
    assert len(ids._bits) <= 1 << 16
    assert not ids._others
