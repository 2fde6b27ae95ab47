"""`facilities`: each facility with its zone and public-holiday calendar, as sync reads them."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotgen.db import holidays as store
from slotgen.db.database import Database
from slotgen.db.holidays import CalendarFacility
from slotgen.services.common import require_known
from slotgen.vocabulary import holiday_source


def calendar(facility: CalendarFacility) -> str | None:
    """The calendar `holidays sync` uses for it (`holidays:DE-BY`), None without a country."""
    if facility.holiday_country is None:
        return None
    return holiday_source(facility.holiday_country.upper(), facility.holiday_subdivision or None)


def facility_json(facility: CalendarFacility) -> dict[str, Any]:
    return {
        "id": facility.id,
        "name": facility.name,
        "timezone": facility.timezone,
        "holiday_country": facility.holiday_country,
        "holiday_subdivision": facility.holiday_subdivision,
        "holiday_calendar": calendar(facility),
    }


@dataclass(frozen=True)
class FacilitiesRequest:
    facility_ids: tuple[int, ...] = ()


def list_facilities(
    database: Database, request: FacilitiesRequest, now: datetime
) -> list[CalendarFacility]:
    with database.engine.connect() as connection:
        require_known(connection, request.facility_ids)
        return store.calendar_facilities(connection, request.facility_ids)
