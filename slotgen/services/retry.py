"""`retry`: run failed runs again, with the parameters they were given.

The stored parameters are read back into their typed form and checked like a command's,
so a retry runs exactly what the failed run was asked to do, and a retry of a run whose
parameters no longer make sense (an id since deleted) fails as bad input without a row.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from slotgen.db import runs as store
from slotgen.db.database import Database
from slotgen.errors import BadInput, ExitCode
from slotgen.services.generate import GenerateWork
from slotgen.services.holidays import HolidaysWork
from slotgen.services.jobs import JobResult, perform
from slotgen.services.metrics import checked_metrics_file
from slotgen.services.params import GenerateParams, HolidaysParams, ReleaseParams
from slotgen.services.release import ReleaseWork
from slotgen.services.runner import JobReport, JobWork, RunOptions
from slotgen.vocabulary import FAILURES, Job, Trigger

NOT_RETRIED = "not retried"
"""The status of a target whose stored parameters this slotgen cannot run."""

WORK_FROM_PARAMS: dict[str, Callable[[Mapping[str, Any]], JobWork[JobReport]]] = {
    Job.GENERATE: lambda params: GenerateWork(GenerateParams.from_json(params)),
    Job.RELEASE: lambda params: ReleaseWork(ReleaseParams.from_json(params)),
    Job.HOLIDAYS: lambda params: HolidaysWork(HolidaysParams.from_json(params)),
}


@dataclass(frozen=True)
class RetryRequest:
    run_id: int | None = None
    all_failed: bool = False
    tries: int = 1
    backoff_seconds: float = 5.0
    metrics_file: Path | None = None

    def __post_init__(self) -> None:
        if (self.run_id is None) == (not self.all_failed):
            raise BadInput("give a run id or --all-failed (not both)")


@dataclass(frozen=True)
class Retried:
    retry_of: int
    job: str
    result: JobResult[JobReport]

    def json(self) -> dict[str, Any]:
        return {"retry_of": self.retry_of, "job": self.job, **self.result.json()}

    def line(self) -> str:
        result = self.result
        if result.run_id is None:
            return f"Run {self.retry_of}: {result.status}: {result.error}"
        return f"Run {self.retry_of} ({self.job}): retry run {result.run_id} {result.status}"


@dataclass(frozen=True)
class RetryResult:
    retries: list[Retried] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return max((retry.result.exit_code for retry in self.retries), default=ExitCode.OK)

    def json(self) -> dict[str, Any]:
        return {"retries": [retry.json() for retry in self.retries]}


def retry(database: Database, request: RetryRequest, now: datetime) -> RetryResult:
    """Run each target again on record, trigger `retry`, `retry_of` the failed run."""
    engine = database.engine
    checked_metrics_file(request.metrics_file)
    targets = store.failed_runs(engine) if request.all_failed else [request.run_id or 0]
    retries = []
    for target in targets:
        try:
            retries.append(_retry(database, request, target, now))
        except BadInput as exc:
            if not request.all_failed:
                raise
            refused: JobResult[JobReport] = JobResult(
                None, None, NOT_RETRIED, ExitCode.BAD_INPUT, error=str(exc)
            )
            retries.append(Retried(target, "?", refused))
    return RetryResult(retries)


def _retry(database: Database, request: RetryRequest, target: int, now: datetime) -> Retried:
    original = store.find(database.engine, target)
    if original is None:
        raise BadInput(f"there is no run {target}")
    if original.status not in FAILURES:
        raise BadInput(f"run {target} {original.status}; only failed runs can be retried")
    work = _work(original.job, original.params or {}, target)
    options = RunOptions(
        Trigger.RETRY,
        request.tries,
        request.backoff_seconds,
        retry_of=target,
        metrics_file=request.metrics_file,
        unless=lambda engine: _already_put_right(engine, target),
    )
    return Retried(target, original.job, perform(database, work, options, now, dry_run=False))


def _work(job: str, params: Mapping[str, Any], target: int) -> JobWork[JobReport]:
    try:
        build = WORK_FROM_PARAMS[job]
    except KeyError:
        raise BadInput(f"run {target} is of a job slotgen does not know: {job!r}") from None
    try:
        return build(params)
    except BadInput as exc:
        raise BadInput(f"run {target} has parameters this slotgen cannot use: {exc}") from None


def _already_put_right(engine: Engine, target: int) -> str | None:
    done = store.put_right_by(engine, target)
    return (
        None
        if done is None
        else f"run {target} was already retried successfully: run {done} succeeded in its chain"
    )
