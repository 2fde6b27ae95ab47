"""`slotgen check`: the jobs' health for Nagios, Icinga, or cron's mail."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer

from slotgen.cli.options import DatabaseUrlOption, JsonOption, database
from slotgen.cli.output import line, print_json
from slotgen.errors import BadInput, DatabaseUnavailable, SchemaOutOfDate
from slotgen.monitoring.durations import DEFAULT_MAX_AGES, DURATION_SYNTAX


class CheckFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    PROMETHEUS = "prometheus"


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
    output_format: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            help="text (the plugin lines), json (as --json) or prometheus (every job's "
            "metrics from job_runs, as --metrics-file writes them, for a scrape wrapper; "
            "exit 0 whatever the jobs' health).",
        ),
    ] = CheckFormat.TEXT,
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
    from slotgen.services.health import CheckRequest, check, unknown_json

    request = CheckRequest(max_age)
    now = datetime.now(UTC)
    if output_format is CheckFormat.PROMETHEUS:
        if as_json:
            raise BadInput("give --format prometheus or --json, not both")
        with database(database_url) as opened:
            text = check(opened, request, now).prometheus()
        if text:
            line(text.rstrip("\n"))
        return
    as_json = as_json or output_format is CheckFormat.JSON
    try:
        with database(database_url) as opened:
            result = check(opened, request, now)
    except (DatabaseUnavailable, SchemaOutOfDate) as exc:
        # Monitoring reads stdout: the verdict goes there; the Error: line still follows.
        if as_json:
            print_json(unknown_json(str(exc), now))
        else:
            line(f"UNKNOWN - {exc}")
        raise
    if as_json:
        print_json(result.json())
    else:
        for text in result.lines():
            line(text)
    raise typer.Exit(int(result.verdict.level))
