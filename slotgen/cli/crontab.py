"""`slotgen crontab`: the cron lines that run this installation's jobs, ready to install."""

from pathlib import Path
from typing import Annotated

import typer

from slotgen.cli.output import line
from slotgen.services.crontab import (
    DEFAULT_DASHBOARD_FILE,
    DEFAULT_ENV_FILE,
    DEFAULT_FEED_DIR,
    DEFAULT_LOG_FILE,
    CrontabRequest,
    crontab,
)


def crontab_command(
    env_file: Annotated[
        Path,
        typer.Option(
            dir_okay=False,
            help="The file each line loads the SLOTGEN_* settings from (sh syntax).",
        ),
    ] = DEFAULT_ENV_FILE,
    log_file: Annotated[
        Path,
        typer.Option(dir_okay=False, help="The file every job appends its output to."),
    ] = DEFAULT_LOG_FILE,
    dashboard_file: Annotated[
        Path,
        typer.Option(dir_okay=False, help="The HTML file the dashboard line rewrites."),
    ] = DEFAULT_DASHBOARD_FILE,
    feed_dir: Annotated[
        Path,
        typer.Option(file_okay=False, help="The folder the publish line writes the FHIR feed to."),
    ] = DEFAULT_FEED_DIR,
) -> None:
    """Print crontab lines that run this installation's jobs, to install as they are.

    Each line names this slotgen by its absolute path, runs on a UTC schedule,
    loads the SLOTGEN_* settings from the env file and appends to the log file.
    """
    for text in crontab(CrontabRequest(env_file, log_file, dashboard_file, feed_dir)):
        line(text)
