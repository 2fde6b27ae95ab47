"""A run that loses its job mid-run stops there, says why, and never overwrites a verdict.

On PostgreSQL and MariaDB the job's lock lives on one connection: when a DBA, a failover
or a server's idle timeout ends that connection, the server frees the lock and a second
run may start. On every backend a run whose row another run has marked abandoned has lost
the job too. Each test holds the run at a known point with a row lock the run's insert
must wait for, so what the test does happens while the run is at work, on any machine.
"""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import make_url

from slotgen.db.locks import lock_name
from slotgen.db.schema import job_runs
from slotgen.errors import ExitCode
from tests.conftest import DatabaseUnderTest
from tests.factories import doctor_held, end_connection, run_rows, slot_keys
from tests.helpers import run_installed, start_installed, wait_for

SERVERS = ["postgresql", "mariadb"]
GENERATE = ("generate", "--start-date", "2083-03-01", "--days", "60", "--json")
EVERY_SLOT = 120 * 45 * 40
"""busy_clinic over GENERATE's range: 120 doctors, 45 weekdays, 40 slots a day."""


def running_row(database: DatabaseUnderTest) -> Any:
    rows = [row for row in run_rows(database.engine) if row.status == "running"]
    return rows[0] if rows else None


def lock_holder(database: DatabaseUnderTest, job: str) -> int | None:
    """The server's id of the connection that holds the job's lock, or None."""
    with database.engine.connect() as connection:
        if database.backend == "postgresql":
            found = connection.scalar(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                    "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        else:
            name = lock_name(make_url(database.url).database, job)
            found = connection.scalar(text("SELECT IS_USED_LOCK(:name)"), {"name": name})
    return None if found is None else int(found)


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_a_run_whose_lock_connection_is_killed_stops_and_the_next_run_finishes(
    busy_clinic: DatabaseUnderTest,
) -> None:
    url = busy_clinic.url
    with doctor_held(busy_clinic.engine):
        process = start_installed(*GENERATE, "--database-url", url)
        wait_for(
            lambda: (
                running_row(busy_clinic) is not None
                and lock_holder(busy_clinic, "generate") is not None
            )
        )
        holder = lock_holder(busy_clinic, "generate")
        assert holder is not None
        assert process.poll() is None
        end_connection(busy_clinic.engine, holder)
        assert lock_holder(busy_clinic, "generate") is None, "the server freed the lock"
    _out, err = process.communicate(timeout=300)

    assert process.returncode == ExitCode.UNAVAILABLE, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: run ")
    assert "lost the generate lock" in last
    assert "Traceback" not in err
    (row,) = run_rows(busy_clinic.engine)
    assert row.status == "failed"
    assert "lost the generate lock" in (row.error or "")
    assert len(slot_keys(busy_clinic.engine)) < EVERY_SLOT, "it stopped mid-run"

    again = run_installed(*GENERATE, "--database-url", url)

    assert again.exit_code == 0, again.stderr
    assert [row.status for row in run_rows(busy_clinic.engine)] == ["failed", "succeeded"]
    assert len(slot_keys(busy_clinic.engine)) == EVERY_SLOT


def mark_abandoned(database: DatabaseUnderTest) -> None:
    """What a second run does to the first when the first one's heartbeat is late."""
    with database.engine.begin() as connection:
        connection.execute(
            update(job_runs)
            .where(job_runs.c.status == "running")
            .values(status="abandoned", error=MARKED)
        )


MARKED = "abandoned: marked by another run"


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_a_run_marked_abandoned_by_another_stops_at_its_next_chunk(
    busy_clinic: DatabaseUnderTest, tmp_path: Path
) -> None:
    log = tmp_path / "slotgen.log"
    with doctor_held(busy_clinic.engine):
        process = start_installed(
            "--log-file",
            str(log),
            *GENERATE,
            "--database-url",
            busy_clinic.url,
            env={"SLOTGEN_LEASE_SECONDS": "2"},
        )
        wait_for(lambda: running_row(busy_clinic) is not None)
        mark_abandoned(busy_clinic)
        # The heartbeat (every half second) notices while the first chunk waits for us.
        wait_for(lambda: log.exists() and "marked abandoned by another run" in log.read_text())
    _out, err = process.communicate(timeout=300)

    assert process.returncode == ExitCode.FAILED, err
    assert "marked abandoned by another run" in err.strip().splitlines()[-1]
    assert "Traceback" not in err
    (row,) = run_rows(busy_clinic.engine)
    assert (row.status, row.error) == ("abandoned", MARKED), "the other run's verdict stands"
    assert len(slot_keys(busy_clinic.engine)) < EVERY_SLOT, "it stopped after its first chunk"


def test_a_run_marked_abandoned_never_overwrites_that_verdict(backlog: DatabaseUnderTest) -> None:
    """Whether the run learns it at a heartbeat or only when it records its outcome, the
    row stays as the other run left it, and the run exits 1."""
    process = start_installed(
        "release",
        "--batch-size",
        "1",
        "--database-url",
        backlog.url,
        env={"SLOTGEN_LEASE_SECONDS": "2"},
    )
    wait_for(lambda: running_row(backlog) is not None)
    mark_abandoned(backlog)
    _, err = process.communicate(timeout=300)

    assert process.returncode == ExitCode.FAILED, err
    assert "abandoned" in err.strip().splitlines()[-1]
    assert "Traceback" not in err
    (row,) = run_rows(backlog.engine)
    assert (row.status, row.error) == ("abandoned", MARKED)
