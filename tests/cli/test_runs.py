"""`slotgen runs`, `runs show` and `runs prune` on SQLite, PostgreSQL and MariaDB."""

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from slotgen.db.schema import job_runs
from tests.conftest import DatabaseUnderTest
from tests.factories import add_run, utc
from tests.helpers import CliResult, run_cli

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def now() -> datetime:
    """The test's moment: the command's own clock is read a moment later."""
    return datetime.now(UTC)


def runs(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli("runs", "--database-url", database.url, *args)


def runs_json(database: DatabaseUnderTest, *args: str) -> dict[str, Any]:
    result = runs(database, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def sub(database: DatabaseUnderTest, command: str, *args: str) -> CliResult:
    return run_cli("runs", command, *args, "--database-url", database.url)


def listed_ids(output: str) -> list[int]:
    """The run ids in the order the runs table shows them."""
    table = output.split("Runs, newest first", 1)[1]
    return [int(match[1]) for match in re.finditer(r"^\s*(\d+)\s+\w+", table, re.MULTILINE)]


def stored_ids(database: DatabaseUnderTest) -> list[int]:
    with database.engine.connect() as connection:
        return list(connection.scalars(select(job_runs.c.id).order_by(job_runs.c.id)))


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows on one line each, so a test can read a run's cells side by side."""
    monkeypatch.setenv("COLUMNS", "200")


def table_rows(output: str) -> dict[int, str]:
    """The runs table's lines by run id."""
    return {
        int(line.split()[0]): line for line in output.splitlines() if line[:4].strip().isdigit()
    }


@pytest.fixture
def kathmandu(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The operator's zone is Asia/Kathmandu (UTC+05:45) for the test, then back."""
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "Asia/Kathmandu")
        time.tzset()
        yield
    time.tzset()


def test_no_runs_yet_is_said_plainly_and_is_not_an_error(database: DatabaseUnderTest) -> None:
    result = runs(database)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "No runs recorded yet."
    assert runs_json(database) == {"summary": {}, "runs": []}


def test_table_shows_runs_newest_first_with_what_they_did(
    database: DatabaseUnderTest, now: datetime
) -> None:
    engine = database.engine
    # Inserted out of time order: the table must follow started_at, not the id.
    release = add_run(
        engine,
        job="release",
        trigger="cron",
        started_at=now - 2 * HOUR,
        finished_at=now - 2 * HOUR + timedelta(seconds=4),
        stats={"released": 7, "never_expiring": 0, "batches": 1},
    )
    generate = add_run(
        engine,
        trigger="cron",
        started_at=now - 5 * HOUR,
        finished_at=now - 5 * HOUR + timedelta(minutes=1, seconds=5),
        stats={"created": 1240, "updated": 0, "removed": 3, "unchanged": 9, "conflicts": 2},
    )
    failed = add_run(
        engine,
        status="failed",
        trigger="retry",
        attempt=2,
        retry_of=generate,
        started_at=now - HOUR,
        finished_at=now - HOUR + timedelta(seconds=2),
        error="database error: server closed the connection\nTraceback (most recent call last):",
    )
    running = add_run(
        engine,
        job="release",
        status="running",
        trigger="cron",
        started_at=now - 10 * timedelta(minutes=1),
        heartbeat_at=now - timedelta(minutes=3),
    )

    result = runs(database)

    assert result.exit_code == 0, result.stderr
    assert listed_ids(result.stdout) == [running, failed, release, generate]
    rows = table_rows(result.stdout)
    assert "succeeded" in rows[generate]
    assert "1,240 created, 3 removed, 2 conflicts" in rows[generate]
    assert "1m05s" in rows[generate]
    assert "7 released" in rows[release]
    assert "failed" in rows[failed]
    assert "retry," in rows[failed]
    assert "database error: server closed the connection" in result.stdout
    assert "Traceback" not in result.stdout
    assert "running" in rows[running]
    assert "heartbeat 3m" in rows[running]


def test_an_80_column_terminal_still_shows_each_runs_id_status_and_start(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    long_error = "database error: " + "the server closed the connection unexpectedly " * 3
    failed = add_run(
        database.engine, status="failed", started_at=utc(2025, 6, 1, 1, 0), error=long_error
    )
    done = add_run(database.engine, started_at=utc(2025, 6, 1, 2, 0), stats={"created": 3})

    result = runs(database)

    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    rows = table_rows(result.stdout)
    assert re.search(r"generate +failed .*2025-06-01 01:00", rows[failed])
    assert re.search(r"generate +succeeded .*2025-06-01 02:00", rows[done])


def test_started_is_shown_in_the_operators_local_time(
    database: DatabaseUnderTest, kathmandu: None
) -> None:
    run_id = add_run(
        database.engine,
        started_at=utc(2025, 3, 1, 8, 20, 30),
        finished_at=utc(2025, 3, 1, 8, 21),
    )

    table = runs(database)
    shown = sub(database, "show", str(run_id))
    as_json = runs_json(database)

    assert "2025-03-01 14:05" in table.stdout  # 08:20 UTC is 14:05 in Kathmandu
    assert "08:20" not in table.stdout
    assert "2025-03-01 14:05:30 +0545" in shown.stdout
    assert as_json["runs"][0]["started_at"] == "2025-03-01T08:20:30+00:00"


def test_since_reads_a_date_without_offset_as_local_midnight(
    database: DatabaseUnderTest, kathmandu: None
) -> None:
    before = add_run(database.engine, started_at=utc(2025, 2, 28, 18, 0))  # 23:45 local
    after = add_run(database.engine, started_at=utc(2025, 2, 28, 18, 30))  # 00:15 local

    local = runs_json(database, "--since", "2025-03-01")
    explicit = runs_json(database, "--since", "2025-02-28T18:00:00+00:00")

    assert [run["id"] for run in local["runs"]] == [after]
    assert [run["id"] for run in explicit["runs"]] == [after, before]


def test_since_reads_generates_date_words_as_that_local_midnight(
    database: DatabaseUnderTest, kathmandu: None
) -> None:
    today = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    just_before_yesterday = add_run(database.engine, started_at=today - DAY - MINUTE)
    yesterday_morning = add_run(database.engine, started_at=today - DAY + MINUTE)
    this_morning = add_run(database.engine, started_at=today + MINUTE)

    def ids(since: str) -> list[int]:
        return sorted(run["id"] for run in runs_json(database, "--since", since)["runs"])

    assert ids("yesterday") == ids("-1d") == [yesterday_morning, this_morning]
    assert ids("today") == [this_morning]
    assert just_before_yesterday in ids("-1w")


def test_filters_narrow_the_runs_but_not_the_summary(
    database: DatabaseUnderTest, now: datetime
) -> None:
    engine = database.engine
    old = add_run(engine, started_at=now - 3 * DAY)
    failed = add_run(engine, status="failed", started_at=now - 5 * HOUR, error="boom")
    newest = add_run(engine, started_at=now - HOUR)
    release = add_run(engine, job="release", started_at=now - 2 * HOUR)

    def ids(*args: str) -> list[int]:
        return [run["id"] for run in runs_json(database, *args)["runs"]]

    assert ids() == [newest, release, failed, old]
    assert ids("--job", "generate") == [newest, failed, old]
    assert ids("--status", "failed") == [failed]
    assert ids("--since", "24h") == [newest, release, failed]
    assert ids("--since", "2w", "--job", "generate", "--limit", "2") == [newest, failed]
    assert set(runs_json(database, "--status", "failed")["summary"]) == {"generate", "release"}
    assert set(runs_json(database, "--job", "release")["summary"]) == {"release"}

    nothing = runs(database, "--status", "abandoned")
    assert nothing.exit_code == 0
    assert "generate" in nothing.stdout  # the summary still shows
    assert nothing.stderr.strip() == "No runs match these filters."


def test_json_is_one_object_with_stable_keys_and_utc_instants(database: DatabaseUnderTest) -> None:
    first = add_run(
        database.engine,
        trigger="cron",
        params={"days": 30, "dry_run": False},
        stats={"created": 5},
        host="web1",
        pid=4242,
        started_at=utc(2025, 6, 1, 1, 0),
        finished_at=utc(2025, 6, 1, 1, 0, 30),
        heartbeat_at=utc(2025, 6, 1, 1, 0, 30),
    )
    retry = add_run(
        database.engine,
        status="running",
        trigger="retry",
        attempt=2,
        retry_of=first,
        started_at=utc(2025, 6, 1, 2, 0),
    )

    output = runs_json(database)

    assert set(output) == {"summary", "runs"}
    newest, oldest = output["runs"]
    assert newest["id"] == retry
    assert oldest == {
        "id": first,
        "job": "generate",
        "status": "succeeded",
        "trigger": "cron",
        "attempt": 1,
        "retry_of": None,
        "started_at": "2025-06-01T01:00:00+00:00",
        "finished_at": "2025-06-01T01:00:30+00:00",
        "heartbeat_at": "2025-06-01T01:00:30+00:00",
        "duration_seconds": 30.0,
        "host": "web1",
        "pid": 4242,
        "params": {"days": 30, "dry_run": False},
        "stats": {"created": 5},
        "error": None,
    }
    assert (newest["retry_of"], newest["finished_at"], newest["duration_seconds"]) == (
        first,
        None,
        None,
    )
    assert output["summary"]["generate"]["last_success"] == {
        "id": first,
        "status": "succeeded",
        "started_at": "2025-06-01T01:00:00+00:00",
        "finished_at": "2025-06-01T01:00:30+00:00",
        "error": None,
    }
    assert output["summary"]["generate"]["last_run"]["id"] == retry


def test_summary_counts_the_last_day_and_the_last_week(
    database: DatabaseUnderTest, now: datetime
) -> None:
    engine = database.engine
    recent_success = add_run(engine, started_at=now - 23 * HOUR)
    add_run(engine, started_at=now - 25 * HOUR)
    add_run(engine, started_at=now - (7 * DAY - HOUR))
    add_run(engine, started_at=now - (7 * DAY + HOUR))
    failure = add_run(engine, status="failed", started_at=now - HOUR, error="boom\ntraceback")
    add_run(engine, status="abandoned", started_at=now - 3 * DAY)
    skipped = add_run(engine, status="skipped", started_at=now - timedelta(minutes=30))
    add_run(engine, job="release", status="failed", started_at=now - 8 * DAY)

    summary = runs_json(database)["summary"]
    table = runs(database).stdout

    generate = summary["generate"]
    assert (generate["succeeded_24h"], generate["failed_24h"]) == (1, 1)
    assert (generate["succeeded_7d"], generate["failed_7d"]) == (3, 2)
    assert generate["last_run"]["id"] == skipped
    assert generate["last_success"]["id"] == recent_success
    assert generate["last_failure"]["id"] == failure
    assert generate["last_failure"]["error"] == "boom"
    release = summary["release"]
    assert (release["succeeded_7d"], release["failed_7d"], release["last_success"]) == (0, 0, None)
    jobs = table.split("Runs, newest first")[0]
    generate_line = next(line for line in jobs.splitlines() if line.startswith("generate"))
    assert re.search(
        r"skipped 30m\d\ds ago .*23h\d\dm ago .*1h\d\dm ago .*1 / 1 .*3 / 2", generate_line
    )
    release_line = next(line for line in jobs.splitlines() if line.startswith("release"))
    assert re.search(r"failed 8d0\dh ago +never .*0 / 0 .*0 / 0", release_line)


def test_show_tells_the_whole_story_of_one_run(database: DatabaseUnderTest) -> None:
    failed = add_run(
        database.engine,
        status="failed",
        trigger="cron",
        params={"days": 30, "facility_ids": [1, 2]},
        stats={"created": 0, "bad_rows": 1},
        error="rule 7 has an unknown zone\nsecond line",
        details="Traceback (most recent call last):\n  File plan.py, line 1\nKeyError: 'Mars/Base'",
        host="cron-host",
        pid=321,
        started_at=utc(2025, 6, 1, 1, 0),
        finished_at=utc(2025, 6, 1, 1, 2, 3),
    )
    retry = add_run(
        database.engine,
        trigger="retry",
        attempt=2,
        retry_of=failed,
        started_at=utc(2025, 6, 1, 2, 0),
    )

    shown = sub(database, "show", str(failed))
    as_json = json.loads(sub(database, "show", str(failed), "--json").stdout)

    assert shown.exit_code == 0, shown.stderr
    out = shown.stdout
    assert re.search(rf"run +{failed} \(generate\)", out)
    assert re.search(r"status +failed", out)
    assert re.search(rf"retried by +run {retry}", out)
    assert re.search(r"duration +2m03s", out)
    assert "cron-host (pid 321)" in out
    assert '"facility_ids": [\n' in out  # pretty-printed, not one long line
    assert '"bad_rows": 1' in out
    assert "rule 7 has an unknown zone\n" in out
    assert "second line" in out
    assert "KeyError: 'Mars/Base'" in out
    assert as_json["details"].endswith("KeyError: 'Mars/Base'")
    assert as_json["retried_by"] == [retry]
    assert as_json["error"] == "rule 7 has an unknown zone\nsecond line"
    assert {"created_at", "updated_at", "params", "stats", "host", "pid"} <= set(as_json)
    again = json.loads(sub(database, "show", str(retry), "--json").stdout)
    assert (again["retry_of"], again["attempt"], again["trigger"]) == (failed, 2, "retry")


def test_prune_deletes_old_finished_runs_and_never_running_ones(
    database: DatabaseUnderTest, now: datetime
) -> None:
    engine = database.engine
    old = now - 100 * DAY
    chain_start = add_run(engine, status="failed", started_at=old)
    chain_next = add_run(
        engine, status="failed", attempt=2, retry_of=chain_start, started_at=old + HOUR
    )
    stuck = add_run(engine, status="running", started_at=old - DAY)
    old_skip = add_run(engine, status="skipped", started_at=old + 2 * HOUR)
    recent_retry = add_run(engine, trigger="retry", retry_of=chain_next, started_at=now - DAY)
    recent = add_run(engine, job="release", started_at=now - 89 * DAY)

    dry = sub(database, "prune", "--older-than", "90d", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.startswith("Would delete 3 finished runs started before ")
    assert len(stored_ids(database)) == 6

    pruned = sub(database, "prune", "--older-than", "90d")

    assert pruned.exit_code == 0, pruned.stderr
    assert pruned.stdout.startswith("Deleted 3 finished runs started before ")
    assert stored_ids(database) == [stuck, recent_retry, recent]
    assert old_skip not in stored_ids(database)
    shown = json.loads(sub(database, "show", str(recent_retry), "--json").stdout)
    assert shown["retry_of"] is None
    again = json.loads(sub(database, "prune", "--older-than", "90d", "--json").stdout)
    assert again["deleted"] == 0
    assert again["dry_run"] is False
    assert datetime.fromisoformat(again["before"]).utcoffset() == timedelta(0)


def test_prune_works_through_more_runs_than_one_batch(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    monkeypatch.setattr("slotgen.services.runs.PRUNE_BATCH", 2)
    first = add_run(database.engine, status="failed", started_at=now - 40 * DAY)
    for day in range(4):
        add_run(database.engine, retry_of=first, started_at=now - (35 - day) * DAY)
    keep = add_run(database.engine, started_at=now - DAY)

    pruned = sub(database, "prune", "--older-than", "4w", "--json")

    assert json.loads(pruned.stdout)["deleted"] == 5
    assert stored_ids(database) == [keep]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "--since", "someday"), "Error: --since: bad time 'someday'"),
        (("runs", "--since", "7 days"), "Error: --since: bad time '7 days'"),
        (("runs", "--status", "done"), "Error: unknown status 'done'"),
        (("runs", "prune", "--older-than", "3 months"), "Error: --older-than: bad duration"),
        (("runs", "prune", "--older-than", "0d"), "Error: --older-than: bad duration '0d'"),
        (("runs", "show", "999"), "Error: no run with id 999"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    database: DatabaseUnderTest, args: tuple[str, ...], message: str, now: datetime
) -> None:
    kept = add_run(database.engine, started_at=now - 365 * DAY)

    result = run_cli(*args, "--database-url", database.url)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert stored_ids(database) == [kept]
