"""The JSON reader reads a row at a time and still says exactly what `json.loads` said.

The reference below is the reader slotgen had before (the whole document through
`json.loads`, then a scan of the text for the lines): for any text, valid or broken, the
streaming reader must give the same rows at the same lines and the same problems. The
window it reads through is shrunk to a few characters, so every row, key and error
straddles the window's edge somewhere.
"""

import io
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from slotgen.importing import jsonstream
from slotgen.importing.columns import TABLE_NAMES
from slotgen.importing.formats import JsonFile, parse_json
from slotgen.importing.rows import Parsed, Problem, SourceRow, Where

# --------------------------------------------------------------------------------------
# The reference: the whole-document reader this one replaces


def reference_parse_json(name: str, text: str) -> Parsed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return Parsed(problems=[Problem(Where(name, exc.lineno), f"not valid JSON: {exc.msg}")])
    if not isinstance(document, dict):
        return Parsed(problems=[Problem(Where(name, 1), "expected an object of tables")])
    lines = _reference_lines(text)
    parsed = Parsed()
    for key, rows in document.items():
        found = lines.get(key, [])
        key_where = Where(name, found[0][0] if found else None, key)
        table = TABLE_NAMES.get(key)
        if table is None:
            parsed.problems.append(
                Problem(key_where, f"unknown table {key!r}: use {', '.join(TABLE_NAMES)}")
            )
            continue
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            parsed.problems.append(Problem(key_where, f"{key} must be a list of rows (tables)"))
            continue
        positions = found if len(found) == len(rows) else []
        for index, row in enumerate(rows):
            line, column_lines = positions[index] if positions else (None, {})
            where = Where(name, line, f"{key}[{index}]")
            parsed.rows.append(SourceRow(table, where, row, column_lines))
    return parsed


def _reference_lines(text: str) -> dict[str, list[tuple[int, dict[str, int]]]]:
    found: dict[str, list[tuple[int, dict[str, int]]]] = {}
    stack: list[str] = []
    line = 1
    table: str | None = None
    row: dict[str, int] | None = None
    last_string: str | None = None
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\n":
            line += 1
        elif char == '"':
            end = position + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            last_string = json.loads(text[position : end + 1])
            line += text.count("\n", position, end)
            position = end
        elif char == ":" and last_string is not None:
            if len(stack) == 1:
                table = last_string
            elif len(stack) == 3 and row is not None:
                row.setdefault(last_string, line)
        elif char in "{[":
            if char == "{" and stack == ["{", "["] and table is not None:
                row = {}
                found.setdefault(table, []).append((line, row))
            stack.append(char)
        elif char in "}]":
            stack.pop()
            if len(stack) == 2:
                row = None  # the row closed: a later nested object's keys are not its own
        if char != '"':
            last_string = None if char not in " \t\r\n:" else last_string
        position += 1
    return found


def seen(parsed: Parsed) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Everything a reader hands on: each row with its place and key lines, each problem."""
    rows = [
        (row.table, str(row.where), row.where.index, row.values, dict(row.lines))
        for row in parsed.rows
    ]
    return rows, [str(problem) for problem in parsed.problems]


@contextmanager
def window_of(chunk: int) -> Iterator[None]:
    with (
        patch.object(jsonstream, "CHUNK", chunk),
        patch.object(jsonstream, "LOOKAHEAD", min(chunk, jsonstream.LOOKAHEAD)),
    ):
        yield


def top_level_keys_repeat(text: str) -> bool:
    pairs: list[Any] = []

    def keep(found: list[tuple[str, Any]]) -> dict[str, Any]:
        pairs.append([key for key, _ in found])
        return dict(found)

    try:
        document = json.loads(text, object_pairs_hook=keep)
    except json.JSONDecodeError:
        return False
    if not isinstance(document, dict):
        return False
    keys = pairs[-1]
    return len(set(keys)) != len(keys)


# --------------------------------------------------------------------------------------
# Documents, then broken ones

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet='ab "\\:,{}[]é\u2028\n', max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
KEYS = st.sampled_from(["id", "name", "facility_id", "day_of_week", 'q"uote', "x:y", "é"])
ROWS = st.dictionaries(KEYS, VALUES, max_size=4)
TABLE_KEYS = st.sampled_from(["facilities", "doctors", "rules", "availability_rules", "slots"])
DOCUMENTS = st.one_of(
    st.dictionaries(TABLE_KEYS, st.lists(ROWS, max_size=4) | VALUES | st.lists(VALUES, max_size=3)),
    VALUES,
)
RENDERINGS = st.sampled_from(
    [
        {"indent": 2},
        {"indent": None},
        {"indent": 0},
        {"indent": "\t", "ensure_ascii": False},
        {"separators": (",", ":")},
        {"separators": (" ,\n", " :\r\n "), "ensure_ascii": False},
    ]
)
EDITS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "insert", "cut"]),
        st.floats(0, 1),
        st.sampled_from(list(',:[]{}"\\ \n\t\r0aex-.tn\ufeff')),
    ),
    max_size=3,
)
CHUNKS = st.sampled_from([1, 2, 5, 64, jsonstream.CHUNK])


def edited(text: str, edits: list[tuple[str, float, str]]) -> str:
    for operation, where, char in edits:
        at = int(where * len(text))
        if operation == "delete":
            text = text[:at] + text[at + 1 :]
        elif operation == "insert":
            text = text[:at] + char + text[at:]
        else:
            text = text[:at]
    return text


@settings(max_examples=200, deadline=None)
@given(document=DOCUMENTS, rendering=RENDERINGS, edits=EDITS, chunk=CHUNKS)
@example(document={"doctors": [{"id": 1}]}, rendering={"indent": 2}, edits=[], chunk=1)
@example(document={"rules": [{}, {}]}, rendering={}, edits=[("insert", 0.5, ",")], chunk=3)
def test_rows_and_problems_are_what_the_whole_document_reader_gave(
    document: Any, rendering: dict[str, Any], edits: list[tuple[str, float, str]], chunk: int
) -> None:
    text = edited(json.dumps(document, **rendering), edits)
    assume(not top_level_keys_repeat(text))

    with window_of(chunk):
        streamed = seen(parse_json("clinic.json", text))

    assert streamed == seen(reference_parse_json("clinic.json", text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\ufeff{}",
        '{"doctors": [{"id": 1},]}',
        '{"doctors": [{"id": 1}],}',
        '{"doctors": [{"id": 1}] "rules": []}',
        '{"doctors" [{"id": 1}]}',
        '{"doctors": [{"id": 1}]}}',
        '{"doctors": [{"id": 1}]} []',
        '{"doctors": [{"id": 1, "name": "Dr. \\x"}]}',
        '{"doctors": [{"id": 1, "name": "Dr. Weber\n"}]}',
        '{"doctors": [{"id": 1, "name": "Dr. Weber',
        '{"doctors": [{"id": 1}',
        '{"doctors": [{"id": 12',
        '{"doctors": [{"id": -',
        '{"doctors": [{"id": tru',
        '[{"id": 1}, ]',
        "[1, 2",
        "nul",
        '"text"',
    ],
)
@pytest.mark.parametrize("chunk", [1, 4, jsonstream.CHUNK])
def test_each_kind_of_broken_json_reads_as_json_loads_reports_it(text: str, chunk: int) -> None:
    with window_of(chunk):
        streamed = seen(parse_json("clinic.json", text))

    assert streamed == seen(reference_parse_json("clinic.json", text))
    assert streamed[1], "every one of these is refused"


# --------------------------------------------------------------------------------------
# What the reader does differently, and what it keeps small


def test_a_table_given_twice_is_a_problem_instead_of_losing_its_first_rows() -> None:
    text = '{\n"doctors": [{"id": 1}],\n"rules": [],\n"doctors": [{"id": 2}]\n}\n'

    parsed = parse_json("clinic.json", text)

    assert [row.values for row in parsed.rows] == [{"id": 1}]
    assert [str(problem) for problem in parsed.problems] == [
        "clinic.json:4: table 'doctors' is given twice (first at clinic.json:2): "
        "put all its rows in one list"
    ]


def test_a_row_longer_than_the_window_is_read_whole() -> None:
    reason = "closed " * 300_000
    text = json.dumps(
        {
            "exceptions": [
                {"facility_id": 1, "start_date": "2027-12-24"},
                {"facility_id": 1, "start_date": "2027-12-25", "reason": reason},
                {"facility_id": 1, "start_date": "2027-12-26"},
            ]
        },
        indent=2,
    )

    rows = parse_json("clinic.json", text).rows

    assert [row.values.get("reason") for row in rows] == [None, reason, None]
    assert [row.where.line for row in rows] == [3, 7, 12]


def test_the_window_holds_about_a_chunk_however_long_the_list() -> None:
    rows = [{"id": n, "name": f"Doctor {n}"} for n in range(1, 5001)]
    text = json.dumps({"doctors": rows}, indent=2)
    held: list[int] = []
    with window_of(256), io.StringIO(text) as stream:
        window = jsonstream.Window(stream)
        for start, _, _ in jsonstream.elements(window, text.index("[")):
            window.line_of(start)
            held.append(len(window.text))

    assert len(held) == 5000
    assert max(held) < 1024 < len(text)


def test_every_pass_reads_the_same_rows_and_only_the_tables_asked_for() -> None:
    text = json.dumps(
        {
            "rules": [{"id": 1}, {"id": 2}],
            "doctors": [{"id": 10}],
            "slots": [{"id": 3}],
            "facilities": [{"id": 7}],
        },
        indent=1,
    )
    opened = 0

    def open_text() -> io.StringIO:
        nonlocal opened
        opened += 1
        return io.StringIO(text)

    source = JsonFile("clinic.json", open_text)

    everything = [(row.table, row.values["id"]) for row in source.rows()]
    assert everything == [
        ("availability_rules", 1),
        ("availability_rules", 2),
        ("doctors", 10),
        ("facilities", 7),
    ]
    assert [(row.table, row.values["id"]) for row in source.rows()] == everything
    id_line = next(n for n, line in enumerate(text.splitlines(), 1) if '"id": 7' in line)
    assert [str(row.where) for row in source.rows("facilities")] == [f"clinic.json:{id_line - 1}"]
    assert [row.values["id"] for row in source.rows("doctors")] == [10]
    assert list(source.rows("services")) == []
    assert opened == 5, "once to validate, once per pass that has rows to read"


def test_key_lines_are_found_only_for_a_row_that_asks() -> None:
    lines: Mapping[str, int] = jsonstream.KeyLines('{\n "id": 1,\n "name": {"id": 2}\n}', 10)

    assert lines.get("name") == 12
    assert dict(lines) == {"id": 11, "name": 12}
    assert lines.get("missing") is None
