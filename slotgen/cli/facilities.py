"""`slotgen facilities`: the facilities with their zones and public-holiday calendars."""

from datetime import UTC, datetime

from slotgen.cli.options import DatabaseUrlOption, FacilityFilter, JsonOption, database, ids
from slotgen.cli.output import message, print_json, stdout, table


def facilities_command(
    facility: FacilityFilter = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Show each facility's zone and the public-holiday calendar `holidays sync` uses.

    A facility without a holiday_country gets no holidays (set one by `slotgen import`).
    """
    from slotgen.services.facilities import (
        FacilitiesRequest,
        facility_json,
        list_facilities,
    )

    with database(database_url) as opened:
        found = list_facilities(opened, FacilitiesRequest(ids(facility)), datetime.now(UTC))
    if as_json:
        print_json({"facilities": [facility_json(one) for one in found]})
        return
    if not found:
        message("No facilities yet.")
        return
    listed = table("Facilities")
    for column in ("id", "name", "zone", "holiday country", "subdivision"):
        listed.add_column(column, overflow="fold")
    for one in found:
        listed.add_row(
            str(one.id),
            one.name,
            one.timezone,
            one.holiday_country or "",
            one.holiday_subdivision or "",
        )
    stdout().print(listed)
