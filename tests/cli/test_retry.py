"""`slotgen retry`: what counts as put right, and what a recorded run says about itself."""

import json
from datetime import UTC, datetime, timedelta

from tests.conftest import DatabaseUnderTest
from tests.factories import add_run, run_rows
from tests.helpers import run_cli

NOW = datetime.now(UTC).replace(microsecond=0)


def test_all_failed_leaves_a_chain_that_a_retry_already_put_right(
    database: DatabaseUnderTest,
) -> None:
    """Two attempts of one night failed; `slotgen retry` of the first one succeeded. The
    second attempt is a failure of the same chain: nothing is left to retry."""
    first = add_run(
        database.engine, status="failed", attempt=1, started_at=NOW - timedelta(hours=5)
    )
    add_run(
        database.engine,
        status="failed",
        attempt=2,
        retry_of=first,
        started_at=NOW - timedelta(hours=4),
    )
    add_run(
        database.engine,
        status="succeeded",
        trigger="retry",
        retry_of=first,
        started_at=NOW - timedelta(hours=3),
        params={"days": 1},
    )
    unrelated = add_run(database.engine, status="failed", started_at=NOW - timedelta(hours=2))

    result = run_cli("retry", "--all-failed", "--json", "--database-url", database.url)

    retried = json.loads(result.stdout)["retries"]
    assert [entry["retry_of"] for entry in retried] == [unrelated]
    assert len(run_rows(database.engine)) == 5


def test_an_abandoned_runs_duration_is_how_long_it_worked(database: DatabaseUnderTest) -> None:
    started = NOW - timedelta(hours=10)
    add_run(
        database.engine,
        status="abandoned",
        started_at=started,
        heartbeat_at=started + timedelta(minutes=12),
        finished_at=NOW,
    )

    result = run_cli("runs", "--json", "--database-url", database.url)

    (run,) = json.loads(result.stdout)["runs"]
    assert run["duration_seconds"] == 12 * 60
