"""The schema contract on every backend: migrations equal the models, instants are UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from slotgen.db import migrate
from slotgen.db.engine import open_engine
from slotgen.db.schema import availability_slots, doctors, facilities, job_runs, metadata
from slotgen.importing.columns import COLUMNS
from slotgen.vocabulary import RunStatus, Trigger
from tests.conftest import DatabaseUnderTest

CONTRACT_TABLES = {
    "facilities",
    "doctors",
    "services",
    "availability_rules",
    "availability_exceptions",
    "availability_slots",
    "job_runs",
}


def test_migrations_have_one_head_and_the_package_knows_it() -> None:
    """Every command compares the stored revision with HEAD_REVISION, not with Alembic's
    head: a new migration that does not move it would be refused as unknown, or skipped."""
    assert len(ScriptDirectory.from_config(migrate.alembic_config()).get_heads()) == 1
    assert migrate.head_revision() == migrate.HEAD_REVISION


def test_models_and_migrations_agree(database: DatabaseUnderTest) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_upgrade_from_empty_and_back_down(empty_database_url: str) -> None:
    engine = open_engine(empty_database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= CONTRACT_TABLES
            assert migrate.current_revision(connection) == migrate.head_revision()
        migrate.downgrade(engine, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) & CONTRACT_TABLES == set()
            assert migrate.current_revision(connection) is None
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= CONTRACT_TABLES
    finally:
        engine.dispose()


def _facility_and_doctor(database: DatabaseUnderTest) -> tuple[int, int]:
    with database.engine.begin() as connection:
        facility_id = connection.execute(
            insert(facilities).values(name="North").returning(facilities.c.id)
        ).scalar_one()
        doctor_id = connection.execute(
            insert(doctors).values(name="Dr. Lee").returning(doctors.c.id)
        ).scalar_one()
    return facility_id, doctor_id


def test_instants_round_trip_as_aware_utc_with_microseconds(database: DatabaseUnderTest) -> None:
    facility_id, doctor_id = _facility_and_doctor(database)
    kathmandu = timezone(timedelta(hours=5, minutes=45))
    start = datetime(2026, 3, 8, 14, 30, 0, 123456, tzinfo=kathmandu)
    with database.engine.begin() as connection:
        connection.execute(
            insert(availability_slots).values(
                facility_id=facility_id,
                doctor_id=doctor_id,
                start_at=start,
                end_at=start + timedelta(minutes=15),
                status="reserved",
                reserved_until=start,
            )
        )
    with database.engine.connect() as connection:
        row = connection.execute(select(availability_slots)).one()
    assert row.start_at == start
    assert row.start_at.tzinfo is UTC
    assert (row.start_at.hour, row.start_at.minute) == (8, 45)
    assert row.reserved_until.microsecond == 123456


def test_plain_sql_insert_gets_utc_defaults(database: DatabaseUnderTest) -> None:
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO facilities (name) VALUES ('Plain SQL clinic')"))
    with database.engine.connect() as connection:
        row = connection.execute(select(facilities)).one()
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert row.timezone == "UTC"
    assert before <= row.created_at <= after
    assert before <= row.updated_at <= after


def test_naive_datetimes_are_refused(database: DatabaseUnderTest) -> None:
    facility_id, doctor_id = _facility_and_doctor(database)
    with pytest.raises(Exception, match="naive datetime"), database.engine.begin() as connection:
        connection.execute(
            insert(availability_slots).values(
                facility_id=facility_id,
                doctor_id=doctor_id,
                start_at=datetime(2026, 1, 1, 9),
                end_at=datetime(2026, 1, 1, 10),
            )
        )


def test_a_doctor_is_never_offered_twice_at_one_instant(database: DatabaseUnderTest) -> None:
    facility_id, doctor_id = _facility_and_doctor(database)
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    values = {
        "facility_id": facility_id,
        "doctor_id": doctor_id,
        "start_at": start,
        "end_at": start + timedelta(minutes=15),
    }
    with database.engine.begin() as connection:
        connection.execute(insert(availability_slots).values(**values))
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(insert(availability_slots).values(**values))


def test_deleting_a_doctor_never_deletes_a_booked_slot(database: DatabaseUnderTest) -> None:
    facility_id, doctor_id = _facility_and_doctor(database)
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    with database.engine.begin() as connection:
        connection.execute(
            insert(availability_slots).values(
                facility_id=facility_id,
                doctor_id=doctor_id,
                start_at=start,
                end_at=start + timedelta(minutes=15),
                status="booked",
            )
        )
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(doctors.delete().where(doctors.c.id == doctor_id))
    with database.engine.connect() as connection:
        assert connection.execute(select(availability_slots.c.status)).scalar_one() == "booked"


@pytest.mark.parametrize("table", list(COLUMNS))
def test_schedule_files_take_exactly_the_contracts_columns(table: str) -> None:
    """The file format and the tables are one contract: a column added to one is added
    to the other, with the same idea of which columns are required."""
    columns = metadata.tables[table].columns
    contract = {column.name for column in columns} - {"id", "created_at", "updated_at"}
    readable = {column.name for column in COLUMNS[table]}
    assert readable == contract
    required = {
        column.name
        for column in columns
        if column.name in contract and not column.nullable and column.server_default is None
    }
    assert {column.name for column in COLUMNS[table] if column.required} == required


@pytest.mark.parametrize(("column", "word"), [("status", "finished"), ("trigger", "webhook")])
def test_job_runs_keep_to_the_vocabulary(
    database: DatabaseUnderTest, column: str, word: str
) -> None:
    row = {"job": "generate", "status": "running", "trigger": "manual", column: word}
    with pytest.raises(DBAPIError), database.engine.begin() as connection:
        connection.execute(insert(job_runs).values(**row))
    with database.engine.begin() as connection:
        for status in RunStatus:
            for trigger in Trigger:
                connection.execute(
                    insert(job_runs).values(job="generate", status=status, trigger=trigger)
                )


def test_the_vocabulary_constraints_come_and_go_with_their_migration(
    empty_database_url: str,
) -> None:
    engine = open_engine(empty_database_url)
    try:
        migrate.upgrade(engine, "0002")
        with engine.connect() as connection:
            names = {c["name"] for c in inspect(connection).get_check_constraints("job_runs")}
        assert names >= {"ck_job_runs_status", "ck_job_runs_trigger"}
        migrate.downgrade(engine, "0001")
        with engine.connect() as connection:
            names = {c["name"] for c in inspect(connection).get_check_constraints("job_runs")}
        assert not names & {"ck_job_runs_status", "ck_job_runs_trigger"}
    finally:
        engine.dispose()
