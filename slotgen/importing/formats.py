"""Reading TOML, JSON and CSV schedule files into rows, with the line of every row.

TOML and JSON carry no positions after parsing, so row and key lines are recovered by
scanning the text; when that fails (a TOML inline array, say) the row is named by its
index instead, `FILE:rules[3]`.

JSON and CSV files can be large (a whole network's rules exported by a script), so their
rows are read lazily, one at a time, each time the checks or the writer ask: a reader
holds a way to open the text again (`OpenText`), never the rows. TOML files are written
by hand and small; they are parsed whole with `tomllib`.
"""

import csv
import io
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from typing import Any, TextIO

from slotgen.core.model import RULES_TABLE
from slotgen.importing.columns import TABLE_NAMES, TABLES, column_problem
from slotgen.importing.jsonstream import JsonError, KeyLines, Member, Window, elements, members
from slotgen.importing.rows import Parsed, Problem, RowList, RowSource, SourceRow, Where

OpenText = Callable[[], TextIO]
"""Opens the file's text afresh, from its beginning: the lazy readers read it more than once."""

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_TOML_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*\]\]")
_TOML_HEADER = re.compile(r"^\s*\[")
_TOML_MULTILINE_QUOTES = ('"""', "'''")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")


def open_file(name: str, open_text: OpenText) -> tuple[RowSource, list[Problem]]:
    """One file by its extension: its rows, and the problems found just reading it.

    The file is read through once here, so a file that cannot be read is refused before
    any row is checked; its rows are read again whenever they are asked for.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix == ".toml":
        with open_text() as stream:
            parsed = parse_toml(name, stream.read())
        return RowList(parsed.rows), parsed.problems
    if suffix == ".json":
        json_file = JsonFile(name, open_text)
        return json_file, json_file.problems
    if suffix == ".csv":
        csv_file = CsvFile(name, open_text)
        return csv_file, csv_file.problems
    return RowList(()), [Problem(Where(name), "unknown file type: use .toml, .json or .csv")]


def parse_file(name: str, text: str) -> Parsed:
    """Read one file by its extension: .toml and .json hold any tables, .csv one table."""
    return _parsed(*open_file(name, _opener(text)))


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
    json_file = JsonFile(name, _opener(text))
    return _parsed(json_file, json_file.problems)


def parse_csv(name: str, text: str) -> Parsed:
    """One table per file, named by the file (doctors.csv); empty cells are left out and
    the others read without the spaces around them."""
    csv_file = CsvFile(name, _opener(text))
    return _parsed(csv_file, csv_file.problems)


def _opener(text: str) -> OpenText:
    # newline="": the text is read as given, line ends and all
    return lambda: io.StringIO(text, newline="")


def _parsed(source: RowSource, problems: list[Problem]) -> Parsed:
    return Parsed(list(source.rows()), problems)


class JsonFile:
    """A JSON object of tables, each a list of row objects, read one row at a time.

    Reading it through once (here) finds every problem `json.loads` and the checks of
    the tables' shape would, and where each table's list begins; `rows` then goes
    straight to the lists it needs.
    """

    def __init__(self, name: str, open_text: OpenText) -> None:
        self.name = name
        self._open = open_text
        self.problems: list[Problem] = []
        self._tables: list[tuple[str, Member]] = []
        with open_text() as stream:
            window = Window(stream)
            try:
                found = members(window)
            except JsonError as exc:
                where = Where(name, window.line_of(exc.position))
                self.problems.append(Problem(where, f"not valid JSON: {exc.message}"))
                return
        if found is None:
            self.problems.append(Problem(Where(name, 1), "expected an object of tables"))
            return
        first: dict[str, Member] = {}
        for member in found:
            key = member.key
            key_where = Where(name, member.first_row_line, key)
            table = TABLE_NAMES.get(key)
            if key in first:
                # json.loads would keep the last list and silently drop the first
                self.problems.append(
                    Problem(
                        Where(name, member.key_line),
                        f"table {key!r} is given twice (first at "
                        f"{Where(name, first[key].key_line)}): put all its rows in one list",
                    )
                )
            elif table is None:
                self.problems.append(
                    Problem(key_where, f"unknown table {key!r}: use {', '.join(TABLE_NAMES)}")
                )
            elif not member.rows:
                self.problems.append(Problem(key_where, f"{key} must be a list of rows (tables)"))
            else:
                self._tables.append((table, member))
            first.setdefault(key, member)

    def rows(self, table: str | None = None) -> Iterator[SourceRow]:
        wanted = [(name, member) for name, member in self._tables if table in (None, name)]
        if not wanted:
            return
        with self._open() as stream:
            window = Window(stream)
            for name, member in wanted:
                window.skip_to(member.start, member.start_line)
                for index, (start, values, end) in enumerate(elements(window, member.start)):
                    line = window.line_of(start)
                    text = window.text[start - window.base : end - window.base]
                    where = Where(self.name, line, f"{member.key}[{index}]")
                    yield SourceRow(name, where, values, KeyLines(text, line))


class CsvFile:
    """One table per file, named by the file (doctors.csv); empty cells are left out and
    the others read without the spaces around them.

    `csv.reader` reads a line at a time, so the file is simply read again for each pass.
    """

    def __init__(self, name: str, open_text: OpenText) -> None:
        self.name = name
        self._open = open_text
        self.table = TABLE_NAMES.get(PurePath(name).stem.lower())
        self.problems = [event for event in self._read(rows=False) if isinstance(event, Problem)]

    def rows(self, table: str | None = None) -> Iterator[SourceRow]:
        if table in (None, self.table):
            for event in self._read():
                if isinstance(event, SourceRow):
                    yield event

    def _read(self, rows: bool = True) -> Iterator[SourceRow | Problem]:
        """The problems of the file and (unless not `rows`) its rows, in file order."""
        name, table = self.name, self.table
        if table is None:
            yield Problem(
                Where(name, 1),
                f"cannot tell the table from the file name: name it after one of "
                f"{', '.join(TABLES)} (e.g. {RULES_TABLE}.csv)",
            )
            return
        with self._open() as stream:
            # strict: a quote that is never closed is an error, not a cell that swallows
            # every row after it
            reader = csv.reader(_without_bom(stream), strict=True)
            last = 0
            try:
                header = [cell.strip() for cell in next(reader, [])]
                header_where = Where(name, reader.line_num or 1)
                for column in header:
                    if problem := column_problem(table, column):
                        yield Problem(header_where, problem)
                known = {column for column in header if column_problem(table, column) is None}
                last = reader.line_num
                for cells in reader:
                    where = Where(name, last + 1)
                    last = reader.line_num
                    if not any(cell.strip() for cell in cells):
                        continue
                    if len(cells) > len(header):
                        yield Problem(
                            where, f"{len(cells)} cells but the header names {len(header)}"
                        )
                        continue
                    if not rows:
                        continue
                    values = {  # "North, Europe/Berlin" as typed by hand: no cell is padded
                        column: cell.strip()
                        for column, cell in zip(header, cells, strict=False)
                        if column in known and cell.strip()
                    }
                    yield SourceRow(table, where, values)
            except csv.Error as exc:
                # Reported where the row that cannot be read begins: that is where its
                # quote opened.
                yield Problem(Where(name, last + 1), f"not valid CSV: {exc}")


def _without_bom(stream: TextIO) -> Iterator[str]:
    """The lines of `stream`, without a UTF-8 byte order mark (a spreadsheet export has one)."""
    first = stream.readline()
    if first:
        yield first.removeprefix("\ufeff")
    yield from stream


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
