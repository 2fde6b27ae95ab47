"""One `job_runs` row as every view reads it: `runs`, `check`, the dashboard and `retry`."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slotgen.errors import first_line
from slotgen.vocabulary import FAILURES, Job, RunStatus

KEY_COUNTS: dict[str, tuple[str, ...]] = {
    Job.GENERATE: ("created", "updated", "removed", "conflicts"),
    Job.RELEASE: ("released",),
    Job.HOLIDAYS: ("created", "updated", "removed"),
}
"""Per job, the stats that say at a glance what a run did; other jobs show every count."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as recorded. Listings leave `details` (the traceback) unread: None there."""

    id: int
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    trigger: str = "manual"
    attempt: int = 1
    retry_of: int | None = None
    params: Mapping[str, Any] | None = None
    stats: Mapping[str, Any] | None = None
    error: str | None = None
    details: str | None = None
    host: str | None = None
    pid: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    retried: bool = False
    """A later attempt or retry took this run up, so its own outcome is not the job's."""

    @property
    def ended_at(self) -> datetime:
        return self.finished_at or self.started_at

    @property
    def last_sign_of_life(self) -> datetime:
        return self.heartbeat_at or self.started_at

    @property
    def error_line(self) -> str:
        """The error's first line: the message, without the traceback under it."""
        return first_line(self.error)

    @property
    def failed(self) -> bool:
        return self.status in FAILURES

    def duration(self, now: datetime) -> timedelta | None:
        """How long the run worked: until it finished, or so far while it is running.

        An abandoned run's finish is when another run marked it, maybe hours after it
        died; its last heartbeat is the last moment it is known to have worked.
        """
        if self.status == RunStatus.ABANDONED:
            return max(timedelta(0), self.last_sign_of_life - self.started_at)
        if self.finished_at is not None:
            return max(timedelta(0), self.finished_at - self.started_at)
        if self.status == RunStatus.RUNNING:
            return max(timedelta(0), now - self.started_at)
        return None

    @property
    def key_counts(self) -> str:
        """What the run changed, zeros left out: `104 created, 3 removed`, or `no changes`."""
        stats = self.stats
        if not isinstance(stats, Mapping):
            return ""
        keys = KEY_COUNTS.get(self.job) or tuple(sorted(str(key) for key in stats))
        numbers = {
            key: value
            for key in keys
            if isinstance(value := stats.get(key), int) and not isinstance(value, bool)
        }
        if not numbers:
            return ""
        return ", ".join(f"{value:,} {key}" for key, value in numbers.items() if value) or (
            "no changes"
        )
