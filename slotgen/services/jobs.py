"""The jobs slotgen runs, rebuilt from the parameters a run stores in job_runs.params.

A command and `slotgen retry` go through the same door, so a retry runs exactly what the
failed run was asked to do.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from slotgen.core.dates import DateSpec, parse_date_spec
from slotgen.errors import BadInput
from slotgen.services.generate import GenerateRequest, Progress, generate
from slotgen.services.release import DEFAULT_BATCH_SIZE, release
from slotgen.services.runner import JobCall


def _date(text: str | None) -> DateSpec | None:
    if text is None:
        return None
    try:
        return parse_date_spec(text)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def generate_job(params: Mapping[str, Any], progress: Progress | None = None) -> JobCall:
    """Dates are kept as written (`today`, `+7d`): a retry means 'the range as of now'."""
    if params.get("end_date") is not None and params.get("days") is not None:
        raise BadInput("give --end-date or --days, not both")
    request = GenerateRequest(
        facility_ids=tuple(params.get("facility_ids") or ()),
        doctor_ids=tuple(params.get("doctor_ids") or ()),
        start=_date(params.get("start_date")),
        end=_date(params.get("end_date")),
        days=params.get("days"),
        dry_run=bool(params.get("dry_run", False)),
    )

    def call(engine: Engine, now: datetime) -> Any:
        return generate(engine, request, now, progress)

    return call


def release_job(params: Mapping[str, Any], progress: Progress | None = None) -> JobCall:
    batch_size = int(params.get("batch_size", DEFAULT_BATCH_SIZE))
    dry_run = bool(params.get("dry_run", False))

    def call(engine: Engine, now: datetime) -> Any:
        return release(engine, now, batch_size=batch_size, dry_run=dry_run)

    return call


JOBS: dict[str, Callable[[Mapping[str, Any], Progress | None], JobCall]] = {
    "generate": generate_job,
    "release": release_job,
}


def job_call(job: str, params: Mapping[str, Any], progress: Progress | None = None) -> JobCall:
    try:
        build = JOBS[job]
    except KeyError:
        raise BadInput(f"slotgen has no job called {job!r}") from None
    return build(params, progress)
