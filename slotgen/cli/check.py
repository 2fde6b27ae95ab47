"""`slotgen check`: the jobs' health for Nagios, Icinga, or cron's mail."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from slotgen import settings
from slotgen.cli.common import DatabaseUrlOption, JsonOption, open_database, print_json, stdout
from slotgen.core.durations import DURATION_SYNTAX, format_duration, format_span, parse_max_ages
from slotgen.core.health import Health, JobSummary, job_health, overall
from slotgen.db.database import first_line
from slotgen.db.history import job_summaries
from slotgen.errors import BadInput, DatabaseUnavailable, ExitCode, SchemaOutOfDate

log = logging.getLogger("slotgen.check")

DEFAULT_MAX_AGES = "generate=26h,release=15m"


def check_command(
    max_age: Annotated[
        str,
        typer.Option(
            envvar="SLOTGEN_CHECK_MAX_AGE",
            show_envvar=True,
            help="How old each job's last success may be, as JOB=DURATION pairs separated by "
            f"commas ({DURATION_SYNTAX}). Jobs not named get no age check; none checks "
            "no ages.",
        ),
    ] = DEFAULT_MAX_AGES,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Report the jobs' health the way monitoring plugins (Nagios, Icinga) do.

    Prints OK - ..., WARNING - ... or CRITICAL - ..., then one line per problem.
    Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (database not readable).
    A bad option also exits 2, with an Error: line on stderr: monitoring shows
    CRITICAL, because a check that cannot run must not look fine.

    WARNING: a job's last success is older than its max age; its last run failed;
    a job with a max age never ran.
    CRITICAL: the last success is older than twice the max age; a job with
    finished runs never succeeded; its last 3 runs failed; a running run has sent
    no heartbeat for twice SLOTGEN_LEASE_SECONDS (stuck, or killed).
    """
    try:
        ages = parse_max_ages(max_age)
    except ValueError as exc:
        raise BadInput(f"--max-age: {exc}") from None
    stuck_after = 2 * timedelta(seconds=settings.lease_seconds())
    now = datetime.now(UTC)
    summaries = _read(database_url, now, as_json=as_json)
    healths = {
        job: job_health(job, summaries.get(job), ages.get(job), now, stuck_after=stuck_after)
        for job in sorted(set(ages) | set(summaries))
    }
    verdict = overall(healths.values())
    first = _first_line(verdict, summaries, now)
    if as_json:
        print_json(
            {
                "status": verdict.level.word,
                "exit_code": int(verdict.level),
                "message": first,
                "checked_at": now.isoformat(),
                "jobs": {
                    job: _job_json(health, summaries.get(job), ages.get(job))
                    for job, health in healths.items()
                },
                "problems": [
                    {"job": problem.job, "level": problem.level.word, "message": problem.message}
                    for problem in verdict.problems
                ],
            }
        )
    else:
        stdout.out(first, highlight=False)
        for problem in verdict.problems:
            stdout.out(f"{problem.level.name}: {problem}", highlight=False)
    raise typer.Exit(int(verdict.level))


def _read(database_url: str | None, now: datetime, *, as_json: bool) -> dict[str, JobSummary]:
    """The job summaries; when the database fails us, an UNKNOWN verdict for monitoring.

    Monitoring reads stdout, so the verdict goes there; the error itself still leaves as
    one `Error:` line on stderr with exit code 3.
    """
    try:
        with open_database(database_url) as database, database.engine.connect() as connection:
            return job_summaries(connection, now)
    except (DatabaseUnavailable, SchemaOutOfDate) as exc:
        _unknown(str(exc), now, as_json=as_json)
        raise
    except SQLAlchemyError as exc:
        log.debug("database error", exc_info=True)
        message = f"database error: {first_line(exc)}"
        _unknown(message, now, as_json=as_json)
        raise DatabaseUnavailable(message) from None


def _unknown(message: str, now: datetime, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "status": "unknown",
                "exit_code": ExitCode.UNAVAILABLE,
                "message": f"UNKNOWN - {message}",
                "checked_at": now.isoformat(),
                "jobs": {},
                "problems": [],
            }
        )
    else:
        stdout.out(f"UNKNOWN - {message}", highlight=False)


def _first_line(verdict: Health, summaries: dict[str, JobSummary], now: datetime) -> str:
    if verdict.problems:
        worst = verdict.problems[0]
        more = len(verdict.problems) - 1
        return f"{verdict.level.name} - {worst}" + (f" (and {more} more)" if more else "")
    successes = [
        f"{job} succeeded {format_duration(now - summary.last_success.ended_at)} ago"
        for job, summary in summaries.items()
        if summary.last_success is not None
    ]
    return "OK - " + ("; ".join(successes) or "no runs recorded and no max age to check")


def _job_json(
    health: Health, summary: JobSummary | None, max_age: timedelta | None
) -> dict[str, Any]:
    success = summary.last_success if summary else None
    return {
        "status": health.level.word,
        "problems": [problem.message for problem in health.problems],
        "last_success_at": success.ended_at.isoformat() if success else None,
        "max_age": format_span(max_age) if max_age else None,
    }
