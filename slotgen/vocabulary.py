"""The words of slotgen's domain, each written once: slot statuses, run statuses, triggers,
jobs, and where an exception came from.

Everything that reads or writes one of these words imports it from here, so a status
means the same thing in generate, release, the views, the dashboard and the database's
CHECK constraints (the migrations freeze the lists they were written with). Standard
library only: every layer may import this module.
"""

from enum import StrEnum


class SlotStatus(StrEnum):
    """The statuses slotgen knows by name; the web app may store others, which are taken."""

    OPEN = "open"
    RESERVED = "reserved"
    BOOKED = "booked"


OTHER = "other"
"""The bucket of every status the web app uses that slotgen does not know by name."""

SLOT_BUCKETS: tuple[str, ...] = (*SlotStatus, OTHER)
"""What views count slots by, in the order they show them."""

_KNOWN = frozenset(SlotStatus)


def is_taken(status: str) -> bool:
    """Any status but open is taken: a patient holds the slot, so slotgen never changes it."""
    return status != SlotStatus.OPEN


def slot_bucket(status: str) -> str:
    """The column a view counts a slot in: its own status, or OTHER for words slotgen does
    not know (such a slot is still taken)."""
    return status if status in _KNOWN else OTHER


class RunStatus(StrEnum):
    """A `job_runs` row's status: running until the attempt records how it ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Another run of the job was at work, or a retry was no longer needed: no work done."""
    ABANDONED = "abandoned"
    """The run died without recording an outcome; the next run of the job marked it."""
    INTERRUPTED = "interrupted"
    """Stopped by SIGINT or SIGTERM (Ctrl-C, systemd, Kubernetes) at a chunk boundary."""


FAILURES = frozenset({RunStatus.FAILED, RunStatus.ABANDONED, RunStatus.INTERRUPTED})
"""The outcomes that count as a failure (the work was not done), and that `slotgen retry`
runs again."""


class Trigger(StrEnum):
    """Who started a run, as `slotgen runs` shows it."""

    MANUAL = "manual"
    CRON = "cron"
    RETRY = "retry"
    """`slotgen retry` (a later attempt of `--tries` keeps the trigger of the first)."""


SCHEDULER_TRIGGERS = (Trigger.MANUAL, Trigger.CRON)
"""The triggers an operator may name with `--trigger`; retries name themselves."""


class ExceptionType(StrEnum):
    """Why an exception closes time; both close it, and generate counts them apart."""

    BLOCKED = "blocked"
    EMERGENCY = "emergency"


class Job(StrEnum):
    """The jobs slotgen runs on record."""

    GENERATE = "generate"
    RELEASE = "release"
    IMPORT = "import"
    """Not on record in job_runs (an import is checked whole, then written in one
    transaction, and run by a person): only its metrics name it."""
    HOLIDAYS = "holidays"
    """`holidays sync`: public holidays as facility exceptions, from the `holidays` package."""


HOLIDAYS_SOURCE = "holidays"
"""The `availability_exceptions.source` of a synced public holiday is this word, a colon and
the calendar it came from (`holidays:DE-BY`); a row with no source was entered by people."""


def holiday_source(country: str, subdivision: str | None) -> str:
    """`holidays:DE-BY`, or `holidays:NP` for a country without a subdivision."""
    calendar = country if not subdivision else f"{country}-{subdivision}"
    return f"{HOLIDAYS_SOURCE}:{calendar}"


def is_holiday_source(source: str | None) -> bool:
    """Whether a row was written by `holidays sync`, so sync may change or remove it."""
    return source is not None and source.startswith(f"{HOLIDAYS_SOURCE}:")


class FeedSlotStatus(StrEnum):
    """A slot's status in the FHIR feed: SMART Scheduling Links allows only these two."""

    FREE = "free"
    BUSY = "busy"


def feed_status(status: str) -> FeedSlotStatus:
    """Open is free; every taken status (reserved, booked, the web app's own) is busy."""
    return FeedSlotStatus.BUSY if is_taken(status) else FeedSlotStatus.FREE
