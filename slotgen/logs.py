"""Logging for people (stderr, readable) and for log shippers (one JSON object a line).

The process that owns the run (the CLI) calls `configure`; any layer that learns a secret
(the database password, a monitor's URL) calls `hide`, and no log line carries it from
then on. Every logger goes through the one handler, slotgen's and the libraries' alike
(SQLAlchemy's pool, Alembic), so a library's message arrives in the operator's format and
file too, never as a stray traceback on stderr. Tracebacks are written only at `-v`;
otherwise a record that carries one ends with its exception's first line.
"""

import json
import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from slotgen.errors import BadInput, first_line

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LIBRARY_LEVEL = logging.WARNING
"""Libraries speak at warnings and worse: SQLAlchemy at INFO would log every statement."""


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class SecretFilter(logging.Filter):
    """Masks secrets in every record before a formatter sees it, and sums up its exception
    in one masked line (`error_line`) for formatters that leave the traceback out."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.scrub(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.error_line = self.scrub(f"{type(error).__name__}: {first_line(error)}")
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


def _without_traceback(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of the record that ends with its exception's first line instead."""
    line = getattr(record, "error_line", None)
    if not record.exc_info and not record.exc_text:
        return record
    copy = logging.makeLogRecord(record.__dict__)
    copy.exc_info, copy.exc_text, copy.stack_info = None, None, None
    if line:
        copy.msg = f"{copy.msg} ({line}; -v for the traceback)"
    return copy


class TextFormatter(logging.Formatter):
    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__(TEXT_FORMAT)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record if self.tracebacks else _without_traceback(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, *, tracebacks: bool = True) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if error_line := getattr(record, "error_line", None):
            entry["error"] = error_line
        if self.tracebacks and (record.exc_text or record.exc_info):
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry)


class SlotgenHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler every logger writes through; its filter holds the secrets."""

    def __init__(self, stream: Any, *, owns_stream: bool = False) -> None:
        super().__init__(stream)
        self.owns_stream = owns_stream
        self.secrets = SecretFilter()
        self.addFilter(self.secrets)

    def emit(self, record: logging.LogRecord) -> None:
        """Without a log file, write to whatever stderr is now: a caller that swapped it
        (a test runner, an embedding program) and closed the old one still gets the line."""
        if not self.owns_stream:
            self.stream = sys.stderr
        super().emit(record)

    def close(self) -> None:
        """A log file is the handler's own to close; stderr is not."""
        try:
            if self.owns_stream:
                self.stream.close()
        finally:
            super().close()


def hide(secrets: tuple[str, ...]) -> None:
    """Mask these values in every log line from now on."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, SlotgenHandler):
            handler.secrets.secrets.update(secrets)


def open_log_file(path: Path) -> Any:
    """Append to `path`, created readable by its owner alone (logs carry hostnames,
    errors and ids) whatever the umask; a folder that does not exist is bad input."""
    if not path.parent.is_dir():
        raise BadInput(f"--log-file: the folder {path.parent} does not exist; create it first")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise BadInput(f"--log-file: cannot write {path}: {exc.strerror}") from None
    return open(descriptor, "a", encoding="utf-8")


def configure(verbosity: int, log_format: LogFormat, log_file: Path | None) -> None:
    """Route every logger: slotgen's at INFO by default, -v for DEBUG (and tracebacks),
    -q for warnings only; the libraries' at warnings."""
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    tracebacks = verbosity > 0
    stream = open_log_file(log_file) if log_file else sys.stderr
    handler = SlotgenHandler(stream, owns_stream=log_file is not None)
    handler.setFormatter(
        JsonFormatter(tracebacks=tracebacks)
        if log_format is LogFormat.JSON
        else TextFormatter(tracebacks=tracebacks)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, SlotgenHandler):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(LIBRARY_LEVEL)
    slotgen = logging.getLogger("slotgen")
    for old in list(slotgen.handlers):
        slotgen.removeHandler(old)
    slotgen.setLevel(level)
    slotgen.propagate = True
