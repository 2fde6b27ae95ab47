"""`slotgen dashboard`: the runs as a web page, written to a file for any web server or served."""

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from slotgen import settings
from slotgen.cli.check import DEFAULT_MAX_AGES
from slotgen.cli.common import DatabaseUrlOption, open_database, stderr
from slotgen.core.durations import DURATION_SYNTAX, parse_max_ages
from slotgen.db.dashboard import read_dashboard
from slotgen.db.database import Database
from slotgen.errors import BadInput
from slotgen.web.page import render, write_page
from slotgen.web.server import is_loopback, make_server

log = logging.getLogger("slotgen.dashboard")


def dashboard_command(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the page to this HTML file (atomically: a web server never sees "
            "half a page), e.g. /var/www/slotgen/index.html.",
        ),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Serve the page over HTTP instead, built anew per request."),
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
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show the jobs' health and recent runs as one self-contained HTML page.

    Per job: a badge by the same rules as `slotgen check` (healthy = OK, late =
    WARNING, failing = CRITICAL), its last run, success and failure, counts over 24
    hours and 7 days, and charts of runs per day and of durations. Then the 50 latest
    runs and the open, reserved and booked slots of the next 30 days per facility.
    The page has no scripts and loads nothing, so it works offline and from file://.
    """
    if output is not None and serve:
        raise BadInput("--output and --serve do not go together: write the file or serve it")
    if output is None and not serve:
        raise BadInput("give --output FILE.html to write the page, or --serve to serve it")
    try:
        ages = parse_max_ages(max_age)
    except ValueError as exc:
        raise BadInput(f"--max-age: {exc}") from None
    page_zone, zone_name = _zone(zone)
    stuck_after = 2 * timedelta(seconds=settings.lease_seconds())
    if output is not None:
        target = _writable(output)
        with open_database(database_url) as database:
            page = build_page(database, page_zone, zone_name, ages, stuck_after, refresh)()
        try:
            write_page(target, page)
        except PermissionError as exc:
            raise BadInput(f"--output: cannot write {target}: {exc.strerror}") from None
        log.info("dashboard written to %s", target)
        return
    with open_database(database_url) as database:
        _serve(host, port, build_page(database, page_zone, zone_name, ages, stuck_after, refresh))


def build_page(
    database: Database,
    zone: tzinfo,
    zone_name: str,
    max_ages: dict[str, timedelta],
    stuck_after: timedelta,
    refresh: int,
) -> Callable[[], str]:
    """A function that reads the database and renders the page as of the moment it is called."""

    def build() -> str:
        now = datetime.now(UTC)
        with database.engine.connect() as connection:
            model = read_dashboard(
                connection,
                now,
                zone=zone,
                zone_name=zone_name,
                max_ages=max_ages,
                stuck_after=stuck_after,
            )
        return render(model, refresh)

    return build


def _serve(host: str, port: int, build: Callable[[], str]) -> None:
    if not is_loopback(host):
        stderr.print(
            f"Warning: serving on {host}: the dashboard has no authentication; anyone who "
            "can reach this port can read it. Prefer 127.0.0.1 behind a web server.",
            markup=False,
        )
    try:
        server = make_server(host, port, build)
    except OSError as exc:
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = f"[{host}]" if ":" in host else host
    stderr.print(
        f"Serving the dashboard at http://{shown}:{server.server_port}/ (Ctrl-C stops)",
        markup=False,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _zone(name: str | None) -> tuple[tzinfo, str]:
    if name is None:
        return local_zone()
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(
            f"--zone: unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None


def local_zone() -> tuple[tzinfo, str]:
    """This machine's zone, by its IANA name when it can be found.

    A named zone knows its DST changes, so a 14-day chart that spans one still puts
    each run on the right local day; the fixed offset of this moment is the fallback.
    """
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.partition("zoneinfo/")[2])
    except OSError:
        pass
    for candidate in filter(None, candidates):
        try:
            return ZoneInfo(candidate), candidate
        except (ZoneInfoNotFoundError, ValueError):
            continue
    here = datetime.now().astimezone().tzinfo or UTC
    return here, here.tzname(None) or "local time"


def _writable(output: Path) -> Path:
    """The absolute target, once its folder is known to take the page: checked before
    the database is read, so a typo fails fast and as bad input."""
    target = output.absolute()
    folder = target.parent
    if target.is_dir():
        raise BadInput(f"--output: {target} is a folder; name the HTML file to write in it")
    if not folder.is_dir():
        raise BadInput(f"--output: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"--output: cannot write in {folder}: permission denied")
    return target
