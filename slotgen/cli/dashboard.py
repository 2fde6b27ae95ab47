"""`slotgen dashboard`: the runs as a web page, written to a file for any web server or served."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from slotgen.cli.options import DatabaseUrlOption, database
from slotgen.cli.output import message
from slotgen.errors import BadInput
from slotgen.monitoring.durations import DEFAULT_MAX_AGES, DURATION_SYNTAX


def dashboard_command(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the page to this HTML file (atomically: a web server never sees "
            "half a page), e.g. /var/www/slotgen/index.html.",
        ),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", metavar="", help="Serve the page over HTTP instead, built anew per request."
        ),
    ] = False,
    refresh: Annotated[
        int,
        typer.Option(
            min=0,
            envvar="SLOTGEN_DASHBOARD_REFRESH",
            show_envvar=True,
            help="Seconds after which the browser reloads the page; 0: never.",
        ),
    ] = 60,
    zone: Annotated[
        str | None,
        typer.Option(
            envvar="SLOTGEN_DASHBOARD_ZONE",
            show_envvar=True,
            help="IANA time zone of the page's times and days, e.g. Europe/Berlin; "
            "default: this machine's local zone.",
            show_default=False,
        ),
    ] = None,
    max_age: Annotated[
        str,
        typer.Option(
            envvar="SLOTGEN_CHECK_MAX_AGE",
            show_envvar=True,
            help="How old each job's last success may be, as for `slotgen check` "
            f"(JOB=DURATION pairs, {DURATION_SYNTAX}), so the badges agree with it.",
        ),
    ] = DEFAULT_MAX_AGES,
    host: Annotated[
        str,
        typer.Option(
            help="With --serve: the address to listen on. The page has no authentication: "
            "anything but the loopback address shows it to whoever can reach the port."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="With --serve: the port; 0 picks a free one.")
    ] = 8765,
    feed: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            envvar="SLOTGEN_PUBLISH_OUTPUT",
            show_envvar=True,
            help="With --serve: also serve the FHIR feed `slotgen publish` writes in DIR, "
            "read-only, under /fhir/.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the jobs' health and recent runs as one self-contained HTML page.

    Per job: a badge by the same rules as `slotgen check` (healthy = OK, late =
    WARNING, failing = CRITICAL), its last run, success and failure, counts over 24
    hours and 7 days, and charts of runs per day and of durations. Then the 50 latest
    runs and the open, reserved and booked slots of the next 30 days per facility.
    The page has no scripts and loads nothing, so it works offline and from file://.
    """
    from slotgen.services.dashboard import (
        DashboardRequest,
        ServeRequest,
        serve_dashboard,
        writable,
        write_dashboard,
    )

    if output is not None and serve:
        raise BadInput("--output and --serve do not go together: write the file or serve it")
    if output is None and not serve:
        raise BadInput("give --output FILE.html to write the page, or --serve to serve it")
    request = DashboardRequest(zone, max_age, refresh)
    if output is not None:
        writable(output)
        with database(database_url) as opened:
            write_dashboard(opened, request, output, datetime.now(UTC))
        return
    listen = ServeRequest(host, port, feed)
    if listen.public:
        message(
            f"Warning: serving on {host}: the dashboard has no authentication; anyone who "
            "can reach this port can read it. Prefer 127.0.0.1 behind a web server."
        )
    with database(database_url) as opened:
        serve_dashboard(
            opened,
            request,
            listen,
            lambda url: message(
                f"Serving the dashboard at {url}"
                + (f" and the FHIR feed at {url}fhir/$bulk-publish" if feed else "")
                + " (Ctrl-C stops)"
            ),
        )
