"""Reading a JSON schedule one row at a time, with the line of every row and key.

`json.loads` of a large schedule builds every row as Python objects at once (a 63 MB file
took 1.37 GB), so the two levels a schedule has, the object of tables and each table's
list of rows, are scanned here, and each row is decoded on its own by the standard
library's decoder (`raw_decode`) from a window of about a megabyte of text. The file is
read twice before anything is checked: once to validate all of it (a file that does not
parse gives one problem and no rows, as `json.loads` would) and to note where each table's
rows begin; then once per pass of the checks and the writer.

Where the text is not valid JSON, the message and position are the decoder's own: the
part of the document from the last good point on is decoded again behind a prefix that
puts the decoder in the same state (`[0` is "inside a list, after an element"). So every
error reads exactly as `json.loads` reports it, on every Python version, without this
module repeating the decoder's rules.
"""

import json
import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

CHUNK = 1 << 20
"""Characters read at a time."""
LOOKAHEAD = 1 << 16
"""Text kept ahead of a row before decoding it, so a typical row decodes at the first try."""
MARGIN = 64
"""A decode that ends or fails this close to the end of the window is retried with more
text: a number or a literal cut by the window's edge still decodes, but as another value."""

BOM_MESSAGE = "Unexpected UTF-8 BOM (decode using utf-8-sig)"
"""What `json.loads` says of a text that starts with a byte order mark."""

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
"""JSON's whitespace, exactly as the decoder skips it."""
_BLANKS = frozenset(" \t\n\r")
_IN_OBJECT, _AFTER_MEMBER = "{", '{"":0'
_IN_LIST, _AFTER_ELEMENT = "[", "[0"


class JsonError(Exception):
    """The text is not valid JSON: the decoder's message, at an absolute position."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _Invalid(Exception):
    """Not valid here; `_Window.error_from` asks the decoder what exactly is wrong."""


class Window:
    """A sliding view of a text stream, addressed by absolute character positions.

    Only the text from the oldest position still needed is kept (see `release`), so a file
    of any size is read with a buffer of about `CHUNK`; a longer row grows it for itself.
    Lines are counted incrementally between the positions asked about.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.text = ""
        self.base = 0
        """The absolute position of `text[0]`."""
        self.eof = False
        self._mark = 0
        self._mark_line = 1

    @property
    def end(self) -> int:
        return self.base + len(self.text)

    def more(self) -> bool:
        """Read another chunk onto the window; False at the end of the stream."""
        if self.eof:
            return False
        chunk = self._stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.text += chunk
        return True

    def fill(self, until: int) -> None:
        while self.end < until and self.more():
            pass

    def char(self, position: int) -> str:
        """The character at `position`, or "" past the end of the text."""
        self.fill(position + 1)
        index = position - self.base
        return self.text[index : index + 1]

    def skip_whitespace(self, position: int) -> int:
        if self.char(position) not in _BLANKS:
            return position
        while True:
            self.fill(position + 1)
            match = _WHITESPACE.match(self.text, position - self.base)
            assert match is not None  # the pattern matches the empty string
            position = self.base + match.end()
            if position < self.end or not self.more():
                return position

    def line_of(self, position: int) -> int:
        """The 1-based line of `position`: not before text already released."""
        start, stop = sorted((self._mark - self.base, position - self.base))
        newlines = self.text.count("\n", start, stop)
        self._mark_line += newlines if position >= self._mark else -newlines
        self._mark = position
        return self._mark_line

    def release(self, position: int) -> None:
        """Nothing before `position` is needed again: no line, no error is asked for there.

        The line count is carried forward to `position` first, so it never needs the text
        that is let go.
        """
        if position > self._mark:
            self.line_of(position)
        keep = min(position, self._mark)
        if keep - self.base >= CHUNK:
            self.text = self.text[keep - self.base :]
            self.base = keep

    def skip_to(self, position: int, line: int) -> None:
        """Jump ahead to `position`, known to be on `line`, without keeping the text between."""
        while self.end <= position and not self.eof:
            self.base, self.text = self.end, ""
            self.more()
        index = max(position - self.base, 0)
        self.text, self.base = self.text[index:], self.base + index
        self._mark, self._mark_line = position, line

    def decode(self, position: int) -> tuple[Any, int]:
        """The JSON value at `position` and the position after it; `_Invalid` if none."""
        self.fill(position + LOOKAHEAD)
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, position - self.base)
            except json.JSONDecodeError as exc:
                if _maybe_cut(exc, len(self.text)) and self.more():
                    continue
                raise _Invalid from None
            if end + MARGIN <= len(self.text) or not self.more():
                return value, self.base + end

    def error_from(self, resume: int, prefix: str) -> JsonError:
        """The decoder's own error for the text from `resume`, a point the scan got to.

        `prefix` puts the decoder in the state the scan was in at `resume`; the decoder
        then reads on from there to the same error `json.loads` finds.
        """
        while True:
            decoded = prefix + self.text[resume - self.base :]
            try:
                _DECODER.raw_decode(decoded)
            except json.JSONDecodeError as exc:
                if _maybe_cut(exc, len(decoded)) and self.more():
                    continue
                return JsonError(exc.msg, resume + exc.pos - len(prefix))
            if not self.more():
                raise AssertionError(f"the JSON scan and the decoder disagree at {resume}")


def _maybe_cut(exc: json.JSONDecodeError, length: int) -> bool:
    """Could more text make this error go away? Only if the decoder got near the end."""
    return exc.msg.startswith("Unterminated string") or exc.pos + MARGIN > length


def elements(window: Window, opening: int) -> Generator[tuple[int, Any, int], None, int]:
    """Each element of the list whose `[` is at `opening`: (start, value, end).

    Returns the position after the closing `]`.
    """
    resume, prefix = opening + 1, _IN_LIST
    try:
        position = window.skip_whitespace(opening + 1)
        if window.char(position) == "]":
            return position + 1
        while True:
            window.release(resume)
            value, end = window.decode(position)
            yield position, value, end
            resume, prefix = end, _AFTER_ELEMENT
            position = window.skip_whitespace(end)
            char = window.char(position)
            if char == "]":
                return position + 1
            if char != ",":
                raise _Invalid
            position = window.skip_whitespace(position + 1)
    except _Invalid:
        raise window.error_from(resume, prefix) from None


@dataclass(slots=True)
class Member:
    """One `"key": value` of the object of tables, and where it is."""

    key: str
    key_line: int
    start: int
    """Where the value begins: the rows of a list are read again from here."""
    start_line: int
    rows: bool
    """The value is a list of objects: rows."""
    first_row_line: int | None
    """The line of its first object, where problems about the key are reported."""


def members(window: Window) -> list[Member] | None:
    """Every member of the document's object, in order; None if the document is another value.

    Raises `JsonError` where the text is not valid JSON, as `json.loads` would.
    """
    if window.char(0) == "\ufeff":
        raise JsonError(BOM_MESSAGE, 0)
    position = window.skip_whitespace(0)
    if window.char(position) != "{":
        _expect_end(window, _skip_value(window, position))
        return None
    found: list[Member] = []
    resume, prefix = position + 1, _IN_OBJECT
    try:
        position = window.skip_whitespace(position + 1)
        if window.char(position) == "}":
            _expect_end(window, position + 1)
            return found
        while True:
            if window.char(position) != '"':
                raise _Invalid
            window.release(resume)
            key_line = window.line_of(position)
            key, position = window.decode(position)
            position = window.skip_whitespace(position)
            if window.char(position) != ":":
                raise _Invalid
            position = window.skip_whitespace(position + 1)
            member = Member(key, key_line, position, window.line_of(position), False, None)
            if window.char(position) == "[":
                member.rows = True
                listed = elements(window, position)
                while True:
                    try:
                        start, value, _ = next(listed)
                    except StopIteration as done:
                        position = done.value
                        break
                    if not isinstance(value, dict):
                        member.rows = False
                    elif member.first_row_line is None:
                        member.first_row_line = window.line_of(start)
            else:
                _, position = window.decode(position)
            found.append(member)
            resume, prefix = position, _AFTER_MEMBER
            position = window.skip_whitespace(position)
            char = window.char(position)
            if char == "}":
                break
            if char != ",":
                raise _Invalid
            position = window.skip_whitespace(position + 1)
    except _Invalid:
        raise window.error_from(resume, prefix) from None
    _expect_end(window, position + 1)
    return found


def _skip_value(window: Window, position: int) -> int:
    """Validate a document that is not an object (a list is read an element at a time)."""
    if window.char(position) == "[":
        listed = elements(window, position)
        while True:
            try:
                next(listed)
            except StopIteration as done:
                end: int = done.value
                return end
    try:
        return window.decode(position)[1]
    except _Invalid:
        raise window.error_from(position, "") from None


def _expect_end(window: Window, position: int) -> None:
    position = window.skip_whitespace(position)
    if window.char(position):
        raise JsonError("Extra data", position)


class KeyLines(Mapping[str, int]):
    """The line of each key of one row object, found only when a problem asks for one.

    Most rows have no problem, so their text is scanned by the decoder alone; the scan
    for positions runs over a row's own text, kept until then.
    """

    __slots__ = ("_found", "_line", "_text")

    def __init__(self, text: str, line: int) -> None:
        self._text = text
        self._line = line
        self._found: dict[str, int] | None = None

    def _lines(self) -> dict[str, int]:
        if self._found is None:
            self._found = key_lines(self._text, self._line)
            self._text = ""
        return self._found

    def __getitem__(self, key: str) -> int:
        return self._lines()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines())

    def __len__(self) -> int:
        return len(self._lines())


def key_lines(text: str, line: int) -> dict[str, int]:
    """The line of the first occurrence of each key of the object `text`, starting on `line`.

    A key's line is the line of its colon. Strings are skipped whole, so a look-alike
    inside a value is not a key, and only the row's own keys count, not nested ones.
    """
    found: dict[str, int] = {}
    depth = 0
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
            if depth == 1:
                found.setdefault(last_string, line)
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        if char != '"':
            last_string = None if char not in " \t\r\n:" else last_string
        position += 1
    return found
