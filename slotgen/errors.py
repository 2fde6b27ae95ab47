"""The errors slotgen turns into one-line messages, and the exit codes they map to.

Cron mails any non-zero exit, and monitoring reads the code, so each kind of failure
has its own documented number (see the README's "Exit codes"). Standard library only:
every layer raises these.
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

    exit_code: int = ExitCode.FAILED


class BadInput(SlotgenError):
    exit_code = ExitCode.BAD_INPUT


class DatabaseUnavailable(SlotgenError):
    """The database could not be reached, or went away in the middle of the work."""

    exit_code = ExitCode.UNAVAILABLE


class SchemaOutOfDate(SlotgenError):
    exit_code = ExitCode.UNAVAILABLE


class LockLost(DatabaseUnavailable):
    """The connection holding the job's lock went away: another run may now start, so this
    one stops rather than work alongside it."""


class RunTakenOver(SlotgenError):
    """Another run marked this one abandoned (its heartbeat was late) and took the job: this
    one stops, and the other run's verdict stands."""


class Interrupted(SlotgenError):
    """A signal asked the run to stop (Ctrl-C, systemd, Kubernetes): it stops at the next
    chunk and exits 128 + the signal's number, as shells and supervisors expect."""

    def __init__(self, signal_number: int, signal_name: str, *, at_once: bool = False) -> None:
        how = (
            "at once by a second signal; the chunk in flight was rolled back"
            if at_once
            else "after the chunk in flight"
        )
        super().__init__(f"interrupted by {signal_name}: stopped {how}")
        self.exit_code = 128 + signal_number
        self.signal_name = signal_name


def first_line(error: BaseException | str | None) -> str:
    """The first line of an error's message: what fits a log line, a table cell or a row.

    A database driver's error comes wrapped (SQLAlchemy keeps it as `orig`, with the SQL
    and its parameters in its own message); the driver's own words are what people need.
    """
    if isinstance(error, BaseException):
        cause = getattr(error, "orig", None)
        error = cause if isinstance(cause, BaseException) else error
        lines = str(error).strip().splitlines()
        return lines[0] if lines else type(error).__name__
    lines = (error or "").strip().splitlines()
    return lines[0] if lines else ""
