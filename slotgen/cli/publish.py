"""`slotgen publish`: open slots as a FHIR feed (SMART Scheduling Links) for patient apps."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from slotgen.cli.options import DatabaseUrlOption, FacilityFilter, JsonOption, database, ids
from slotgen.cli.output import line, print_json


def publish_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            envvar="SLOTGEN_PUBLISH_OUTPUT",
            show_envvar=True,
            help="The folder to write the feed into ($bulk-publish and its NDJSON files); "
            "made if only its last part is missing.",
        ),
    ],
    base_url: Annotated[
        str,
        typer.Option(
            metavar="URL",
            envvar="SLOTGEN_PUBLISH_BASE_URL",
            show_envvar=True,
            help="Where the folder is served, e.g. https://clinic.example.org/fhir: each "
            "manifest url is this, a slash and the file's path in the folder.",
        ),
    ],
    facility: FacilityFilter = None,
    days: Annotated[
        int,
        typer.Option(
            metavar="N",
            envvar="SLOTGEN_PUBLISH_DAYS",
            show_envvar=True,
            help="Slots from now to the end of the day N days from today, in each facility's zone.",
        ),
    ] = 30,
    booking_url: Annotated[
        str | None,
        typer.Option(
            metavar="TEMPLATE",
            envvar="SLOTGEN_PUBLISH_BOOKING_URL",
            show_envvar=True,
            help="Each slot's booking-deep-link, e.g. https://clinic.example.org/book?"
            "slot={slot_id}; placeholders {slot_id}, {facility_id}, {doctor_id}, {start}.",
            show_default=False,
        ),
    ] = None,
    booking_phone: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            envvar="SLOTGEN_PUBLISH_BOOKING_PHONE",
            show_envvar=True,
            help="Each slot's booking-phone; default: its facility's phone, if it has one.",
            show_default=False,
        ),
    ] = None,
    include_busy: Annotated[
        bool,
        typer.Option(
            "--include-busy/--no-include-busy",
            metavar="",
            envvar="SLOTGEN_PUBLISH_INCLUDE_BUSY",
            show_envvar=True,
            help="Also list reserved and booked slots, as busy, so an app sees a slot go.",
        ),
    ] = True,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write the open slots as a FHIR R4 bulk-publish feed that patient apps poll.

    A $bulk-publish manifest names locations.ndjson, schedules.ndjson and the slots, one
    file per facility and ISO week. Files are replaced atomically, the manifest last; an
    unchanged feed comes out byte-identical, transactionTime included.
    """
    from slotgen.services.publish import PublishRequest, publish, writable_folder

    request = PublishRequest(
        output, base_url, ids(facility), days, booking_url, booking_phone, include_busy
    )
    writable_folder(output)
    with database(database_url) as opened:
        report = publish(opened, request, datetime.now(UTC))
    if as_json:
        print_json(report.json())
    else:
        line(report.summary())
    if not report.ok:
        raise typer.Exit(1)
