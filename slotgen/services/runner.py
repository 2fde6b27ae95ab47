"""Run a job as an attempt on record: lock, row, heartbeat, outcome, retries.

The same guarantees a queue worker gives (`--tries`, a failed-jobs table, no overlap, one
server at a time), from cron and the `job_runs` table alone, across hosts.

A run works only while it holds the job: its lock (PostgreSQL, MariaDB) or its fresh
`running` row (SQLite). The heartbeat and every checkpoint the job passes (each chunk,
each batch) verify that; a run that has lost the job stops at the next checkpoint and
records why, so two runs never work at once and neither overwrites the other's outcome.
"""

import logging
import random
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from slotgen.db import runs as store
from slotgen.db.database import Database
from slotgen.db.errors import as_slotgen_error
from slotgen.db.locks import HeldLock, job_lock
from slotgen.errors import (
    BadInput,
    ExitCode,
    Interrupted,
    LockLost,
    RunTakenOver,
    SlotgenError,
    first_line,
)
from slotgen.services.params import JobParams
from slotgen.services.ping import ping
from slotgen.settings import lease_seconds
from slotgen.vocabulary import RunStatus, Trigger

log = logging.getLogger("slotgen.runner")

MAX_BACKOFF_SECONDS = 600.0

Checkpoint = Callable[[], None]
"""Called by a job between units of work: raises when the run must stop there."""
Clock = Callable[[], datetime]


class JobReport(Protocol):
    @property
    def ok(self) -> bool:
        """False when the job finished but skipped bad rows: cron should mail someone."""
        ...

    def stats(self) -> dict[str, Any]: ...

    def details(self) -> str | None: ...

    def summary(self) -> str: ...


ReportT = TypeVar("ReportT", bound=JobReport)
ReportT_co = TypeVar("ReportT_co", bound=JobReport, covariant=True)


class JobWork(Protocol[ReportT_co]):
    """One job with its parameters: checked before anything is recorded, then run."""

    @property
    def params(self) -> JobParams: ...

    def check(self, engine: Engine, now: datetime) -> None:
        """Raise BadInput for a request that can never work (an unknown id, a bad range)."""
        ...

    def run(self, engine: Engine, now: datetime, checkpoint: Checkpoint) -> ReportT_co: ...


@dataclass(frozen=True)
class RunOptions:
    """How a job is run on record, whatever the job."""

    trigger: Trigger = Trigger.MANUAL
    tries: int = 1
    backoff_seconds: float = 5.0
    ping_url: str | None = None
    metrics_file: Path | None = None
    """Where the run's metrics go (node_exporter's textfile format), if anywhere."""
    retry_of: int | None = None
    unless: Callable[[Engine], str | None] | None = None
    """Checked while holding the job's lock: a reason not to run (already done) or None."""

    def __post_init__(self) -> None:
        if not 1 <= self.tries <= 10:
            raise BadInput(f"--tries must be 1 to 10, got {self.tries}")
        if self.backoff_seconds < 0:
            raise BadInput(f"--backoff must not be negative, got {self.backoff_seconds}")


@dataclass
class RunOutcome(Generic[ReportT]):
    status: RunStatus
    run_id: int
    exit_code: int
    report: ReportT | None = None
    error: str | None = None
    attempts: int = 1
    holder: int | None = None
    """For a skipped run: the run that held the job."""


def backoff_delay(attempt: int, base_seconds: float) -> float:
    """Exponential backoff with full jitter, capped: retries from many hosts spread out."""
    ceiling = min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


class Signals:
    """SIGINT and SIGTERM as a run on record answers them.

    The first asks the run to stop at its next chunk or batch (the one in flight is
    finished and committed, so nothing is half done) and wakes a retry's backoff; a
    second stops it at once, and the chunk in flight is rolled back. Either way the
    attempt is recorded `interrupted`, the lock is released and the process exits with
    128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM), as supervisors expect.
    """

    HANDLED = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: Interrupted | None = None
        self.wake = threading.Event()
        self.working = False
        """True while the job's own work runs: only then may a second signal cut it short
        (never while the outcome is being recorded)."""

    @contextmanager
    def listening(self) -> Iterator[None]:
        """Handle the signals while the run works; only the main thread may set handlers."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.signal(number, self._handle) for number in self.HANDLED}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _handle(self, number: int, _frame: object) -> None:
        name = signal.Signals(number).name
        if self.received is not None:
            if not self.working:
                log.warning("Received %s again: already stopping", name)
                return
            self.received = Interrupted(number, name, at_once=True)
            raise KeyboardInterrupt  # leaves any database call; its transaction rolls back
        self.received = Interrupted(number, name)
        self.wake.set()
        log.warning(
            "Received %s: stopping after the chunk in flight (send it again to stop at once)",
            name,
        )

    def interruption(self) -> Interrupted:
        return self.received or Interrupted(signal.SIGINT, "SIGINT", at_once=True)


def run_job(
    database: Database,
    work: JobWork[ReportT],
    options: RunOptions,
    *,
    clock: Clock = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] | None = None,
) -> RunOutcome[ReportT]:
    """Run `work` with up to `options.tries` attempts, each one its own job_runs row.

    The work is checked first: bad input raises BadInput before any row is written. A
    bad-input failure during an attempt is never retried: the same input fails the same
    way; nor is an interrupted one: the operator asked it to stop.
    """
    work.check(database.engine, clock())
    signals = Signals()
    with signals.listening():
        return _attempts(
            database, work, options, signals, clock=clock, sleep=sleep or signals.wake.wait
        )


def _attempts(
    database: Database,
    work: JobWork[ReportT],
    options: RunOptions,
    signals: Signals,
    *,
    clock: Clock,
    sleep: Callable[[float], object],
) -> RunOutcome[ReportT]:
    retry_of = options.retry_of
    for attempt in range(1, options.tries + 1):
        outcome = _attempt(
            database, work, options, signals, attempt=attempt, retry_of=retry_of, clock=clock
        )
        outcome.attempts = attempt
        if outcome.status != RunStatus.FAILED or outcome.exit_code == ExitCode.BAD_INPUT:
            return outcome
        if signals.received is not None:
            outcome.exit_code = signals.received.exit_code
            return outcome
        if attempt < options.tries:
            delay = backoff_delay(attempt, options.backoff_seconds)
            log.warning(
                "Attempt %d of %d of %s failed (run %d); retrying in %.1f s",
                attempt,
                options.tries,
                work.params.job,
                outcome.run_id,
                delay,
            )
            sleep(delay)
            if signals.received is not None:
                log.warning("Run %d: no further attempt: %s", outcome.run_id, signals.received)
                outcome.exit_code = signals.received.exit_code
                return outcome
            retry_of = outcome.run_id
    return outcome


def _attempt(
    database: Database,
    work: JobWork[ReportT],
    options: RunOptions,
    signals: Signals,
    *,
    attempt: int,
    retry_of: int | None,
    clock: Clock,
) -> RunOutcome[ReportT]:
    engine, job = database.engine, work.params.job
    who = store.Attempt(job, work.params.to_json(), options.trigger, attempt, retry_of)
    with job_lock(engine, job) as lock:
        now = clock()
        if lock is None:
            run_id, holder = store.record_skipped(engine, who, now)
            return _skipped(job, run_id, holder)
        if options.unless is not None and (reason := options.unless(engine)):
            run_id, _ = store.record_skipped(engine, who, now, reason=reason)
            log.info("Run %d: %s", run_id, reason)
            return RunOutcome(RunStatus.SKIPPED, run_id, ExitCode.OK, error=reason)
        lease = timedelta(seconds=lease_seconds())
        sqlite_lease = lease if engine.dialect.name == "sqlite" else None
        run_id, holder = store.claim(engine, who, now, lease=sqlite_lease)
        if holder is not None:
            return _skipped(job, run_id, holder)
        log.info("Run %d: %s started (attempt %d)", run_id, job, attempt)
        ping(options.ping_url, "start", run_id)
        guard = _Guard(engine, run_id, lock, signals, clock)
        with guard.heartbeat(lease / 4):
            outcome = _work(database, work, run_id=run_id, now=now, guard=guard, clock=clock)
        ping(
            options.ping_url,
            "" if outcome.exit_code == ExitCode.OK else str(int(outcome.exit_code)),
            run_id,
        )
        return outcome


def _work(
    database: Database,
    work: JobWork[ReportT],
    *,
    run_id: int,
    now: datetime,
    guard: "_Guard",
    clock: Clock,
) -> RunOutcome[ReportT]:
    engine, job, scrub = database.engine, work.params.job, database.scrub
    try:
        try:
            guard.signals.working = True
            report = work.run(engine, now, guard.checkpoint)
            guard.signals.working = False
            guard.checkpoint()  # the last chunk, too, was done holding the job
        except KeyboardInterrupt:
            raise guard.signals.interruption() from None
        finally:
            guard.signals.working = False
    except Exception as exc:
        failure = _as_failure(exc)
        if failure is not None:
            error = scrub(str(failure))
        else:
            error = scrub(f"{type(exc).__name__}: {first_line(exc)}")
        code = failure.exit_code if failure is not None else ExitCode.FAILED
        status = RunStatus.INTERRUPTED if isinstance(exc, Interrupted) else RunStatus.FAILED
        recorded = store.finish(
            engine,
            run_id,
            clock(),
            status=status,
            error=error,
            details=scrub(traceback.format_exc()),
        )
        if status is RunStatus.INTERRUPTED:
            log.warning("Run %d: %s %s", run_id, job, error)
        else:
            log.error("Run %d: %s failed: %s", run_id, job, error)
        if not recorded:
            _not_recorded(run_id)
        return RunOutcome(status, run_id, code, error=error)
    details = report.details()
    recorded = store.finish(
        engine,
        run_id,
        clock(),
        status=RunStatus.SUCCEEDED,
        stats=report.stats(),
        error=None if report.ok else scrub(first_line(details)),
        details=None if details is None else scrub(details),
    )
    if not recorded:
        _not_recorded(run_id)
        error = (
            f"run {run_id} finished its work, but another run had marked it abandoned "
            "meanwhile; its outcome was not recorded"
        )
        return RunOutcome(RunStatus.FAILED, run_id, ExitCode.FAILED, report=report, error=error)
    log.info("Run %d: %s succeeded", run_id, job)
    code = ExitCode.OK if report.ok else ExitCode.FAILED
    return RunOutcome(RunStatus.SUCCEEDED, run_id, code, report=report)


def _as_failure(exc: Exception) -> SlotgenError | None:
    """The one-line, exit-coded reading of a failure, where slotgen knows what it means."""
    if isinstance(exc, SlotgenError):
        return exc
    if isinstance(exc, SQLAlchemyError):
        return as_slotgen_error(exc)
    return None


def _not_recorded(run_id: int) -> None:
    log.error(
        "Run %d: another run marked this run abandoned while it worked; its outcome was not "
        "recorded (the other run's verdict stands)",
        run_id,
    )


def _skipped(job: str, run_id: int, holder: int | None) -> RunOutcome[Any]:
    held_by = f" (run {holder})" if holder is not None else ""
    message = f"{job} is already running{held_by}; this run was skipped"
    log.info("Run %d: %s", run_id, message)
    return RunOutcome(RunStatus.SKIPPED, run_id, ExitCode.OK, error=message, holder=holder)


class _Guard:
    """Whether this run still holds its job and may go on: checked by the heartbeat and at
    every checkpoint."""

    def __init__(
        self, engine: Engine, run_id: int, lock: HeldLock, signals: Signals, clock: Clock
    ) -> None:
        self.engine = engine
        self.run_id = run_id
        self.lock = lock
        self.signals = signals
        self.clock = clock
        self.lost: SlotgenError | None = None

    def checkpoint(self) -> None:
        """Raise, once the run has lost its job or was asked to stop, so the work stops at
        this chunk or batch."""
        if self.signals.received is not None:
            raise self.signals.received
        if self.lost is None:
            try:
                self.lock.verify()
            except LockLost as exc:
                self._lose(exc)
        if self.lost is not None:
            raise self.lost

    def _lose(self, why: SlotgenError) -> None:
        if self.lost is None:
            self.lost = why
            log.error("Run %d: %s", self.run_id, why)

    def _beat(self) -> None:
        try:
            self.lock.verify()
        except LockLost as exc:
            self._lose(exc)
            return
        try:
            alive = store.beat(self.engine, self.run_id, self.clock())
        except Exception as exc:
            log.warning("Run %d: heartbeat not recorded: %s", self.run_id, first_line(exc))
            return
        if not alive:
            self._lose(
                RunTakenOver(
                    f"run {self.run_id} was marked abandoned by another run (its heartbeat "
                    "was late); stopped so that no two runs work at once"
                )
            )

    @contextmanager
    def heartbeat(self, every: timedelta) -> Iterator[None]:
        """Refresh the row's heartbeat while the job works, so the run is seen to be alive."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every.total_seconds()):
                self._beat()

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
