"""`slotgen systemd`: a .service and a .timer unit per job, ready to install."""

from pathlib import Path
from typing import Annotated

import typer

from slotgen.cli.options import DatabaseUrlOption
from slotgen.cli.output import line, message
from slotgen.services.crontab import DEFAULT_DASHBOARD_FILE, DEFAULT_ENV_FILE, DEFAULT_FEED_DIR


def systemd_command(
    user: Annotated[
        str, typer.Option(metavar="NAME", help="The user the services run as.")
    ] = "slotgen",
    env_file: Annotated[
        Path,
        typer.Option(
            dir_okay=False,
            help="The EnvironmentFile= each service reads the SLOTGEN_* settings from.",
        ),
    ] = DEFAULT_ENV_FILE,
    dashboard_file: Annotated[
        Path,
        typer.Option(dir_okay=False, help="The HTML file the dashboard service rewrites."),
    ] = DEFAULT_DASHBOARD_FILE,
    feed_dir: Annotated[
        Path,
        typer.Option(
            file_okay=False, help="The folder the publish service writes the FHIR feed to."
        ),
    ] = DEFAULT_FEED_DIR,
    metrics_file: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Have generate, release and holidays sync write their metrics to this file "
            "(its folder is made writable for them). Default: no metrics file.",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            metavar="DIR",
            help="Write the unit files into this folder (/etc/systemd/system) instead of "
            "printing them.",
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print systemd .service and .timer units that run this installation's jobs.

    The same UTC schedule as `slotgen crontab`; each service is hardened
    (ProtectSystem=strict) and may write only the embedded SQLite database's folder
    when no SLOTGEN_DATABASE_URL is set, or the folder of the SQLite file it names.
    """
    from slotgen.services.systemd import SystemdRequest, systemd_units

    request = SystemdRequest(
        user, env_file, database_url, dashboard_file, metrics_file, output_dir, feed_dir
    )
    result = systemd_units(request)
    if result.written_to is not None:
        message(f"Wrote {len(result.units)} unit files to {result.written_to}; to start them:")
        for command in result.install:
            line(command)
        return
    line("# slotgen's systemd units. Install them as root with:")
    for command in result.install:
        line(f"#   {command}")
    for name, text in result.units.items():
        line("")
        line(f"# {name}")
        line(text.rstrip("\n"))
