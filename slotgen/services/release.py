"""`release`: return reservations that expired before the run's moment to open."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from slotgen.db import release as store
from slotgen.db.database import Database
from slotgen.services.jobs import JobResult, perform
from slotgen.services.params import ReleaseParams
from slotgen.services.runner import Checkpoint, RunOptions

log = logging.getLogger("slotgen.release")


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

    def json(self) -> dict[str, Any]:
        return {**self.stats(), "dry_run": self.dry_run}


@dataclass(frozen=True)
class ReleaseRequest:
    params: ReleaseParams = field(default_factory=ReleaseParams)
    dry_run: bool = False
    options: RunOptions = field(default_factory=RunOptions)


def release(database: Database, request: ReleaseRequest, now: datetime) -> JobResult[ReleaseReport]:
    """The `slotgen release` use case: on record (lock, job_runs row, tries) or dry."""
    work = ReleaseWork(request.params, dry_run=request.dry_run)
    return perform(database, work, request.options, now, dry_run=request.dry_run)


@dataclass(frozen=True)
class ReleaseWork:
    params: ReleaseParams
    dry_run: bool = False

    def check(self, engine: Engine, now: datetime) -> None:
        """Nothing to check against the database: the parameters checked themselves."""

    def run(self, engine: Engine, now: datetime, checkpoint: Checkpoint) -> ReleaseReport:
        return release_expired(
            engine, self.params, now, dry_run=self.dry_run, checkpoint=checkpoint
        )


def release_expired(
    engine: Engine,
    params: ReleaseParams,
    now: datetime,
    *,
    dry_run: bool = False,
    checkpoint: Checkpoint | None = None,
) -> ReleaseReport:
    """Release in batches, each its own short transaction, until a batch comes back short.

    `now` is the one clock of the run, taken by the caller, never the database's: servers
    and sessions can disagree about the time zone and the time. A crash between batches
    loses nothing; the next run picks up the rest.
    """
    report = ReleaseReport(dry_run=dry_run)
    if dry_run:
        with engine.connect() as connection:
            report.never_expiring = store.count_never_expiring(connection)
            report.released = store.count_expired(connection, now)
    else:
        _release_in_batches(engine, report, params.batch_size, now, checkpoint)
    if report.never_expiring:
        log.warning(
            "%d reservations have no reserved_until and never expire; "
            "the booking app should always set one",
            report.never_expiring,
        )
    log.info("%s", report.summary())
    return report


def _release_in_batches(
    engine: Engine,
    report: ReleaseReport,
    batch_size: int,
    now: datetime,
    checkpoint: Checkpoint | None,
) -> None:
    while True:
        if checkpoint is not None:
            checkpoint()
        with engine.begin() as connection:
            if not report.batches:
                # In the first batch's transaction: a connection and a round trip fewer
                # than counting on its own, in a run that is often a single batch.
                report.never_expiring = store.count_never_expiring(connection)
            released = store.release_batch(connection, now, batch_size)
        report.batches += 1
        report.released += released
        log.debug("Batch %d released %d reservations", report.batches, released)
        if released < batch_size:
            return
