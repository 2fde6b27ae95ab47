"""Ctrl-C and SIGTERM end a run the way it really ended: recorded, unlocked, resumable.

systemd and Kubernetes stop a service with SIGTERM, an operator presses Ctrl-C. The run
finishes the chunk (or batch) in flight, records itself `interrupted` naming the signal,
releases the job's lock and exits 128 + the signal's number; the next run, started at
once, goes ahead and finishes the work.
"""

import signal
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text

from slotgen.db.schema import availability_slots
from tests.conftest import DatabaseUnderTest
from tests.factories import doctor_held, run_rows, slot_keys
from tests.helpers import run_installed, start_installed, wait_for

SERVERS = ["postgresql", "mariadb"]


def running(database: DatabaseUnderTest) -> bool:
    return any(row.status == "running" for row in run_rows(database.engine))


def still_reserved(database: DatabaseUnderTest) -> int:
    with database.engine.connect() as connection:
        query = select(func.count()).where(availability_slots.c.status == "reserved")
        return int(connection.scalar(query) or 0)


@pytest.mark.parametrize(
    ("signal_number", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)]
)
def test_a_signal_stops_the_run_after_its_batch_and_the_next_run_finishes(
    backlog: DatabaseUnderTest, signal_number: int, exit_code: int
) -> None:
    name = signal.Signals(signal_number).name
    # A lease far longer than the test: on SQLite only a row no longer `running` frees
    # the job at once, which is what this test checks.
    lease = {"SLOTGEN_LEASE_SECONDS": "600"}
    process = start_installed(
        "release", "--batch-size", "1", "--json", "--database-url", backlog.url, env=lease
    )
    wait_for(lambda: running(backlog))
    process.send_signal(signal_number)
    _, err = process.communicate(timeout=300)

    assert process.returncode == exit_code, err
    assert f"interrupted by {name}" in err.strip().splitlines()[-1]
    assert "Traceback" not in err
    (row,) = run_rows(backlog.engine)
    assert row.status == "interrupted"
    assert row.error == f"interrupted by {name}: stopped after the chunk in flight"
    assert row.finished_at is not None
    assert still_reserved(backlog) > 0, "it stopped at a batch boundary, not at the end"

    again = run_installed("release", "--json", "--database-url", backlog.url, env=lease)

    assert again.exit_code == 0, again.stderr
    assert [row.status for row in run_rows(backlog.engine)] == ["interrupted", "succeeded"]
    assert still_reserved(backlog) == 0


def waits_for_a_row_lock(database: DatabaseUnderTest) -> bool:
    """Some session is blocked on a row lock: the run is inside its first chunk."""
    with database.engine.connect() as connection:
        if database.backend == "postgresql":
            query = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        else:
            # InnoDB refreshes this table only when it was not read for 0.1 s: poll slower.
            time.sleep(0.2)
            query = text(
                "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
            )
        return bool(connection.scalar(query))


def log_says(path: Any, text: str) -> bool:
    return bool(path.exists() and text in path.read_text())


@pytest.mark.parametrize("migrated_database", SERVERS, indirect=True)
def test_a_second_signal_stops_at_once_and_rolls_the_chunk_back(
    busy_clinic: DatabaseUnderTest, tmp_path: Any
) -> None:
    log = tmp_path / "slotgen.log"
    with doctor_held(busy_clinic.engine):
        process = start_installed(
            "--log-file",
            str(log),
            "generate",
            "--start-date",
            "2083-03-01",
            "--days",
            "60",
            "--database-url",
            busy_clinic.url,
        )
        wait_for(lambda: waits_for_a_row_lock(busy_clinic))
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: log_says(log, "Received SIGTERM"))
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=300)

    assert process.returncode == 143, err
    assert "Traceback" not in err
    (row,) = run_rows(busy_clinic.engine)
    assert row.status == "interrupted"
    assert "stopped at once by a second signal" in (row.error or "")
    assert slot_keys(busy_clinic.engine) == [], "the first chunk was rolled back"
    again = run_installed(
        "generate", "--start-date", "2083-03-01", "--days", "60", "--database-url", busy_clinic.url
    )
    assert again.exit_code == 0, again.stderr
    assert len(slot_keys(busy_clinic.engine)) == 120 * 45 * 40
