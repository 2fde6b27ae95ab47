"""The dashboard in a real browser: headless Chromium renders the written file and the
served page, an injected script stays text, and screenshots are kept for people to look at.

Chromium is driven through its command line (`--dump-dom`, `--screenshot`), so the tests
need no browser driver package. Without Chromium they skip, unless SLOTGEN_TEST_REQUIRE
is set (CI): there a missing browser is a failure, not a quiet pass.
"""

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slotgen.services import dashboard
from slotgen.web.server import make_server
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_run, add_slot
from tests.helpers import run_cli

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
MARKER = "XSS-RAN"
XSS = (
    f"<script>document.title='{MARKER}';document.body.setAttribute('data-xss','ran')</script>"
    f"<img src=x onerror=\"document.body.setAttribute('data-xss','img')\">"
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
MIN_SCREENSHOT_BYTES = 10_000


@pytest.fixture
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("SLOTGEN_TEST_REQUIRE"):
            pytest.fail(f"{reason}; required because SLOTGEN_TEST_REQUIRE is set", pytrace=False)
        pytest.skip(reason)
    return found


def browse(chromium: str, tmp_path: Path, url: str, *args: str) -> str:
    """Run headless Chromium on `url` with a fresh profile; its stdout."""
    profile = tmp_path / "chromium-profile"
    completed = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def fill(database: DatabaseUnderTest) -> None:
    """A working generate, a release that keeps failing, one failure carrying a script."""
    now = datetime.now(UTC)
    for hours in range(1, 40, 6):
        started = now - timedelta(hours=hours)
        add_run(
            database.engine,
            started_at=started,
            finished_at=started + timedelta(seconds=30 + hours),
            trigger="cron",
            stats={"created": hours, "removed": 1},
        )
    for minutes in (20, 15, 10):
        started = now - timedelta(minutes=minutes)
        add_run(
            database.engine,
            job="release",
            status="failed",
            started_at=started,
            finished_at=started + timedelta(seconds=2),
            error=XSS if minutes == 10 else "database error: connection refused",
        )
    north = add_facility(database.engine, "North clinic")
    lee = add_doctor(database.engine)
    for days in range(1, 6):
        add_slot(database.engine, north, lee, now + timedelta(days=days), status="open")


def assert_rendered_safely(dom: str) -> None:
    assert "healthy" in dom
    assert "failing" in dom
    assert len(re.findall(r'<tr class="failed">', dom)) == 3
    assert len(re.findall(r'<tr class="(?:failed|run)">', dom)) == 10
    assert "North clinic" in dom
    title = re.search(r"<title>(.*?)</title>", dom, re.DOTALL)
    assert title is not None
    assert MARKER not in title[1]
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert "data-xss" not in body[0]
    assert "&lt;script&gt;document.title='XSS-RAN'" in dom


def keep(screenshot: Path, name: str) -> None:
    """A copy outside pytest's temp folder, for CI to keep as an artifact."""
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert screenshot.stat().st_size > MIN_SCREENSHOT_BYTES
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(screenshot, ARTIFACTS / name)


def test_the_written_page_in_a_browser(
    chromium: str, database: DatabaseUnderTest, tmp_path: Path
) -> None:
    fill(database)
    page = tmp_path / "www" / "index.html"
    page.parent.mkdir()
    written = run_cli("dashboard", "--output", str(page), "--database-url", database.url)
    assert written.exit_code == 0, written.stderr

    dom = browse(chromium, tmp_path, page.as_uri(), "--dump-dom")
    wide = tmp_path / "dashboard-1280x800.png"
    browse(chromium, tmp_path, page.as_uri(), f"--screenshot={wide}", "--window-size=1280,800")

    assert_rendered_safely(dom)
    keep(wide, f"dashboard-{database.backend}-1280x800.png")
    if database.backend == "sqlite":
        phone = tmp_path / "dashboard-390x844.png"
        browse(chromium, tmp_path, page.as_uri(), f"--screenshot={phone}", "--window-size=390,844")
        keep(phone, "dashboard-390x844.png")


@pytest.fixture
def served(database: DatabaseUnderTest, tmp_path: Path) -> Iterator[str]:
    request = dashboard.DashboardRequest(zone="UTC")
    opened = database.opened
    server = make_server("127.0.0.1", 0, lambda: dashboard.page(opened, request, datetime.now(UTC)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_served_page_in_a_browser(
    chromium: str, database: DatabaseUnderTest, served: str, tmp_path: Path
) -> None:
    fill(database)

    dom = browse(chromium, tmp_path, served, "--dump-dom")

    assert_rendered_safely(dom)
    assert "Times are in UTC." in dom
