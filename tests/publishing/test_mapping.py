"""The FHIR mapping, pure: ids, instants with their zone's offset, links, what is missing."""

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from slotgen.core.dates import load_zone
from slotgen.publishing.mapping import (
    BookingLink,
    FeedFacility,
    FeedFile,
    FeedSchedule,
    SlotMapper,
    check_base_url,
    line,
    location,
    manifest,
    schedule,
    slot_file,
)
from tests.feed import FHIR_ID

BASE = "https://clinic.example.org/fhir"


class Row(NamedTuple):
    id: int
    doctor_id: int
    service_id: int | None
    start_at: datetime
    end_at: datetime
    status: str


def mapper(zone: str, link: str | None = None, phone: str | None = None) -> SlotMapper:
    facility = FeedFacility(7, "North", load_zone(zone), phone="+1 555 0100")
    booking = BookingLink(link) if link is not None else None
    return SlotMapper(facility, booking, phone, {3: "Vaccination"}, BASE)


def slot_at(zone: str, start: datetime, status: str = "open") -> dict[str, object]:
    row = Row(2**31 - 1, 2**31 - 1, 3, start, start + timedelta(minutes=30), status)
    return mapper(zone).slot(row)


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        ("Australia/Lord_Howe", datetime(2027, 4, 3, 13, tzinfo=UTC), "2027-04-04T00:00:00+11:00"),
        ("Australia/Lord_Howe", datetime(2027, 4, 4, 13, tzinfo=UTC), "2027-04-04T23:30:00+10:30"),
        ("Asia/Kathmandu", datetime(2027, 3, 1, 3, 15, tzinfo=UTC), "2027-03-01T09:00:00+05:45"),
        ("Europe/Berlin", datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "2027-03-28T01:30:00+01:00"),
        ("Europe/Berlin", datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "2027-03-28T03:30:00+02:00"),
        ("America/Santiago", datetime(2027, 4, 4, 2, 30, tzinfo=UTC), "2027-04-03T23:30:00-03:00"),
        ("America/Santiago", datetime(2027, 4, 4, 3, 30, tzinfo=UTC), "2027-04-03T23:30:00-04:00"),
        ("UTC", datetime(2027, 3, 1, 9, tzinfo=UTC), "2027-03-01T09:00:00+00:00"),
    ],
)
def test_an_instant_carries_its_facility_zones_offset_at_that_instant(
    zone: str, start: datetime, expected: str
) -> None:
    assert slot_at(zone, start)["start"] == expected


def test_the_ids_are_deterministic_short_and_fhir_safe() -> None:
    resource = slot_at("UTC", datetime(2027, 3, 1, 9, tzinfo=UTC))
    entry = FeedSchedule(2**31 - 1, 2**31 - 1, "Dr. Lee")
    facility = FeedFacility(2**31 - 1, "North", load_zone("UTC"))

    ids = [
        resource["id"],
        schedule(entry, facility, BASE)["id"],
        location(facility)["id"],
        str(resource["schedule"]).split("/")[-1].rstrip("'}"),
    ]

    assert ids[0] == "slot-2147483647"
    assert ids[1] == "facility-2147483647-doctor-2147483647"
    assert all(FHIR_ID.fullmatch(value) for value in ids)


@pytest.mark.parametrize(
    ("status", "word"),
    [("open", "free"), ("reserved", "busy"), ("booked", "busy"), ("held-by-phone", "busy")],
)
def test_open_is_free_and_every_taken_status_is_busy(status: str, word: str) -> None:
    assert slot_at("UTC", datetime(2027, 3, 1, 9, tzinfo=UTC), status)["status"] == word


def test_the_booking_extensions() -> None:
    row = Row(
        5,
        2,
        None,
        datetime(2027, 3, 1, 8, tzinfo=UTC),
        datetime(2027, 3, 1, 8, 30, tzinfo=UTC),
        "open",
    )
    link = "https://clinic.example.org/book/{facility_id}/{doctor_id}?slot={slot_id}&at={start}"

    resource = mapper("Europe/Berlin", link, phone="+49 30 999").slot(row)
    fallback = mapper("Europe/Berlin").slot(row)

    assert resource["extension"] == [
        {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link",
            "valueUrl": "https://clinic.example.org/book/7/2?slot=5&at=2027-03-01T09%3A00%3A00%2B01%3A00",
        },
        {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone",
            "valueString": "+49 30 999",
        },
        {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/slot-capacity",
            "valueInteger": 1,
        },
    ]
    assert [e.get("valueString") for e in fallback["extension"]] == ["+1 555 0100", None]
    assert "serviceType" not in resource


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("https://x.example/book", "has no placeholder"),
        ("https://x.example/book?p={patient}", "unknown placeholder {patient}"),
        ("https://x.example/book?p={slot_id!r}", "unknown placeholder {slot_id!r}"),
        ("https://x.example/book?p={slot_id", "expected '}'"),
        ("mailto:book@x.example?s={slot_id}", "is not an http(s) URL"),
    ],
)
def test_a_bad_booking_template_is_refused_with_the_placeholders_to_use(
    template: str, error: str
) -> None:
    with pytest.raises(ValueError, match="--booking-url") as raised:
        BookingLink(template)
    assert error in str(raised.value)


@pytest.mark.parametrize(
    "url", ["ftp://x.example/fhir", "x.example/fhir", "https://", "https://x.example/fhir?a=1"]
)
def test_a_base_url_must_be_plain_http_or_https(url: str) -> None:
    with pytest.raises(ValueError, match="--base-url"):
        check_base_url(url)


def test_a_base_url_loses_its_trailing_slash() -> None:
    assert check_base_url("https://x.example/fhir/") == "https://x.example/fhir"


def test_what_a_facility_lacks_and_what_its_location_says() -> None:
    facility = FeedFacility(
        1,
        "North",
        load_zone("UTC"),
        website=" https://n.example ",
        address_line="1 Main St\nUnit 4",
        city="Springfield",
        postal_code="",
        country="US",
    )

    assert facility.lacks() == ["state", "postal_code"]
    assert location(facility) == {
        "resourceType": "Location",
        "id": "facility-1",
        "name": "North",
        "telecom": [{"system": "url", "value": "https://n.example"}],
        "address": {"line": ["1 Main St", "Unit 4"], "city": "Springfield", "country": "US"},
    }


def test_shards_are_named_by_facility_and_iso_week() -> None:
    assert slot_file(3, (2027, 1)) == "slots/facility-3-2027-W01.ndjson"
    # 1 January 2027 is a Friday: it belongs to ISO week 53 of 2026
    assert mapper("UTC").local(datetime(2027, 1, 1, 9, tzinfo=UTC))[1] == (2026, 53)


def test_the_manifest_names_each_file_under_the_base_url_with_its_states() -> None:
    value = manifest(
        "2027-03-01T00:00:00Z",
        BASE,
        [
            FeedFile("Location", "locations.ndjson", ("BE", "NY")),
            FeedFile("Slot", "slots/a.ndjson"),
        ],
    )

    assert value == {
        "transactionTime": "2027-03-01T00:00:00Z",
        "request": f"{BASE}/$bulk-publish",
        "output": [
            {
                "type": "Location",
                "url": f"{BASE}/locations.ndjson",
                "extension": {"state": ["BE", "NY"]},
            },
            {"type": "Slot", "url": f"{BASE}/slots/a.ndjson"},
        ],
        "error": [],
    }


@pytest.mark.parametrize(
    "link", [None, 'https://x.example/b?s={slot_id}&d={doctor_id}&"q"={start}']
)
@pytest.mark.parametrize("phone", [None, '+1 "555" \\ 0100 ☎'])
@pytest.mark.parametrize(("service_id", "status"), [(3, "open"), (None, "booked"), (9, "reserved")])
def test_a_slots_fast_line_is_exactly_its_resource_as_json(
    link: str | None, phone: str | None, service_id: int | None, status: str
) -> None:
    start = datetime(2027, 4, 4, 14, 45, tzinfo=UTC)
    row = Row(42, 7, service_id, start, start + timedelta(minutes=15), status)
    slots = mapper("Australia/Lord_Howe", link, phone)

    text, week = slots.line(row)

    assert text == line(slots.slot(row))
    assert week == (2027, 14)
