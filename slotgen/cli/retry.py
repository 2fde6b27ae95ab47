"""`slotgen retry`: run failed runs again, with the parameters they were given."""

from datetime import UTC, datetime
from typing import Annotated

import typer

from slotgen.cli.options import (
    BackoffOption,
    DatabaseUrlOption,
    JsonOption,
    MetricsFileOption,
    TriesOption,
    database,
)
from slotgen.cli.output import line, print_json
from slotgen.cli.views import job_outcome


def retry_command(
    run_id: Annotated[
        int | None, typer.Argument(metavar="ID", help="The failed run to retry.")
    ] = None,
    all_failed: Annotated[
        bool,
        typer.Option(
            "--all-failed", metavar="", help="Retry every failed run that nothing has put right."
        ),
    ] = False,
    tries: TriesOption = 1,
    backoff: BackoffOption = 5.0,
    metrics_file: MetricsFileOption = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run failed runs again with their stored parameters (trigger 'retry').

    A run already retried successfully is not run again; two retries of one run at once
    make one run (the second is recorded as skipped).
    """
    from slotgen.services.retry import RetryRequest, retry

    request = RetryRequest(run_id, all_failed, tries, backoff, metrics_file)
    with database(database_url) as opened:
        result = retry(opened, request, datetime.now(UTC))
    for retried in result.retries:
        job_outcome(retried.result)
    if as_json:
        print_json(result.json())
    elif not result.retries:
        line("No failed runs to retry.")
    else:
        for retried in result.retries:
            line(retried.line())
    if result.exit_code:
        raise typer.Exit(result.exit_code)
