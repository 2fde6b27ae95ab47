"""Whether a job is healthy, judged from its recorded runs and the moment of asking.

These are the rules behind `slotgen check` and anything else that shows a job's badge, so
every view agrees. They are functions of plain values (`now` included), never of a
database, so each rule is checked against rows written by hand.

- Successes age: a job with a maximum age warns when its last success is older than that
  and is critical past twice that. A job that has finished runs but never succeeded is
  critical; one that never ran at all warns.
- Failures: a job whose last outcome failed warns, and is critical when its last three
  outcomes all failed. `abandoned` (the process died mid-run) counts as a failure. A
  `skipped` run did no work, so it neither ends nor extends a streak, and a failed
  attempt that a later attempt took up (`--tries`, `slotgen retry`) is not an outcome of
  its own: three nights of failures are critical, one night's three attempts are not.
- Stuck: a `running` run whose heartbeat (or start, before the first beat) is older than
  the `stuck_after` span is critical, whatever its job.
- Attention: a job whose latest outcome succeeded but skipped bad rows, found conflicts
  (taken slots the rules no longer offer, overlapping rules) or met reservations that
  never expire warns, one problem per kind naming the run; these problems say what to
  do, and the dashboard shows them as "attention" rather than "late". They clear with the
  next run that finds none.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum

from slotgen.monitoring.durations import format_duration, format_span
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import FAILURES, RunStatus

FAILURE_STREAK = 3
"""This many failed outcomes in a row turn a warning critical."""


class Level(IntEnum):
    """How bad: the values are the Nagios plugin exit codes for the same states."""

    OK = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def word(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A job's recent history, as the summaries and the health rules read it."""

    job: str
    last_run: RunRecord | None = None
    last_success: RunRecord | None = None
    last_failure: RunRecord | None = None
    outcomes: tuple[RunRecord, ...] = ()
    """The latest outcomes (succeeded or failed, not taken up by a retry), newest first."""
    running: tuple[RunRecord, ...] = ()
    finished_runs: int = 0
    succeeded_24h: int = 0
    failed_24h: int = 0
    succeeded_7d: int = 0
    failed_7d: int = 0


def summarize(job: str, recent: Iterable[RunRecord], **counts: int) -> JobSummary:
    """Build a job's summary from its recent runs, newest first or not.

    `recent` must hold at least the job's latest run, its latest failure, its latest
    `FAILURE_STREAK` successes and failures that no retry took up, and every running run;
    more does no harm. `counts` are JobSummary's count fields.
    """
    runs = sorted(
        (run for run in recent if run.job == job),
        key=lambda run: (run.started_at, run.id),
        reverse=True,
    )
    successes = [run for run in runs if run.status == RunStatus.SUCCEEDED]
    failures = [run for run in runs if run.status in FAILURES]
    outcomes = [
        run for run in runs if run.status in (RunStatus.SUCCEEDED, *FAILURES) and not run.retried
    ][:FAILURE_STREAK]
    return JobSummary(
        job=job,
        last_run=runs[0] if runs else None,
        last_success=successes[0] if successes else None,
        last_failure=failures[0] if failures else None,
        outcomes=tuple(outcomes),
        running=tuple(run for run in runs if run.status == RunStatus.RUNNING),
        **counts,
    )


@dataclass(frozen=True, slots=True)
class Problem:
    level: Level
    job: str
    message: str
    attention: bool = False
    """Something in the data for a person to fix, not the job being late or failing."""

    def __str__(self) -> str:
        return f"{self.job}: {self.message}"


@dataclass(frozen=True, slots=True)
class Health:
    """A job's badge: its worst level, and every problem behind it, worst first."""

    level: Level
    problems: tuple[Problem, ...] = field(default=())

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> "Health":
        ordered = tuple(sorted(problems, key=lambda problem: -problem.level))
        return cls(max((p.level for p in ordered), default=Level.OK), ordered)

    @property
    def needs_attention_only(self) -> bool:
        """Warnings, and every one of them about the data rather than the job itself."""
        return self.level is Level.WARNING and all(p.attention for p in self.problems)


def job_health(
    job: str,
    summary: JobSummary | None,
    max_age: timedelta | None,
    now: datetime,
    *,
    stuck_after: timedelta,
) -> Health:
    """The health of one job at `now` (see the module docstring for the rules).

    `summary` is None for a job with no runs at all; `max_age` None checks no age.
    """
    summary = summary or JobSummary(job)
    problems = [
        *_age_problems(summary, max_age, now),
        *_failure_problems(summary, now),
        *_stuck_problems(summary, now, stuck_after),
        *_attention_problems(summary),
    ]
    return Health.of(problems)


def overall(healths: Iterable[Health]) -> Health:
    """Several jobs' health as one: what a single monitoring check reports."""
    return Health.of(problem for health in healths for problem in health.problems)


def _age_problems(summary: JobSummary, max_age: timedelta | None, now: datetime) -> list[Problem]:
    job = summary.job
    if max_age is None:
        return []
    limit = f"max age {format_span(max_age)}"
    success = summary.last_success
    if success is None:
        if summary.last_run is None:
            return [Problem(Level.WARNING, job, f"never ran ({limit})")]
        if summary.finished_runs:
            runs = "run" if summary.finished_runs == 1 else "runs"
            return [
                Problem(
                    Level.CRITICAL,
                    job,
                    f"never succeeded in {summary.finished_runs} finished {runs} ({limit})",
                )
            ]
        return []  # its first run is still going; the stuck rule watches it
    age = now - success.ended_at
    if age <= max_age:
        return []
    level = Level.CRITICAL if age > 2 * max_age else Level.WARNING
    return [
        Problem(
            level,
            job,
            f"last success {format_duration(age)} ago (run {success.id}), "
            f"older than {'twice the ' if level is Level.CRITICAL else ''}{limit}",
        )
    ]


def _failure_problems(summary: JobSummary, now: datetime) -> list[Problem]:
    outcomes = summary.outcomes
    if not outcomes or outcomes[0].status not in FAILURES:
        return []
    latest = outcomes[0]
    when = f"{format_duration(now - latest.ended_at)} ago"
    error = f": {latest.error_line}" if latest.error_line else ""
    if len(outcomes) >= FAILURE_STREAK and all(
        run.status in FAILURES for run in outcomes[:FAILURE_STREAK]
    ):
        return [
            Problem(
                Level.CRITICAL,
                summary.job,
                f"the last {FAILURE_STREAK} runs failed, latest run {latest.id} "
                f"{latest.status} {when}{error}",
            )
        ]
    return [
        Problem(Level.WARNING, summary.job, f"last run {latest.id} {latest.status} {when}{error}")
    ]


def _stuck_problems(summary: JobSummary, now: datetime, stuck_after: timedelta) -> list[Problem]:
    problems = []
    for run in summary.running:
        silent = now - run.last_sign_of_life
        if silent <= stuck_after:
            continue
        where = f" on {run.host} pid {run.pid}" if run.host else ""
        quiet = format_duration(silent)
        beat = f"for {quiet}" if run.heartbeat_at else f"since it started {quiet} ago"
        problems.append(
            Problem(
                Level.CRITICAL,
                summary.job,
                f"run {run.id}{where} looks stuck: no heartbeat {beat} "
                f"(limit {format_duration(stuck_after)})",
            )
        )
    return problems


ATTENTION = (
    (
        "bad_rows",
        "skipped {n} bad row(s) it cannot use (a rule or exception with an unknown zone, an "
        "end before its start, ...): `slotgen runs show {run}` names them; fix or deactivate "
        "them (`slotgen rules check`)",
    ),
    (
        "conflicts",
        "found {n} conflict(s): reserved or booked slots the rules no longer offer, or rules "
        "offering a doctor twice at once: `slotgen runs show {run}` lists them; call those "
        "patients or fix the rules",
    ),
    (
        "never_expiring",
        "met {n} reservation(s) without reserved_until, which never expire: the booking app "
        "should always set one; `slotgen slots --status reserved` shows them",
    ),
)
"""Counts in a run's stats that a person must act on, and what to tell them."""


def _attention_problems(summary: JobSummary) -> list[Problem]:
    outcomes = summary.outcomes
    if not outcomes or outcomes[0].status != RunStatus.SUCCEEDED:
        return []
    latest = outcomes[0]
    stats = latest.stats or {}
    problems = []
    for key, text in ATTENTION:
        count = stats.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            message = f"run {latest.id} " + text.format(n=count, run=latest.id)
            problems.append(Problem(Level.WARNING, summary.job, message, attention=True))
    return problems
