"""One `release` run: return reservations that expired before the run's moment to open."""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from slotgen.db import release as store

log = logging.getLogger("slotgen.release")

DEFAULT_BATCH_SIZE = 5000


@dataclass
class ReleaseReport:
    dry_run: bool
    released: int = 0
    never_expiring: int = 0
    batches: int = 0

    def summary(self) -> str:
        verb = "Would release" if self.dry_run else "Released"
        return f"{verb} {self.released:,} expired reservations"

    @property
    def ok(self) -> bool:
        return True

    def details(self) -> str | None:
        if self.never_expiring:
            return f"{self.never_expiring} reservations have no reserved_until and never expire"
        return None

    def stats(self) -> dict[str, Any]:
        """The counts, as stored in job_runs.stats and printed by --json."""
        return {
            "released": self.released,
            "never_expiring": self.never_expiring,
            "batches": self.batches,
        }


def release(
    engine: Engine, now: datetime, *, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False
) -> ReleaseReport:
    """Release in batches, each its own short transaction, until a batch comes back short.

    `now` is the one clock of the run, taken by the caller, never the database's: servers
    and sessions can disagree about the time zone and the time. A crash between batches
    loses nothing; the next run picks up the rest.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = ReleaseReport(dry_run=dry_run)
    with engine.connect() as connection:
        report.never_expiring = store.count_never_expiring(connection)
        if dry_run:
            report.released = store.count_expired(connection, now)
    if report.never_expiring:
        log.warning(
            "%d reservations have no reserved_until and never expire; "
            "the booking app should always set one",
            report.never_expiring,
        )
    while not dry_run:
        with engine.begin() as connection:
            released = store.release_batch(connection, now, batch_size)
        report.batches += 1
        report.released += released
        log.debug("Batch %d released %d reservations", report.batches, released)
        if released < batch_size:
            break
    log.info("%s", report.summary())
    return report
