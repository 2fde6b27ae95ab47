"""`slotgen demo` on a fresh database, twice, and on the embedded default."""

from pathlib import Path

from sqlalchemy import distinct, func, select

from slotgen.db.schema import availability_exceptions, availability_slots, job_runs
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, run_rows, slot_keys
from tests.helpers import run_cli


def test_demo_twice_makes_slots_everywhere_and_puts_both_jobs_on_record(
    database: DatabaseUnderTest,
) -> None:
    first = run_cli("demo", "--database-url", database.url)
    assert first.exit_code == 0, first.stderr
    refused = run_cli("demo", "--database-url", database.url)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: the demo would write a sample clinic"), (
        "one line, and nothing else"
    )
    assert "--yes-this-is-not-production" in refused.stderr
    assert refused.stderr.count("\n") == 1
    second = run_cli("demo", "--yes-this-is-not-production", "--database-url", database.url)
    assert second.exit_code == 0, second.stderr

    assert first.stdout.startswith(
        "Imported 3 facilities, 9 doctors, 4 services, 25 rules, 4 exceptions "
        "(inserted 45, updated 0)"
    )
    assert second.stdout.startswith("Imported 3 facilities")
    assert "(inserted 0, updated 45)" in second.stdout
    assert "(nothing to change)" in second.stdout
    for shown in ("Berlin Mitte", "Brooklyn Heights", "Kathmandu Thamel", "Runs, newest first"):
        assert shown in second.stdout

    s = availability_slots.c
    with database.engine.connect() as connection:
        facilities_with_slots = connection.scalar(select(func.count(distinct(s.facility_id))))
        statuses: dict[str, int] = dict(
            connection.execute(select(s.status, func.count()).group_by(s.status)).all()
        )
        exceptions = connection.scalar(select(func.count()).select_from(availability_exceptions))
        runs = connection.execute(
            select(
                job_runs.c.job, job_runs.c.status, job_runs.c.trigger, job_runs.c.stats
            ).order_by(job_runs.c.id)
        ).all()
    assert facilities_with_slots == 3
    assert statuses["open"] > 500
    assert statuses["booked"] == 3
    assert statuses["reserved"] == 3
    assert exceptions == 4
    assert [(job, status, trigger) for job, status, trigger, _ in runs] == [
        ("generate", "succeeded", "manual"),
        ("release", "succeeded", "manual"),
    ] * 2
    generate_stats, release_stats = runs[0][3], runs[1][3]
    assert generate_stats["created"] > 500
    assert runs[2][3]["created"] == 0
    assert release_stats["released"] == 6
    assert runs[3][3]["released"] == 6


def test_demo_uses_the_embedded_default(hermetic_environment: Path) -> None:
    result = run_cli("demo")
    assert result.exit_code == 0, result.stderr
    assert "Released 6 expired reservations" in result.stdout
    assert (hermetic_environment / ".config" / "slotgen" / "slotgen.db").exists()


def test_demo_refuses_a_database_that_holds_a_schedule_and_writes_nothing(
    database: DatabaseUnderTest,
) -> None:
    """A clinic's real database, named by an exported SLOTGEN_DATABASE_URL by mistake."""
    facility = add_facility(database.engine, "Real clinic", "Europe/Berlin")
    add_rule(database.engine, facility, add_doctor(database.engine), 1)
    before = slot_keys(database.engine)

    result = run_cli("demo", "--database-url", database.url)

    assert result.exit_code == 2
    assert "already holds a schedule" in result.stderr
    assert slot_keys(database.engine) == before == []
    assert run_rows(database.engine) == []
