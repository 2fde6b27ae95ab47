"""`dashboard`: the jobs' health and recent runs as one page, written to a file or served."""

import logging
import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from slotgen.core.dates import UnknownZoneError, load_zone
from slotgen.db import dashboard as store
from slotgen.db.database import Database
from slotgen.db.history import job_summaries, list_runs
from slotgen.errors import BadInput
from slotgen.monitoring.durations import DEFAULT_MAX_AGES
from slotgen.services.health import max_ages, stuck_after
from slotgen.web.model import (
    CHART_DAYS,
    RECENT_RUNS,
    SLOT_DAYS,
    Dashboard,
    SlotRow,
    build_dashboard,
)
from slotgen.web.page import render, write_page
from slotgen.web.server import is_loopback, make_server

log = logging.getLogger("slotgen.dashboard")


@dataclass(frozen=True)
class DashboardRequest:
    zone: str | None = None
    """An IANA zone for the page's times and days; None: this machine's zone."""
    max_age: str = DEFAULT_MAX_AGES
    refresh: int = 60
    ages: dict[str, timedelta] = field(init=False)
    page_zone: tzinfo = field(init=False)
    zone_name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ages", max_ages(self.max_age))
        if self.refresh < 0:
            raise BadInput(f"--refresh must not be negative, got {self.refresh}")
        if self.zone is None:
            page_zone, name = local_zone()
        else:
            try:
                page_zone, name = load_zone(self.zone), self.zone
            except UnknownZoneError:
                raise BadInput(
                    f"--zone: unknown time zone {self.zone!r}: use an IANA name such as "
                    "Europe/Berlin or UTC"
                ) from None
        object.__setattr__(self, "page_zone", page_zone)
        object.__setattr__(self, "zone_name", name)


def local_zone() -> tuple[tzinfo, str]:
    """This machine's zone, by its IANA name when it can be found.

    A named zone knows its DST changes, so a 14-day chart that spans one still puts
    each run on the right local day; the fixed offset of this moment is the fallback.
    """
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with suppress(OSError):
        candidates.append(os.readlink("/etc/localtime").partition("zoneinfo/")[2])
    for candidate in filter(None, candidates):
        try:
            return load_zone(candidate), candidate
        except UnknownZoneError:
            continue
    here = datetime.now().astimezone().tzinfo or UTC
    return here, here.tzname(None) or "local time"


def build(database: Database, request: DashboardRequest, now: datetime) -> Dashboard:
    """The page's model as of `now`, read in one connection: one consistent look."""
    # A day more than the chart shows: its first local day may start before now - 14d.
    since = now - timedelta(days=CHART_DAYS + 1)
    with database.engine.connect() as connection:
        summaries = job_summaries(connection, now)
        recent = list_runs(connection, limit=RECENT_RUNS)
        window = store.window_runs(connection, since)
        slots = [SlotRow(*row) for row in store.slots_ahead(connection, now, SLOT_DAYS)]
    return build_dashboard(
        summaries=summaries,
        recent=recent,
        window=window,
        slots=slots,
        now=now,
        zone=request.page_zone,
        zone_name=request.zone_name,
        max_ages=request.ages,
        stuck_after=stuck_after(),
    )


def page(database: Database, request: DashboardRequest, now: datetime) -> str:
    return render(build(database, request, now), request.refresh)


def writable(output: Path) -> Path:
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


def write_dashboard(
    database: Database, request: DashboardRequest, output: Path, now: datetime
) -> Path:
    """Write the page atomically (a web server never sees half of it); returns its path."""
    target = writable(output)
    html = page(database, request, now)
    try:
        write_page(target, html)
    except PermissionError as exc:
        raise BadInput(f"--output: cannot write {target}: {exc.strerror}") from None
    log.info("dashboard written to %s", target)
    return target


@dataclass(frozen=True)
class ServeRequest:
    host: str = "127.0.0.1"
    port: int = 8765
    feed: Path | None = None
    """A folder `slotgen publish` writes: served read-only under /fhir/."""

    def __post_init__(self) -> None:
        if self.feed is not None and not self.feed.is_dir():
            raise BadInput(
                f"--feed: {self.feed.absolute()} is not a folder; run `slotgen publish "
                "--output` there first"
            )

    @property
    def public(self) -> bool:
        """Anything but loopback shows the page, which has no authentication, to the network."""
        return not is_loopback(self.host)


def serve_dashboard(
    database: Database,
    request: DashboardRequest,
    serve: ServeRequest,
    on_listening: Callable[[str], None],
) -> None:
    """Serve the page, built anew per request, until interrupted (Ctrl-C)."""
    try:
        server = make_server(
            serve.host,
            serve.port,
            lambda: page(database, request, datetime.now(UTC)),
            serve.feed,
        )
    except OSError as exc:
        raise BadInput(
            f"cannot listen on {serve.host}:{serve.port}: {exc.strerror or exc}"
        ) from None
    shown = f"[{serve.host}]" if ":" in serve.host else serve.host
    on_listening(f"http://{shown}:{server.server_port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
