"""`check`: the jobs' health as a monitoring plugin reports it."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from slotgen import settings
from slotgen.db.database import Database
from slotgen.db.errors import as_slotgen_error
from slotgen.db.history import job_summaries
from slotgen.errors import BadInput, DatabaseUnavailable
from slotgen.monitoring.durations import (
    DEFAULT_MAX_AGES,
    format_duration,
    format_span,
    parse_max_ages,
)
from slotgen.monitoring.health import Health, JobSummary, job_health, overall
from slotgen.services.metrics import prometheus_lines
from slotgen.services.runs import iso


def max_ages(text: str) -> dict[str, timedelta]:
    """`--max-age` read, or one line of bad input (shared with the dashboard)."""
    try:
        return parse_max_ages(text)
    except ValueError as exc:
        raise BadInput(f"--max-age: {exc}") from None


def stuck_after() -> timedelta:
    """A running run silent for twice the lease is stuck (or killed)."""
    return 2 * timedelta(seconds=settings.lease_seconds())


@dataclass(frozen=True)
class CheckRequest:
    max_age: str = DEFAULT_MAX_AGES
    ages: dict[str, timedelta] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ages", max_ages(self.max_age))


@dataclass(frozen=True)
class CheckResult:
    now: datetime
    verdict: Health
    healths: dict[str, Health]
    summaries: dict[str, JobSummary]
    max_ages: dict[str, timedelta]

    @property
    def first_line(self) -> str:
        verdict = self.verdict
        if verdict.problems:
            worst = verdict.problems[0]
            more = len(verdict.problems) - 1
            return f"{verdict.level.name} - {worst}" + (f" (and {more} more)" if more else "")
        successes = [
            f"{job} succeeded {format_duration(self.now - summary.last_success.ended_at)} ago"
            for job, summary in self.summaries.items()
            if summary.last_success is not None
        ]
        return "OK - " + ("; ".join(successes) or "no runs recorded and no max age to check")

    def lines(self) -> list[str]:
        """What a monitoring plugin prints: the verdict, then one line per problem."""
        return [
            self.first_line,
            *(f"{problem.level.name}: {problem}" for problem in self.verdict.problems),
        ]

    def json(self) -> dict[str, Any]:
        return {
            "status": self.verdict.level.word,
            "exit_code": int(self.verdict.level),
            "message": self.first_line,
            "checked_at": iso(self.now),
            "jobs": {job: self._job_json(job, health) for job, health in self.healths.items()},
            "problems": [
                {"job": problem.job, "level": problem.level.word, "message": problem.message}
                for problem in self.verdict.problems
            ],
        }

    def prometheus(self) -> str:
        """The jobs' metrics as job_runs has them, in the format `--metrics-file` writes."""
        return prometheus_lines(self.summaries, self.now)

    def _job_json(self, job: str, health: Health) -> dict[str, Any]:
        summary, max_age = self.summaries.get(job), self.max_ages.get(job)
        success = summary.last_success if summary else None
        return {
            "status": health.level.word,
            "problems": [problem.message for problem in health.problems],
            "last_success_at": iso(success.ended_at) if success else None,
            "max_age": format_span(max_age) if max_age else None,
        }


def check(database: Database, request: CheckRequest, now: datetime) -> CheckResult:
    """Every job with runs or a max age, judged by the rules of `slotgen.monitoring.health`.

    A database that cannot be read raises DatabaseUnavailable, which monitoring reads as
    UNKNOWN: a check that cannot look must never look fine.
    """
    ages = request.ages
    stuck = stuck_after()
    try:
        with database.engine.connect() as connection:
            summaries = job_summaries(connection, now)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(str(as_slotgen_error(exc))) from None
    healths = {
        job: job_health(job, summaries.get(job), ages.get(job), now, stuck_after=stuck)
        for job in sorted(set(ages) | set(summaries))
    }
    return CheckResult(now, overall(healths.values()), healths, summaries, ages)


def unknown_json(message: str, now: datetime) -> dict[str, Any]:
    """What `check --json` prints when the database cannot be read."""
    return {
        "status": "unknown",
        "exit_code": 3,
        "message": f"UNKNOWN - {message}",
        "checked_at": iso(now),
        "jobs": {},
        "problems": [],
    }
