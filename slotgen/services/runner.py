"""Run a job as an attempt on record: lock, row, heartbeat, outcome, retries.

The same guarantees a queue worker gives (`--tries`, a failed-jobs table, no overlap, one
server at a time), from cron and the `job_runs` table alone, across hosts.
"""

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from slotgen.db import runs as store
from slotgen.db.database import first_line
from slotgen.db.locks import job_lock
from slotgen.errors import BadInput, ExitCode
from slotgen.services.ping import ping
from slotgen.settings import lease_seconds

log = logging.getLogger("slotgen.runner")

MAX_BACKOFF_SECONDS = 600.0


class JobReport(Protocol):
    @property
    def ok(self) -> bool:
        """False when the job finished but skipped bad rows: cron should mail someone."""
        ...

    def stats(self) -> dict[str, Any]: ...

    def details(self) -> str | None: ...


JobCall = Callable[[Engine, datetime], JobReport]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RunRequest:
    job: str
    params: Mapping[str, Any]
    trigger: str = "manual"
    tries: int = 1
    backoff_seconds: float = 5.0
    retry_of: int | None = None
    ping_url: str | None = None
    unless: Callable[[Engine], str | None] | None = None
    """Checked while holding the job's lock: a reason not to run (already done) or None."""


@dataclass
class RunOutcome:
    status: str
    run_id: int
    exit_code: ExitCode
    report: JobReport | None = None
    error: str | None = None
    attempts: int = 1
    holder: int | None = None
    """For a skipped run: the run that held the job."""


def backoff_delay(attempt: int, base_seconds: float) -> float:
    """Exponential backoff with full jitter, capped: retries from many hosts spread out."""
    ceiling = min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def run_job(
    engine: Engine,
    request: RunRequest,
    call: JobCall,
    *,
    scrub: Callable[[str], str] = str,
    clock: Clock = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> RunOutcome:
    """Run `call` with up to `request.tries` attempts, each one its own job_runs row.

    A bad-input error is never retried: the same input fails the same way.
    """
    retry_of = request.retry_of
    for attempt in range(1, request.tries + 1):
        outcome = _attempt(
            engine, request, call, attempt=attempt, retry_of=retry_of, scrub=scrub, clock=clock
        )
        outcome.attempts = attempt
        if outcome.status != store.FAILED or outcome.exit_code == ExitCode.BAD_INPUT:
            return outcome
        if attempt < request.tries:
            delay = backoff_delay(attempt, request.backoff_seconds)
            log.warning(
                "Attempt %d of %d of %s failed (run %d); retrying in %.1f s",
                attempt,
                request.tries,
                request.job,
                outcome.run_id,
                delay,
            )
            sleep(delay)
            retry_of = outcome.run_id
    return outcome


def _attempt(
    engine: Engine,
    request: RunRequest,
    call: JobCall,
    *,
    attempt: int,
    retry_of: int | None,
    scrub: Callable[[str], str],
    clock: Clock,
) -> RunOutcome:
    who = store.Attempt(request.job, request.params, request.trigger, attempt, retry_of)
    with job_lock(engine, request.job) as held:
        now = clock()
        if not held:
            run_id, holder = store.record_skipped(engine, who, now)
            return _skipped(request.job, run_id, holder)
        if request.unless is not None and (reason := request.unless(engine)):
            run_id, _ = store.record_skipped(engine, who, now, reason=reason)
            log.info("Run %d: %s", run_id, reason)
            return RunOutcome(store.SKIPPED, run_id, ExitCode.OK, error=reason)
        lease = timedelta(seconds=lease_seconds())
        sqlite_lease = lease if engine.dialect.name == "sqlite" else None
        run_id, holder = store.claim(engine, who, now, lease=sqlite_lease)
        if holder is not None:
            return _skipped(request.job, run_id, holder)
        log.info("Run %d: %s started (attempt %d)", run_id, request.job, attempt)
        ping(request.ping_url, "start", run_id)
        with _heartbeat(engine, run_id, lease / 4, clock):
            outcome = _work(engine, request, call, run_id=run_id, now=now, scrub=scrub, clock=clock)
        ping(
            request.ping_url,
            "" if outcome.exit_code == ExitCode.OK else str(outcome.exit_code),
            run_id,
        )
        return outcome


def _work(
    engine: Engine,
    request: RunRequest,
    call: JobCall,
    *,
    run_id: int,
    now: datetime,
    scrub: Callable[[str], str],
    clock: Clock,
) -> RunOutcome:
    try:
        report = call(engine, now)
    except Exception as exc:
        bad_input = isinstance(exc, BadInput)
        error = scrub(f"{type(exc).__name__}: {first_line(exc)}")
        if bad_input:
            error = scrub(str(exc))
        store.finish(
            engine,
            run_id,
            clock(),
            status=store.FAILED,
            error=error,
            details=scrub(traceback.format_exc()),
        )
        log.error("Run %d: %s failed: %s", run_id, request.job, error)
        code = ExitCode.BAD_INPUT if bad_input else ExitCode.FAILED
        return RunOutcome(store.FAILED, run_id, code, error=error)
    details = report.details()
    store.finish(
        engine,
        run_id,
        clock(),
        status=store.SUCCEEDED,
        stats=report.stats(),
        error=None if report.ok else scrub((details or "").splitlines()[0] if details else ""),
        details=None if details is None else scrub(details),
    )
    log.info("Run %d: %s succeeded", run_id, request.job)
    return RunOutcome(
        store.SUCCEEDED, run_id, ExitCode.OK if report.ok else ExitCode.FAILED, report=report
    )


def _skipped(job: str, run_id: int, holder: int | None) -> RunOutcome:
    held_by = f" (run {holder})" if holder is not None else ""
    message = f"{job} is already running{held_by}; this run was skipped"
    log.info("Run %d: %s", run_id, message)
    return RunOutcome(store.SKIPPED, run_id, ExitCode.OK, error=message, holder=holder)


@contextmanager
def _heartbeat(engine: Engine, run_id: int, every: timedelta, clock: Clock) -> Iterator[None]:
    """Refresh the row's heartbeat while the job works, so the run is seen to be alive."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every.total_seconds()):
            try:
                store.beat(engine, run_id, clock())
            except Exception as exc:
                log.warning("Run %d: heartbeat not recorded: %s", run_id, first_line(exc))

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
