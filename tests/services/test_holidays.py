"""`holidays sync` reads "today" in each facility's own zone, with a fixed clock.

A run on record reads its own clock, so these are dry runs: the same plan, nothing written.
"""

from datetime import UTC, date, datetime

from sqlalchemy import update

from slotgen.db.schema import facilities
from slotgen.services.holidays import HolidaysRequest, sync_holidays
from slotgen.services.params import HolidaysParams
from tests.conftest import DatabaseUnderTest
from tests.factories import add_facility

CHRISTMAS_NOON_UTC = datetime(2026, 12, 25, 12, tzinfo=UTC)
"""Already 26 December (01:00) in Auckland, still 25 December in London."""


def facility(database: DatabaseUnderTest, zone: str, country: str) -> int:
    facility_id = add_facility(database.engine, zone, zone)
    with database.engine.begin() as connection:
        connection.execute(
            update(facilities).where(facilities.c.id == facility_id).values(holiday_country=country)
        )
    return facility_id


def test_ahead_counts_from_each_facilitys_own_today(database: DatabaseUnderTest) -> None:
    auckland = facility(database, "Pacific/Auckland", "NZ")
    london = facility(database, "Europe/London", "GB")

    result = sync_holidays(
        database.opened,
        HolidaysRequest(HolidaysParams(ahead="0d"), dry_run=True),
        CHRISTMAS_NOON_UTC,
    )

    assert result.report is not None
    closed = {
        synced.facility_id: [holiday.day for holiday in synced.plan.create]
        for synced in result.report.facilities
    }
    assert closed == {auckland: [date(2026, 12, 26)], london: [date(2026, 12, 25)]}


def test_the_default_is_this_year_and_next_where_the_facility_is(
    database: DatabaseUnderTest,
) -> None:
    new_years_eve = datetime(2026, 12, 31, 12, tzinfo=UTC)  # 2027 already in Auckland
    auckland = facility(database, "Pacific/Auckland", "NZ")
    london = facility(database, "Europe/London", "GB")

    result = sync_holidays(database.opened, HolidaysRequest(dry_run=True), new_years_eve)

    assert result.report is not None
    years = {
        synced.facility_id: (synced.first_day, synced.last_day)
        for synced in result.report.facilities
    }
    assert years == {
        auckland: (date(2027, 1, 1), date(2028, 12, 31)),
        london: (date(2026, 1, 1), date(2027, 12, 31)),
    }
