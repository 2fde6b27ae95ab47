"""Runs on record with real processes: crashes, overlap, killed connections, retries, secrets."""

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from slotgen.db.schema import job_runs
from slotgen.errors import ExitCode
from slotgen.services.params import ReleaseParams
from slotgen.services.runner import RunOptions, run_job
from slotgen.vocabulary import Trigger
from tests.conftest import DatabaseUnderTest
from tests.factories import (
    add_doctor,
    add_facility,
    add_rule,
    add_slots,
    doctor_held,
    run_rows,
    slot_keys,
    slots,
)
from tests.helpers import CliResult, run_cli, run_installed, start_installed, wait_for

LEASE_SECONDS = 3
"""Short, for tests that wait for a killed run's lease to run out (waiting longer is safe)."""
LONG_LEASE = 600
"""For tests whose outcome must not depend on start-up time: they age heartbeats by hand."""
SERVERS = ["postgresql", "mariadb"]


def start(
    database: DatabaseUnderTest, *args: str, lease: int = LEASE_SECONDS
) -> "subprocess.Popen[str]":
    return start_installed(
        *args, "--database-url", database.url, env={"SLOTGEN_LEASE_SECONDS": str(lease)}
    )


def run(database: DatabaseUnderTest, *args: str, lease: int = LEASE_SECONDS) -> CliResult:
    return run_installed(
        *args, "--database-url", database.url, env={"SLOTGEN_LEASE_SECONDS": str(lease)}
    )


def runs(database: DatabaseUnderTest) -> list[Any]:
    return run_rows(database.engine)


def running(database: DatabaseUnderTest) -> bool:
    return any(row.status == "running" for row in runs(database))


def age_heartbeats(database: DatabaseUnderTest, by: timedelta) -> None:
    """Make every running row's heartbeat `by` older: the lease running out, without the wait."""
    with database.engine.begin() as connection:
        connection.execute(
            update(job_runs)
            .where(job_runs.c.status == "running")
            .values(heartbeat_at=datetime.now(UTC) - by)
        )


def any_slot(database: DatabaseUnderTest) -> bool:
    return bool(slots(database.engine))


def kill(process: "subprocess.Popen[str]") -> None:
    assert process.poll() is None, "the run ended before it could be killed mid-run"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


GENERATE = ("generate", "--start-date", "2083-03-01", "--days", "60", "--json")


def test_killed_generate_is_abandoned_and_the_next_run_finishes_the_work(
    busy_clinic: DatabaseUnderTest,
) -> None:
    database = busy_clinic
    # On a server the last doctor's row is held, so the run cannot finish before it is
    # killed; SQLite has no row locks, and a year keeps its first run busy when it dies.
    days = 366 if database.backend == "sqlite" else 60
    args = ("generate", "--start-date", "2083-03-01", "--days", str(days), "--json")
    with ExitStack() as held:
        if database.backend != "sqlite":
            held.enter_context(doctor_held(database.engine, last=True))
        process = start(database, *args)
        wait_for(lambda: any_slot(database))
        kill(process)
    if database.backend == "sqlite":
        time.sleep(LEASE_SECONDS + 0.5)

    again = run(database, *args)

    assert again.exit_code == 0, again.stderr
    assert [(row.status, row.job) for row in runs(database)] == [
        ("abandoned", "generate"),
        ("succeeded", "generate"),
    ]
    assert runs(database)[0].finished_at is not None
    keys = slot_keys(database.engine)
    first = date(2083, 3, 1)
    weekdays = sum((first + timedelta(days=n)).weekday() < 5 for n in range(days + 1))
    assert len(keys) == 120 * weekdays * 40
    check = json.loads(run(database, *args, "--dry-run").stdout)
    assert (check["created"], check["updated"], check["removed"]) == (0, 0, 0)


@pytest.mark.parametrize("job", ["release", "generate"])
def test_second_run_of_a_job_at_work_is_skipped(busy_clinic: DatabaseUnderTest, job: str) -> None:
    database = busy_clinic
    add_slots(database.engine, 5000, reserved_until=datetime.now(UTC) - timedelta(minutes=1))
    args = ("release", "--batch-size", "1", "--json") if job == "release" else GENERATE
    if job == "generate" and database.backend == "sqlite":
        # The embedded database writes fastest: give the first run enough to still be at it.
        args = ("generate", "--start-date", "2083-03-01", "--days", "366", "--json")
    # A lease long enough that the first run's heartbeat, which waits for SQLite's write
    # lock while a chunk is written, stays fresh.
    first = start(database, *args, lease=120)
    wait_for(lambda: running(database))

    second = run(database, *args, lease=120)

    assert second.exit_code == 0, second.stderr
    assert json.loads(second.stdout)["status"] == "skipped"
    assert "already running" in second.stderr
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert json.loads(out)["status"] == "succeeded"
    assert sorted(row.status for row in runs(database)) == ["skipped", "succeeded"]


def test_generate_and_release_may_run_at_the_same_time(backlog: DatabaseUnderTest) -> None:
    first = start(backlog, "release", "--batch-size", "1")
    wait_for(lambda: running(backlog))
    other = run(backlog, "generate")
    assert other.exit_code == 0, other.stderr
    first.communicate(timeout=300)
    assert {(row.job, row.status) for row in runs(backlog)} == {
        ("release", "succeeded"),
        ("generate", "succeeded"),
    }


def test_lock_of_a_killed_run_is_free_at_once_on_servers_and_after_the_lease_on_sqlite(
    backlog: DatabaseUnderTest,
) -> None:
    # A lease far longer than any start-up: the test moves the clock of the heartbeat
    # itself, so how fast the machine is cannot matter.
    process = start(backlog, "release", "--batch-size", "1", lease=LONG_LEASE)
    wait_for(lambda: running(backlog))
    kill(process)

    right_away = run(backlog, "release", "--json", lease=LONG_LEASE)

    if backlog.backend == "sqlite":
        assert json.loads(right_away.stdout)["status"] == "skipped"
        age_heartbeats(backlog, timedelta(seconds=LONG_LEASE + 1))
        after_lease = run(backlog, "release", "--json", lease=LONG_LEASE)
        assert json.loads(after_lease.stdout)["status"] == "succeeded"
        expected = ["abandoned", "skipped", "succeeded"]
    else:
        assert json.loads(right_away.stdout)["status"] == "succeeded"
        expected = ["abandoned", "succeeded"]
    assert [row.status for row in runs(backlog)] == expected


@pytest.mark.parametrize(
    ("beat_seconds_ago", "sqlite_status"),
    [(60, "skipped"), (LONG_LEASE + 60, "succeeded")],
)
def test_lease_boundary(
    database: DatabaseUnderTest, beat_seconds_ago: int, sqlite_status: str
) -> None:
    """A 'running' row is the lock on SQLite while its heartbeat is fresher than the lease;
    on the servers only the lock counts, so the row is abandoned at once."""
    beat = datetime.now(UTC) - timedelta(seconds=beat_seconds_ago)
    with database.engine.begin() as connection:
        connection.execute(
            insert(job_runs).values(
                job="release", status="running", started_at=beat, heartbeat_at=beat
            )
        )
    result = run(database, "release", "--json", lease=LONG_LEASE)
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)["status"]
    statuses = [row.status for row in runs(database)]
    if database.backend == "sqlite" and sqlite_status == "skipped":
        assert (status, statuses) == ("skipped", ["running", "skipped"])
    else:
        assert (status, statuses) == ("succeeded", ["abandoned", "succeeded"])


UNKNOWN_THREAD = 1094
"""MariaDB's error for a KILL of a connection that has already closed."""


def kill_connections(database: DatabaseUnderTest, spare: int | None = None) -> int:
    """Kill every other connection to the test database, as a DBA or a failover would,
    but the test's own `spare` one."""
    with database.engine.connect() as connection:
        if database.backend == "postgresql":
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND pid <> :spare"
                    ),
                    {"spare": spare or 0},
                ).all()
            )
        ids = connection.scalars(
            text(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = database() AND id <> connection_id() AND id <> :spare"
            ),
            {"spare": spare or 0},
        ).all()
        killed = 0
        for connection_id in ids:
            try:
                connection.execute(text(f"KILL CONNECTION {int(connection_id)}"))
                killed += 1
            except OperationalError as exc:
                if exc.orig is None or exc.orig.args[0] != UNKNOWN_THREAD:
                    raise  # anything but "it ended between the listing and the kill"
        return killed


def _kill_while_running(database: DatabaseUnderTest, *args: str) -> tuple[int, str, str]:
    # The last doctor's row is held, so the run cannot finish before it loses a connection.
    with doctor_held(database.engine, last=True) as holder:
        process = start(database, *args)
        wait_for(lambda: any_slot(database))
        assert process.poll() is None, "the run ended before its connection could be killed"
        # A connection killed while idle in the pool is replaced unnoticed (pre-ping); keep
        # killing until the run loses one in the middle of a transaction.
        while process.poll() is None and not any(r.status == "failed" for r in runs(database)):
            kill_connections(database, spare=holder)
            time.sleep(0.05)
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_killed_connection_is_recorded_failed_and_tries_finish_the_work(
    busy_clinic: DatabaseUnderTest,
) -> None:
    # The second attempt starts after a backoff far longer than the test takes to see the
    # first one recorded failed and stop killing connections.
    code, out, err = _kill_while_running(busy_clinic, *GENERATE, "--tries", "2", "--backoff", "5")
    assert code == 0, err
    rows = runs(busy_clinic)
    assert [(r.status, r.attempt) for r in rows] == [("failed", 1), ("succeeded", 2)]
    assert rows[1].retry_of == rows[0].id
    assert rows[0].error
    assert "Traceback" in (rows[0].details or "")
    assert json.loads(out)["run_id"] == rows[1].id
    assert len(slot_keys(busy_clinic.engine)) == 120 * 45 * 40


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_killed_connection_then_slotgen_retry_finishes_the_work(
    busy_clinic: DatabaseUnderTest,
) -> None:
    code, _, err = _kill_while_running(busy_clinic, *GENERATE)
    assert code == ExitCode.UNAVAILABLE, "a connection lost mid-run: the database went away"
    assert err.splitlines()[-1].startswith("Error: run ")
    assert "Traceback" not in err
    failed = runs(busy_clinic)[0]
    assert failed.status == "failed"

    retried = run(busy_clinic, "retry", str(failed.id), "--json")

    assert retried.exit_code == 0, retried.stderr
    rows = runs(busy_clinic)
    assert [(r.status, r.trigger, r.retry_of) for r in rows[1:]] == [
        ("succeeded", "retry", failed.id)
    ]
    assert rows[1].params == failed.params
    assert len(slot_keys(busy_clinic.engine)) == 120 * 45 * 40
    again = run(busy_clinic, "retry", str(failed.id), "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["retries"][0]["status"] == "skipped"
    assert "already retried successfully" in (runs(busy_clinic)[-1].error or "")
    nothing_left = run(busy_clinic, "retry", "--all-failed")
    assert nothing_left.stdout.strip() == "No failed runs to retry."


class Flaky:
    """A job that fails its first `failures` calls: the clock and the job are ours, the
    database is real."""

    params = ReleaseParams(batch_size=1)

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def check(self, engine: Any, now: datetime) -> None:
        pass

    def run(self, engine: Any, now: datetime, checkpoint: Any) -> "_Done":
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"transient failure {self.calls}")
        return _Done()


class _Done:
    ok = True

    def stats(self) -> dict[str, Any]:
        return {"released": 7}

    def details(self) -> str | None:
        return None

    def summary(self) -> str:
        return "Released 7"


def test_tries_record_each_attempt_and_the_last_one_decides(database: DatabaseUnderTest) -> None:
    sleeps: list[float] = []
    options = RunOptions(Trigger.CRON, tries=3, backoff_seconds=2)
    outcome = run_job(database.opened, Flaky(2), options, sleep=sleeps.append)
    rows = runs(database)
    assert [(r.attempt, r.status, r.trigger) for r in rows] == [
        (1, "failed", "cron"),
        (2, "failed", "cron"),
        (3, "succeeded", "cron"),
    ]
    assert [r.retry_of for r in rows] == [None, rows[0].id, rows[1].id]
    assert rows[0].error == "RuntimeError: transient failure 1"
    assert rows[2].stats == {"released": 7}
    assert (outcome.status, outcome.exit_code, outcome.attempts) == ("succeeded", 0, 3)
    assert 1 <= sleeps[0] <= 2
    assert 2 <= sleeps[1] <= 4, "the backoff doubles"


def test_last_failure_exits_1_and_bad_input_is_never_retried(
    database: DatabaseUnderTest,
) -> None:
    options = RunOptions(Trigger.MANUAL, tries=2, backoff_seconds=0)
    outcome = run_job(database.opened, Flaky(5), options, sleep=lambda _: None)
    assert (outcome.status, outcome.exit_code, outcome.attempts) == ("failed", 1, 2)

    result = run_cli(
        "generate", "--facility", "999", "--tries", "3", "--database-url", database.url
    )
    assert result.exit_code == 2
    assert "unknown facility id 999" in result.stderr
    assert [row for row in runs(database) if row.job == "generate"] == [], (
        "bad input is refused before any run is recorded"
    )


class Monitor(BaseHTTPRequestHandler):
    heard: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        Monitor.heard.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def monitor() -> Iterator[str]:
    Monitor.heard = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Monitor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ping/abc"
    server.shutdown()
    server.server_close()


def test_monitor_hears_start_and_outcome_of_every_run(
    database: DatabaseUnderTest, monitor: str
) -> None:
    ok = run_cli("release", "--ping-url", monitor, "--json", "--database-url", database.url)
    assert ok.exit_code == 0
    run_id = json.loads(ok.stdout)["run_id"]
    mars = add_facility(database.engine, "Mars base", "Mars/Olympus_Mons")
    add_rule(database.engine, mars, add_doctor(database.engine), 1)
    skipped_a_row = run_cli("generate", "--ping-url", monitor, "--database-url", database.url)
    assert skipped_a_row.exit_code == 1
    failed_id = runs(database)[-1].id
    bad_input = run_cli(
        "generate", "--facility", "42", "--ping-url", monitor, "--database-url", database.url
    )
    assert bad_input.exit_code == 2
    assert Monitor.heard == [
        f"/ping/abc/start?rid={run_id}",
        f"/ping/abc?rid={run_id}",
        f"/ping/abc/start?rid={failed_id}",
        f"/ping/abc/1?rid={failed_id}",
    ], "bad input is refused before a run exists, so the monitor hears nothing of it"


def test_unreachable_monitor_never_fails_the_run(database: DatabaseUnderTest) -> None:
    result = run_cli(
        "release", "--ping-url", "http://127.0.0.1:9/nothing", "--database-url", database.url
    )
    assert result.exit_code == 0
    assert [row.status for row in runs(database)] == ["succeeded"]


MARKER = "Sesame-7f3c91"


def slot_owner(database: DatabaseUnderTest) -> tuple[int, int]:
    with database.engine.connect() as connection:
        return (
            int(connection.scalar(text("SELECT min(id) FROM facilities")) or 0),
            int(connection.scalar(text("SELECT min(id) FROM doctors")) or 0),
        )


def url_with_password(database: DatabaseUnderTest, in_query: bool) -> str:
    url = make_url(database.url)
    if database.backend == "mariadb":
        with database.engine.begin() as connection:
            connection.execute(
                text(f"CREATE USER IF NOT EXISTS 'slotgen_marker'@'%' IDENTIFIED BY '{MARKER}'")
            )
            connection.execute(text(f"GRANT ALL ON {url.database}.* TO 'slotgen_marker'@'%'"))
        url = url.set(username="slotgen_marker")
    if in_query:
        return url.update_query_dict({"password": MARKER}).render_as_string(hide_password=False)
    return url.set(password=MARKER).render_as_string(hide_password=False)


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
@pytest.mark.parametrize("in_query", [False, True], ids=["userinfo", "query"])
def test_password_appears_in_no_log_output_or_row(
    busy_clinic: DatabaseUnderTest, in_query: bool, tmp_path: Path
) -> None:
    url = url_with_password(busy_clinic, in_query)
    log = tmp_path / "slotgen.log"
    facility, doctor = slot_owner(busy_clinic)
    add_rule(busy_clinic.engine, facility, doctor, 1, "10:00", "09:00", 15)  # logged, recorded
    seen = []
    for args in (
        ("generate", "--days", "3"),
        ("generate", "--facility", "999"),
        ("release",),
        ("holidays", "sync", "--years", "2083"),
        ("db", "info"),
        ("runs", "--json"),
    ):
        result = run_installed("-v", "--log-file", str(log), *args, "--database-url", url)
        seen += [result.stdout, result.stderr]
    seen.append(log.read_text())
    seen += [str(tuple(row)) for row in runs(busy_clinic)]
    assert any("Skipped availability_rules" in text_ for text_ in seen), "the bad rule was logged"
    assert any("unknown facility id 999" in text_ for text_ in seen)
    assert len(runs(busy_clinic)) == 3, "three runs on record; bad input is refused before one"
    assert all(MARKER not in text_ for text_ in seen)
