"""Every log line goes out in the operator's format, at the operator's level, secrets masked,
libraries' lines included; tracebacks only at -v."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from slotgen.logs import LogFormat, SlotgenHandler, configure, hide


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "slotgen.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, SlotgenHandler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)


def pool_error(secret: str = "") -> None:
    """What SQLAlchemy's pool logs when a MariaDB connection dies during a reset."""
    try:
        raise ConnectionError(f"(2013, 'Lost connection to server during query') {secret}")
    except ConnectionError:
        logging.getLogger("sqlalchemy.pool.impl.QueuePool").error(
            "Exception during reset or similar", exc_info=True
        )


def test_a_librarys_traceback_is_one_line_at_the_default_level(log_file: Path) -> None:
    configure(0, LogFormat.TEXT, log_file)
    pool_error()

    (line,) = log_file.read_text().splitlines()
    assert "ERROR sqlalchemy.pool.impl.QueuePool: Exception during reset or similar" in line
    assert line.endswith(
        "(ConnectionError: (2013, 'Lost connection to server during query'); -v for the traceback)"
    )


def test_at_verbose_the_traceback_is_written(log_file: Path) -> None:
    configure(1, LogFormat.TEXT, log_file)
    pool_error()

    written = log_file.read_text()
    assert "Traceback (most recent call last)" in written
    assert "ConnectionError: (2013" in written


def test_json_logs_stay_one_object_a_line_with_the_error_in_a_field(log_file: Path) -> None:
    configure(0, LogFormat.JSON, log_file)
    pool_error()
    logging.getLogger("slotgen.runner").info("Run 1: release started")

    first, second = (json.loads(line) for line in log_file.read_text().splitlines())
    assert first["logger"] == "sqlalchemy.pool.impl.QueuePool"
    assert first["error"].startswith("ConnectionError: (2013")
    assert "exception" not in first
    assert second["message"] == "Run 1: release started"


def test_quiet_keeps_warnings_and_libraries_never_log_below_warnings(log_file: Path) -> None:
    configure(-1, LogFormat.TEXT, log_file)
    logging.getLogger("slotgen.generate").info("Created 3 slots for rule ID 1")
    logging.getLogger("slotgen.generate").warning("Skipped availability_rules id 4")
    configure(0, LogFormat.TEXT, log_file)
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")

    (line,) = log_file.read_text().splitlines()
    assert line.endswith("Skipped availability_rules id 4")


def test_secrets_are_masked_in_library_lines_too(log_file: Path) -> None:
    configure(1, LogFormat.TEXT, log_file)
    hide(("Sesame-7f3c91",))
    pool_error("password=Sesame-7f3c91")

    written = log_file.read_text()
    assert "Sesame-7f3c91" not in written
    assert "password=***" in written
