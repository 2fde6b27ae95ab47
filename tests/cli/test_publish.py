"""`slotgen publish` as ops run it: the demo's feed, bad input, a reader during a publish."""

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from slotgen.db.schema import availability_rules
from tests.conftest import DatabaseUnderTest
from tests.feed import MANIFEST, read_feed, snapshot
from tests.helpers import run_cli, run_installed, start_installed

BASE = "http://127.0.0.1:8765/fhir"
DEMO_ZONES = {1: "Europe/Berlin", 2: "America/New_York", 3: "Asia/Kathmandu"}


@pytest.fixture
def demo(database: DatabaseUnderTest) -> DatabaseUnderTest:
    result = run_cli("demo", "--database-url", database.url, "--yes-this-is-not-production")
    assert result.exit_code == 0, result.stderr
    return database


def test_the_demo_published_validates_and_says_what_it_wrote(
    demo: DatabaseUnderTest, tmp_path: Path
) -> None:
    folder = tmp_path / "feed"

    result = run_installed(
        "publish",
        "--output",
        str(folder),
        "--base-url",
        BASE,
        env={"SLOTGEN_DATABASE_URL": demo.url},
    )
    again = run_cli(
        "publish", "-o", str(folder), "--base-url", BASE, "--json", "--database-url", demo.url
    )

    assert result.exit_code == 0, result.stderr
    r = availability_rules.c
    with demo.engine.connect() as connection:
        pairs = len(connection.execute(select(r.facility_id, r.doctor_id).distinct()).all())
    assert result.stdout.startswith(f"Published 3 locations, {pairs} schedules, ")
    assert "Warning" not in result.stderr  # the sample clinic has its contact data
    feed = read_feed(folder, BASE, DEMO_ZONES)
    assert {slot["status"] for slot in feed.slots} == {"free", "busy"}
    assert again.exit_code == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["changed"] is False
    assert report["transaction_time"] == feed.manifest["transactionTime"]
    assert report["slots"]["free"] + report["slots"]["busy"] == len(feed.slots)


def test_facility_narrows_the_published_feed(demo: DatabaseUnderTest, tmp_path: Path) -> None:
    result = run_cli(
        "publish",
        "-o",
        str(tmp_path / "feed"),
        "--base-url",
        BASE,
        "--facility",
        "3",
        "--database-url",
        demo.url,
    )

    assert result.exit_code == 0, result.stderr
    feed = read_feed(tmp_path / "feed", BASE, DEMO_ZONES)
    assert [location["name"] for location in feed.resources["Location"]] == ["Kathmandu Thamel"]
    assert {slot["start"][-6:] for slot in feed.slots} == {"+05:45"}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--base-url", "ftp://clinic.example.org/fhir"], "is not an http(s) URL"),
        (["--base-url", "clinic.example.org/fhir"], "is not an http(s) URL"),
        (["--booking-url", "https://clinic.example.org/book"], "has no placeholder"),
        (["--booking-url", "https://x.example/book?p={patient}"], "unknown placeholder {patient}"),
        (["--booking-url", "https://x.example/book?s={slot_id:>5}"], "unknown placeholder"),
        (["--facility", "999"], "unknown facility id 999"),
        (["--output", "{file}/feed"], "--output: cannot write in"),
        (["--output", "{file}"], "is not a folder"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_the_feed_in_place_untouched(
    demo: DatabaseUnderTest, tmp_path: Path, args: list[str], error: str
) -> None:
    folder = tmp_path / "feed"
    first = run_cli("publish", "-o", str(folder), "--base-url", BASE, "--database-url", demo.url)
    assert first.exit_code == 0, first.stderr
    before = snapshot(folder)
    afile = tmp_path / "a-file"
    afile.write_text("not a folder\n")
    args = [arg.replace("{file}", str(afile)) for arg in args]
    defaults = {"--output": str(folder), "--base-url": BASE}
    for option in args[::2]:
        defaults.pop(option, None)

    result = run_cli(
        "publish",
        *(a for pair in defaults.items() for a in pair),
        *args,
        "--database-url",
        demo.url,
    )

    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert error in lines[0]
    assert snapshot(folder) == before


def test_a_reader_never_sees_a_manifest_naming_a_missing_file(
    demo: DatabaseUnderTest, tmp_path: Path
) -> None:
    """Publishes that add and drop weeks run while a reader polls as an aggregator would."""
    folder = tmp_path / "feed"
    first = run_cli("publish", "-o", str(folder), "--base-url", BASE, "--database-url", demo.url)
    assert first.exit_code == 0, first.stderr
    stop = threading.Event()
    seen: list[int] = []
    missing: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            manifest = json.loads((folder / MANIFEST).read_text())
            names = [item["url"][len(BASE) + 1 :] for item in manifest["output"]]
            missing.extend(name for name in names if not (folder / name).is_file())
            seen.append(len(names))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for days in ("3", "20", "0", "30"):
            publisher = start_installed(
                "publish",
                "-o",
                str(folder),
                "--base-url",
                BASE,
                "--days",
                days,
                env={"SLOTGEN_DATABASE_URL": demo.url},
            )
            _, stderr = publisher.communicate(timeout=300)
            assert publisher.returncode == 0, stderr
    finally:
        stop.set()
        thread.join()

    assert missing == []
    assert len(set(seen)) >= 3  # the reader saw the feed grow and shrink
    read_feed(folder, BASE, DEMO_ZONES)
    assert not list(folder.rglob("*.tmp"))


def test_a_publish_killed_midway_leaves_the_previous_feed_whole(
    demo: DatabaseUnderTest, tmp_path: Path
) -> None:
    folder = tmp_path / "feed"
    first = run_cli("publish", "-o", str(folder), "--base-url", BASE, "--database-url", demo.url)
    assert first.exit_code == 0, first.stderr
    before = snapshot(folder)
    leftover = folder / "slots" / ".facility-1-2099-W01.ndjson.abc.tmp"
    leftover.write_text("half a file")  # what a publish killed with SIGKILL leaves behind

    again = run_cli("publish", "-o", str(folder), "--base-url", BASE, "--database-url", demo.url)

    assert again.exit_code == 0, again.stderr
    assert not leftover.exists()
    assert snapshot(folder) == before


def test_serving_a_feed_folder_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    result = run_cli("dashboard", "--serve", "--port", "0", "--feed", str(tmp_path / "nowhere"))

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: --feed: {tmp_path / 'nowhere'} is not a folder; run `slotgen publish "
        "--output` there first"
    ]
