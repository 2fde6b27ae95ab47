"""Schedule files as people write them, checked row by row before anything is written.

A schedule file is edited by hand, so every problem is reported where the person will
look for it, `FILE:LINE: message`, and all of them at once: a fix-one-rerun loop over a
hundred rows is how imports get abandoned half done. TOML and JSON carry no positions
after parsing, so row and key lines are recovered by scanning the text; when that fails
(a TOML inline array, say) the row is named by its index instead, `FILE:rules[3]`.

Every row describes the whole database row: a column left out takes the contract's
default (NULL, `'UTC'`, 0, true, `'blocked'`), also when the row updates an existing id,
so importing the same file twice leaves the same rows.
"""

import csv
import io
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from slotgen.core.dates import UnknownZoneError, load_zone
from slotgen.core.model import EXCEPTIONS_TABLE, RULES_TABLE, AvailabilityException, Rule
from slotgen.core.validate import exception_problem, rule_problem

FACILITIES = "facilities"
DOCTORS = "doctors"
SERVICES = "services"
TABLES = (FACILITIES, DOCTORS, SERVICES, RULES_TABLE, EXCEPTIONS_TABLE)
"""In the order they are written: a row is written after the rows it references."""

TABLE_NAMES = {
    **{name: name for name in TABLES},
    "rules": RULES_TABLE,
    "exceptions": EXCEPTIONS_TABLE,
}
"""Names a file may use for a table: the contract's, or the two short ones."""

SET_BY_DATABASE = frozenset({"created_at", "updated_at"})
INT_MAX = 2**31 - 1

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_WEEKDAY_NUMBERS = {
    **{name: number for number, name in enumerate(WEEKDAYS)},
    **{name[:3]: number for number, name in enumerate(WEEKDAYS)},
}
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_TOML_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*\]\]")
_TOML_HEADER = re.compile(r"^\s*\[")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")


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


@dataclass(slots=True)
class Parsed:
    rows: list[SourceRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class Checked:
    rows: list[CleanRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


Coerce = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    coerce: Coerce
    required: bool = False
    default: Any = None
    references: str | None = None


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be a whole number, got {value!r}")
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise ValueError(f"must be a whole number, got {value!r}") from None
    if not -INT_MAX <= number <= INT_MAX:
        raise ValueError(f"{number} is out of range")
    return number


def _positive(value: Any) -> int:
    number = _integer(value)
    if number < 1:
        raise ValueError(f"must be 1 or more, got {number}")
    return number


def _text(max_length: int | None) -> Coerce:
    def coerce(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be text, got {value!r}")
        if max_length is not None and len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return coerce


def _zone(value: Any) -> str:
    name: str = _text(64)(value)
    try:
        load_zone(name)
    except UnknownZoneError as exc:
        raise ValueError(f"{exc}: use an IANA name such as Europe/Berlin") from None
    return name


def weekday(value: Any) -> int:
    """0 = Sunday ... 6 = Saturday, the contract's numbering, or a day's name in any case."""
    if isinstance(value, str) and value.strip().lower() in _WEEKDAY_NUMBERS:
        return _WEEKDAY_NUMBERS[value.strip().lower()]
    try:
        number = _integer(value)
    except ValueError:
        raise ValueError(
            f"unknown weekday {value!r}: use a name (monday, mon) or 0 (Sunday) to 6 (Saturday)"
        ) from None
    if not 0 <= number <= 6:
        raise ValueError(f"weekday {number} is not 0 (Sunday) to 6 (Saturday)")
    return number


def _time(value: Any) -> time:
    if isinstance(value, time):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"must be a time HH:MM, got {value!r}") from None
    else:
        raise ValueError(f"must be a time HH:MM, got {value!r}")
    if parsed.tzinfo is not None:
        raise ValueError("must be a wall-clock time without an offset (the facility's zone)")
    return parsed


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str | int) else None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"must be true or false, got {value!r}")


COLUMNS: dict[str, tuple[Column, ...]] = {
    FACILITIES: (
        Column("name", _text(200), required=True),
        Column("timezone", _zone, default="UTC"),
    ),
    DOCTORS: (Column("name", _text(200), required=True),),
    SERVICES: (
        Column("name", _text(200), required=True),
        Column("duration_minutes", _positive),
    ),
    RULES_TABLE: (
        Column("facility_id", _integer, required=True, references=FACILITIES),
        Column("doctor_id", _integer, required=True, references=DOCTORS),
        Column("service_id", _integer, references=SERVICES),
        Column("day_of_week", weekday, required=True),
        Column("start_time", _time, required=True),
        Column("end_time", _time, required=True),
        Column("slot_duration_minutes", _integer, required=True),
        Column("buffer_minutes", _integer, default=0),
        Column("valid_from", _date),
        Column("valid_until", _date),
        Column("is_active", _boolean, default=True),
    ),
    EXCEPTIONS_TABLE: (
        Column("facility_id", _integer, required=True, references=FACILITIES),
        Column("doctor_id", _integer, references=DOCTORS),
        Column("start_date", _date, required=True),
        Column("end_date", _date),
        Column("start_time", _time),
        Column("end_time", _time),
        Column("type", _text(32), default="blocked"),
        Column("reason", _text(None)),
    ),
}
"""Each table's columns besides id: the contract's names, types and defaults."""


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
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [cell.strip() for cell in next(reader, [])]
        header_where = Where(name, reader.line_num or 1)
        for column in header:
            if problem := _column_problem(table, column):
                parsed.problems.append(Problem(header_where, problem))
        known = {column for column in header if _column_problem(table, column) is None}
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
        parsed.problems.append(Problem(Where(name, reader.line_num or 1), f"not valid CSV: {exc}"))
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
    """Where each [[table]] row and its keys are, found by a line scan of the text."""
    found: RowLines = {}
    current: dict[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
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


def _column_problem(table: str, column: str) -> str | None:
    if column == "id" or any(c.name == column for c in COLUMNS[table]):
        return None
    if column in SET_BY_DATABASE:
        return f"{column} is set by the database: leave it out"
    names = ", ".join(["id", *(c.name for c in COLUMNS[table])])
    return f"unknown column {column!r} in {table}: use {names}"


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _clean(row: SourceRow, problems: list[Problem]) -> tuple[int | None, CleanRow]:
    """The row's id, and the row with each value typed that could be; adds the problems.

    An unusable row still comes back, with only its good values, so its id and references
    are still checked: every problem is reported at once, and one bad value does not
    cause a cascade of messages about others.
    """
    for name in row.values:
        if problem := _column_problem(row.table, name):
            problems.append(Problem(row.where.at(row.lines.get(name)), problem))
    row_id: int | None = None
    if _given(row.values.get("id")):
        try:
            row_id = _positive(row.values["id"])
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
