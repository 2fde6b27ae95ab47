"""Reading TOML, JSON and CSV schedule files into rows, with the line of every row.

TOML and JSON carry no positions after parsing, so row and key lines are recovered by
scanning the text; when that fails (a TOML inline array, say) the row is named by its
index instead, `FILE:rules[3]`.
"""

import csv
import io
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from slotgen.core.model import RULES_TABLE
from slotgen.importing.columns import TABLE_NAMES, TABLES, column_problem
from slotgen.importing.rows import Parsed, Problem, SourceRow, Where

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_TOML_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*\]\]")
_TOML_HEADER = re.compile(r"^\s*\[")
_TOML_MULTILINE_QUOTES = ('"""', "'''")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")


def parse_file(name: str, text: str) -> Parsed:
    """Read one file by its extension: .toml and .json hold any tables, .csv one table."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".toml":
        return parse_toml(name, text)
    if suffix == ".json":
        return parse_json(name, text)
    if suffix == ".csv":
        return parse_csv(name, text)
    return Parsed(problems=[Problem(Where(name), "unknown file type: use .toml, .json or .csv")])


def parse_toml(name: str, text: str) -> Parsed:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        message = _TOML_LINE.sub("", str(exc)).strip()
        line = int(match[1]) if match else len(text.splitlines()) or 1
        return Parsed(problems=[Problem(Where(name, line), f"not valid TOML: {message}")])
    return _tables(name, document, _toml_lines(text))


def parse_json(name: str, text: str) -> Parsed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return Parsed(problems=[Problem(Where(name, exc.lineno), f"not valid JSON: {exc.msg}")])
    if not isinstance(document, dict):
        return Parsed(problems=[Problem(Where(name, 1), "expected an object of tables")])
    return _tables(name, document, _json_lines(text))


def parse_csv(name: str, text: str) -> Parsed:
    """One table per file, named by the file (doctors.csv); empty cells are left out."""
    table = TABLE_NAMES.get(PurePath(name).stem.lower())
    if table is None:
        return Parsed(
            problems=[
                Problem(
                    Where(name, 1),
                    f"cannot tell the table from the file name: name it after one of "
                    f"{', '.join(TABLES)} (e.g. {RULES_TABLE}.csv)",
                )
            ]
        )
    parsed = Parsed()
    # strict: a quote that is never closed is an error, not a cell that swallows every
    # row after it
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    last = 0
    try:
        header = [cell.strip() for cell in next(reader, [])]
        header_where = Where(name, reader.line_num or 1)
        for column in header:
            if problem := column_problem(table, column):
                parsed.problems.append(Problem(header_where, problem))
        known = {column for column in header if column_problem(table, column) is None}
        last = reader.line_num
        for cells in reader:
            where = Where(name, last + 1)
            last = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                parsed.problems.append(
                    Problem(where, f"{len(cells)} cells but the header names {len(header)}")
                )
                continue
            values = {
                column: cell
                for column, cell in zip(header, cells, strict=False)
                if column in known and cell.strip()
            }
            parsed.rows.append(SourceRow(table, where, values))
    except csv.Error as exc:
        # Reported where the row that cannot be read begins: that is where its quote opened.
        parsed.problems.append(Problem(Where(name, last + 1), f"not valid CSV: {exc}"))
    return parsed


RowLines = dict[str, list[tuple[int, dict[str, int]]]]
"""Per top-level key, each row's first line and the line of each of its keys."""


def _tables(name: str, document: Mapping[str, Any], lines: RowLines) -> Parsed:
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


def _toml_lines(text: str) -> RowLines:
    """Where each [[table]] row and its keys are, found by a line scan of the text.

    The lines inside a multi-line string are its value, not keys or headers.
    """
    found: RowLines = {}
    current: dict[str, int] | None = None
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        inside = open_quote is not None
        for quote in _TOML_MULTILINE_QUOTES:
            if open_quote in (None, quote) and line.count(quote) % 2:
                open_quote = None if open_quote else quote
        if inside:
            continue
        if header := _TOML_ARRAY_HEADER.match(line):
            current = {}
            found.setdefault(header[1].strip('"'), []).append((number, current))
        elif _TOML_HEADER.match(line):
            current = None
        elif current is not None and (key := _TOML_KEY.match(line)):
            current.setdefault(key[1].strip('"'), number)
    return found


def _json_lines(text: str) -> RowLines:
    """Where each row object of {"table": [{...}, ...]} and its keys are.

    A small scanner over the JSON text (already known to be valid): strings are skipped
    whole, and only the nesting object > array > object is of interest.
    """
    found: RowLines = {}
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
        if char != '"':
            last_string = None if char not in " \t\r\n:" else last_string
        position += 1
    return found
