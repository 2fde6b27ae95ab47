"""The errors slotgen turns into one-line messages, and the exit codes they map to.

Cron mails any non-zero exit, and monitoring reads the code, so each kind of failure
has its own documented number (see the README's "Exit codes").
"""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    """The job ran and failed, or finished but skipped bad rows."""
    BAD_INPUT = 2
    """The command line or the input file was wrong; nothing was written. Never retried."""
    UNAVAILABLE = 3
    """The database could not be reached or its schema is not at the expected revision."""


class SlotgenError(Exception):
    """An error the operator can fix; its message is shown as one line, without traceback."""

    exit_code: ExitCode = ExitCode.FAILED


class BadInput(SlotgenError):
    exit_code = ExitCode.BAD_INPUT


class DatabaseUnavailable(SlotgenError):
    exit_code = ExitCode.UNAVAILABLE


class SchemaOutOfDate(SlotgenError):
    exit_code = ExitCode.UNAVAILABLE
