"""`slotgen dashboard`: the page model read from real rows, the page, the file and the server."""

import os
import re
import stat
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slotgen.monitoring.health import Level
from slotgen.services.dashboard import DashboardRequest, build
from slotgen.web.model import Dashboard
from slotgen.web.page import render
from slotgen.web.server import make_server
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_run, add_slot, utc
from tests.helpers import run_cli

NOW = utc(2024, 5, 15, 12, 0)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
XSS = "<script>document.title='XSS-RAN';document.body.setAttribute('data-xss','ran')</script>"


def model(database: DatabaseUnderTest, now: datetime = NOW, zone_name: str = "UTC") -> Dashboard:
    return build(database.opened, DashboardRequest(zone=zone_name), now)


def run(
    database: DatabaseUnderTest, ago: timedelta, took: timedelta = MINUTE, **values: object
) -> int:
    started = NOW - ago
    return add_run(database.engine, started_at=started, finished_at=started + took, **values)


def failed(database: DatabaseUnderTest, ago: timedelta, **values: Any) -> int:
    return run(database, ago, status="failed", error="database error: refused\nTraceback", **values)


def test_badges_follow_checks_rules(database: DatabaseUnderTest) -> None:
    run(database, 5 * HOUR)  # generate: last success within 26h
    run(database, 20 * MINUTE, job="release")  # release: older than 15m, not twice that
    for hours in (3, 2, 1):  # report: three failures in a row, and no max age
        failed(database, hours * HOUR, job="report")

    jobs = {panel.job: panel for panel in model(database).jobs}

    assert [(job, panel.badge) for job, panel in jobs.items()] == [
        ("generate", "healthy"),
        ("release", "late"),
        ("report", "failing"),
    ]
    assert jobs["generate"].level is Level.OK
    assert jobs["release"].problems[0].startswith("last success 19m00s ago")
    assert jobs["report"].problems[0].startswith("the last 3 runs failed")
    assert model(database).badge == "failing"


def test_counts_and_last_runs(database: DatabaseUnderTest) -> None:
    latest = run(database, 5 * HOUR, stats={"created": 3})
    run(database, 2 * DAY)
    failure = failed(database, 3 * DAY)
    run(database, 8 * DAY)
    add_run(database.engine, status="running", started_at=NOW - MINUTE, heartbeat_at=NOW)

    generate = model(database).jobs[0]
    summary = generate.summary

    assert generate.job == "generate"
    assert (summary.succeeded_24h, summary.failed_24h) == (1, 0)
    assert (summary.succeeded_7d, summary.failed_7d) == (2, 1)
    assert summary.last_run is not None
    assert summary.last_run.status == "running"
    assert summary.last_success is not None
    assert summary.last_success.id == latest
    assert summary.last_failure is not None
    assert summary.last_failure.id == failure
    assert summary.last_failure.error_line == "database error: refused"


def test_the_14_day_series_counts_each_local_day_and_keeps_empty_ones(
    database: DatabaseUnderTest,
) -> None:
    run(database, 5 * HOUR)
    run(database, 6 * HOUR, status="skipped")
    failed(database, 3 * DAY)
    run(database, 3 * DAY + HOUR, status="abandoned")
    run(database, 13 * DAY)  # 2024-05-02, the chart's first day
    run(database, 14 * DAY)  # a day too old for the chart
    run(database, 30 * MINUTE, job="release")

    generate, release = model(database).jobs

    days = {bar.day: (bar.succeeded, bar.failed, bar.other) for bar in generate.days}
    assert len(generate.days) == 14
    assert generate.days[0].day == date(2024, 5, 2)
    assert generate.days[-1].day == date(2024, 5, 15)
    assert days[date(2024, 5, 15)] == (1, 0, 1)
    assert days[date(2024, 5, 12)] == (0, 2, 0)
    assert days[date(2024, 5, 2)] == (1, 0, 0)
    assert sum(bar.total for bar in generate.days) == 5
    assert sum(bar.total for bar in release.days) == 1


def test_days_are_days_in_the_pages_zone(database: DatabaseUnderTest) -> None:
    run(database, 12 * HOUR + 30 * MINUTE)  # 2024-05-14 23:30 UTC, 05-15 01:30 in Berlin

    in_utc = model(database).jobs[0].days
    berlin = model(database, zone_name="Europe/Berlin")

    assert in_utc[-2].day == date(2024, 5, 14)
    assert in_utc[-2].succeeded == 1
    assert berlin.jobs[0].days[-1].succeeded == 1
    assert berlin.runs[0].started_at.hour == 1
    assert "Times are in Europe/Berlin." in render(berlin)


def test_durations_and_recent_runs(database: DatabaseUnderTest) -> None:
    for n in range(55):
        run(database, (60 - n) * HOUR, took=n * MINUTE, job="release", stats={"released": n})
    failed(database, 10 * MINUTE, job="release")

    page = model(database)
    release = next(panel for panel in page.jobs if panel.job == "release")

    assert len(page.runs) == 50
    assert page.runs[0].failed
    assert page.runs[0].error == "database error: refused"
    assert page.runs[1].counts == "54 released"
    assert [bar.seconds for bar in release.durations][-3:] == [53 * 60, 54 * 60, 60]
    assert release.durations[-1].status == "failed"


def test_slots_ahead_per_facility(database: DatabaseUnderTest) -> None:
    north = add_facility(database.engine, "North clinic")
    add_facility(database.engine, "South & Sons")
    lee = add_doctor(database.engine)
    now = datetime.now(UTC).replace(microsecond=0)
    for days, status in ((1, "open"), (2, "open"), (3, "reserved"), (4, "booked"), (5, "held")):
        add_slot(database.engine, north, lee, now + days * DAY, status=status)
    add_slot(database.engine, north, lee, now - DAY)  # past
    add_slot(database.engine, north, lee, now + 40 * DAY)  # beyond 30 days

    slots = model(database, now=now).slots

    assert [(f.facility, f.open, f.reserved, f.booked, f.other) for f in slots] == [
        ("North clinic", 2, 1, 1, 1),
        ("South & Sons", 0, 0, 0, 0),
    ]
    assert "South &amp; Sons" in render(model(database, now=now))


def test_an_empty_database_says_so(database: DatabaseUnderTest) -> None:
    page = model(database)

    html = render(page, refresh=60)

    assert not page.has_runs
    assert page.runs == ()
    assert [(panel.job, panel.badge) for panel in page.jobs] == [
        ("generate", "late"),
        ("release", "late"),
    ]
    assert "No runs recorded yet" in html
    assert "never ran" in html
    assert '<meta http-equiv="refresh" content="60">' in html
    assert "http-equiv" not in render(page, refresh=0)


def test_database_text_is_escaped(database: DatabaseUnderTest) -> None:
    failed(database, HOUR, job="<b>job</b>")
    run(database, 2 * HOUR, status="failed", error=XSS)

    html = render(model(database))

    assert "<script" not in html
    assert "<b>job" not in html
    assert "&lt;script&gt;document.title=&#x27;XSS-RAN&#x27;" in html
    assert "&lt;b&gt;job&lt;/b&gt;" in html


# The command


def test_writes_the_page_atomically(database: DatabaseUnderTest, tmp_path: Path) -> None:
    add_run(database.engine, started_at=datetime.now(UTC) - HOUR, finished_at=datetime.now(UTC))
    target = tmp_path / "www" / "index.html"
    target.parent.mkdir()

    first = run_cli("dashboard", "--output", str(target), "--database-url", database.url)
    target.chmod(0o640)
    second = run_cli(
        "dashboard", "-o", str(target), "--refresh", "0", "--zone", "Asia/Kolkata",
        "--database-url", database.url,
    )  # fmt: skip

    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 0, second.stderr
    assert first.stdout == second.stdout == ""
    html = target.read_text()
    assert "Times are in Asia/Kolkata." in html
    assert "http-equiv" not in html
    assert "healthy" in html
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(target.parent) == ["index.html"]


def test_a_new_page_is_readable_by_a_web_server(tmp_path: Path) -> None:
    target = tmp_path / "index.html"

    result = run_cli("dashboard", "--output", str(target))

    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "x.html", "--serve"], "Error: --output and --serve do not go together"),
        ([], "Error: give --output FILE.html to write the page, or --serve"),
        (["--output", "{tmp}/missing/index.html"], "Error: --output: the folder "),
        (["--output", "{tmp}"], "is a folder"),
        (["--output", "x.html", "--zone", "Mars/Olympus"], "Error: --zone: unknown time zone"),
        (["--serve", "--max-age", "generate"], "Error: --max-age: bad max age"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli("dashboard", *(arg.replace("{tmp}", str(tmp_path)) for arg in args))

    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "missing").exists()


# The server


@contextmanager
def serving(render_page: Callable[[], str]) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, render_page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_server_builds_the_page_per_request_and_only_reads() -> None:
    calls: list[int] = []

    def page() -> str:
        calls.append(1)
        return f"<p>page {len(calls)}</p>"

    with serving(page) as url:
        first = fetch(url + "/")
        second = fetch(url + "/index.html?x=1")
        head = fetch(url + "/", "HEAD")
        post = fetch(url + "/", "POST")
        odd = fetch(url + "/", "PURGE")
        missing = fetch(url + "/favicon.ico")

    assert first[0] == 200
    assert first[1]["Content-Type"] == "text/html; charset=utf-8"
    assert (first[2], second[2]) == ("<p>page 1</p>", "<p>page 2</p>")
    assert head[0] == 200
    assert head[2] == ""
    assert post[0] == odd[0] == 405
    assert post[1]["Allow"] == "GET, HEAD"
    assert missing[0] == 404
    assert len(calls) == 3


def test_a_page_that_cannot_be_built_is_a_one_line_500() -> None:
    def broken() -> str:
        raise RuntimeError("secret detail /srv/app.py line 3")

    with serving(broken) as url:
        status, _, body = fetch(url + "/")

    assert status == 500
    assert body.count("\n") == 1
    assert "Traceback" not in body
    assert "secret detail" not in body


def test_serve_on_another_host_warns_that_there_is_no_authentication(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(self: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("slotgen.web.server.DashboardServer.serve_forever", interrupted)

    public = run_cli("dashboard", "--serve", "--host", "0.0.0.0", "--port", "0")
    private = run_cli("dashboard", "--serve", "--port", "0")

    assert public.exit_code == 0, public.stderr
    assert "no authentication" in public.stderr
    assert "no authentication" not in private.stderr
    assert re.search(r"Serving the dashboard at http://127\.0\.0\.1:\d+/", private.stderr)
