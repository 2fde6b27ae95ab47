"""The schema contract on every backend: migrations equal the models, instants are UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from slotgen.db import migrate
from slotgen.db.engine import open_engine
from slotgen.db.schema import availability_slots, doctors, facilities, metadata
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


def test_migrations_have_one_head() -> None:
    assert len(ScriptDirectory.from_config(migrate.alembic_config()).get_heads()) == 1


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
