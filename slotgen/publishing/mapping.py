"""Facilities, schedules and slots as FHIR R4 Location, Schedule and Slot resources.

The feed follows SMART Scheduling Links (smart-on-fhir/smart-scheduling-links): a
`$bulk-publish` manifest names NDJSON files of one resource type each. Every id is
derived from a database id alone, so a re-publish of the same rows gives the same bytes
and an aggregator can follow a slot from one poll to the next. Instants carry the
facility's own UTC offset at that instant (`+05:45` in Kathmandu, `+10:30` or `+11:00`
on Lord Howe Island), so a patient app shows the clinic's wall clock without a zone
database of its own.
"""

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from slotgen.vocabulary import feed_status

SMART = "http://fhir-registry.smarthealthit.org/StructureDefinition"
BOOKING_DEEP_LINK = f"{SMART}/booking-deep-link"
BOOKING_PHONE = f"{SMART}/booking-phone"
SLOT_CAPACITY = f"{SMART}/slot-capacity"

MANIFEST_NAME = "$bulk-publish"
LOCATIONS_FILE = "locations.ndjson"
SCHEDULES_FILE = "schedules.ndjson"
SLOTS_FOLDER = "slots"

PLACEHOLDERS = ("slot_id", "facility_id", "doctor_id", "start")
"""What a --booking-url template may name: the slot's database id, its facility and
doctor ids, and its start as a FHIR instant with the facility's offset."""


def location_id(facility_id: int) -> str:
    return f"facility-{facility_id}"


def schedule_id(facility_id: int, doctor_id: int) -> str:
    return f"facility-{facility_id}-doctor-{doctor_id}"


def slot_id(slot_id: int) -> str:
    return f"slot-{slot_id}"


def utc_instant(instant: datetime) -> str:
    """The manifest's transactionTime: UTC, to the second, with Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def line(resource: dict[str, Any]) -> str:
    """One NDJSON line: compact, keys in the order they were built, no ASCII escapes."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


def check_base_url(url: str) -> str:
    """The feed's public address without a trailing slash; raises ValueError if unusable."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"--base-url {url!r} is not an http(s) URL: give where the feed will be "
            "served, e.g. https://clinic.example.org/fhir"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"--base-url {url!r}: leave out the query and fragment")
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class BookingLink:
    """A --booking-url template, checked once: every slot's deep link is made from it."""

    template: str

    def __post_init__(self) -> None:
        try:
            fields = [
                (name, spec, conversion)
                for _, name, spec, conversion in string.Formatter().parse(self.template)
                if name is not None
            ]
        except ValueError as exc:
            raise ValueError(f"--booking-url {self.template!r}: {exc}") from None
        allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        if not fields:
            raise ValueError(
                f"--booking-url {self.template!r} has no placeholder: every slot would get "
                f"the same link; use {allowed}"
            )
        for name, spec, conversion in fields:
            if name not in PLACEHOLDERS or spec or conversion:
                raise ValueError(
                    f"--booking-url {self.template!r}: unknown placeholder "
                    f"{{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}}; use {allowed}"
                )
        sample = self.url(1, 1, 1, "2027-03-01T09:00:00+01:00")
        if urlsplit(sample).scheme not in ("http", "https") or not urlsplit(sample).netloc:
            raise ValueError(
                f"--booking-url {self.template!r} is not an http(s) URL, e.g. "
                "https://clinic.example.org/book?slot={slot_id}"
            )

    def url(self, slot: int, facility_id: int, doctor_id: int, start: str) -> str:
        return self.template.format(
            slot_id=slot, facility_id=facility_id, doctor_id=doctor_id, start=quote(start, safe="")
        )


@dataclass(frozen=True, slots=True)
class FeedFacility:
    """A facility as the feed shows it: its zone loaded, its contact data as stored."""

    id: int
    name: str
    zone: ZoneInfo
    phone: str | None = None
    website: str | None = None
    address_line: str | None = None
    city: str | None = None
    district: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def lacks(self) -> list[str]:
        """What SMART Scheduling Links wants of a Location and this facility has not got."""
        missing = [] if _given(self.phone) or _given(self.website) else ["phone or website"]
        for name in ("address_line", "city", "state", "postal_code", "country"):
            if not _given(getattr(self, name)):
                missing.append(name)
        return missing


def _given(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def location(facility: FeedFacility) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": location_id(facility.id),
        "name": facility.name,
    }
    telecom = [
        {"system": system, "value": value.strip()}
        for system, value in (("phone", facility.phone), ("url", facility.website))
        if value is not None and _given(value)
    ]
    if telecom:
        resource["telecom"] = telecom
    address: dict[str, Any] = {}
    if facility.address_line is not None and _given(facility.address_line):
        address["line"] = [part.strip() for part in facility.address_line.splitlines() if part]
    for key, value in (
        ("city", facility.city),
        ("district", facility.district),
        ("state", facility.state),
        ("postalCode", facility.postal_code),
        ("country", facility.country),
    ):
        if value is not None and _given(value):
            address[key] = value.strip()
    if address:
        resource["address"] = address
    return resource


@dataclass(frozen=True, slots=True)
class FeedSchedule:
    """A doctor's calendar at one facility, and the services its rules offer there."""

    facility_id: int
    doctor_id: int
    doctor: str
    services: tuple[tuple[int, str], ...] = ()


def schedule(entry: FeedSchedule, facility: FeedFacility, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": schedule_id(entry.facility_id, entry.doctor_id),
    }
    if entry.services:
        resource["serviceType"] = [
            {
                "coding": [{"system": f"{base_url}/service", "code": str(number), "display": name}],
                "text": name,
            }
            for number, name in entry.services
        ]
    resource["actor"] = [
        {"reference": f"Location/{location_id(facility.id)}", "display": facility.name},
        {"display": entry.doctor},
    ]
    return resource


class SlotFields(Protocol):
    """A slot row as the feed needs it (the database's column names)."""

    @property
    def id(self) -> int: ...
    @property
    def doctor_id(self) -> int: ...
    @property
    def service_id(self) -> int | None: ...
    @property
    def start_at(self) -> datetime: ...
    @property
    def end_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...


class SlotMapper:
    """A facility's slots as Slot resources, with its offsets and the booking extensions.

    Slots of many doctors share their instants: each distinct instant is converted once.
    """

    def __init__(
        self,
        facility: FeedFacility,
        link: BookingLink | None,
        phone: str | None,
        services: dict[int, str],
        base_url: str,
    ) -> None:
        self.facility = facility
        self.link = link
        self.phone = phone if phone is not None and _given(phone) else facility.phone
        self.services = services
        self.base_url = base_url
        self._local: dict[datetime, tuple[str, tuple[int, int]]] = {}
        self._schedules: dict[int, str] = {}
        self._statuses: dict[str, str] = {}
        self._services: dict[int | None, str] = {}
        tail = []
        if self.phone is not None:
            tail.append(_compact({"url": BOOKING_PHONE, "valueString": self.phone.strip()}))
        tail.append(_compact({"url": SLOT_CAPACITY, "valueInteger": 1}))
        self._tail = ",".join(tail) + "]}"
        self._link_head = f'{{"url":"{BOOKING_DEEP_LINK}","valueUrl":'

    def local(self, instant: datetime) -> tuple[str, tuple[int, int]]:
        """The instant as FHIR text, and the ISO (year, week) of its local date."""
        known = self._local.get(instant)
        if known is None:
            here = instant.astimezone(self.facility.zone)
            year, week, _ = here.isocalendar()
            known = (here.isoformat(timespec="seconds"), (year, week))
            self._local[instant] = known
        return known

    def slot(self, row: SlotFields) -> dict[str, Any]:
        number, doctor_id, service_id = row.id, row.doctor_id, row.service_id
        start, _ = self.local(row.start_at)
        resource: dict[str, Any] = {
            "resourceType": "Slot",
            "id": slot_id(number),
            "schedule": {"reference": f"Schedule/{schedule_id(self.facility.id, doctor_id)}"},
            "status": feed_status(row.status).value,
            "start": start,
            "end": self.local(row.end_at)[0],
        }
        name = self.services.get(service_id) if service_id is not None else None
        if name is not None:
            resource["serviceType"] = [
                {
                    "coding": [{"system": f"{self.base_url}/service", "code": str(service_id)}],
                    "text": name,
                }
            ]
        extensions: list[dict[str, Any]] = []
        if self.link is not None:
            extensions.append(
                {
                    "url": BOOKING_DEEP_LINK,
                    "valueUrl": self.link.url(number, self.facility.id, doctor_id, start),
                }
            )
        if self.phone is not None:
            extensions.append({"url": BOOKING_PHONE, "valueString": self.phone.strip()})
        extensions.append({"url": SLOT_CAPACITY, "valueInteger": 1})
        resource["extension"] = extensions
        return resource

    def line(self, row: SlotFields) -> tuple[str, tuple[int, int]]:
        """`line(self.slot(row))` and the ISO week of the slot's local start date.

        The line is made from fragments built once per facility, doctor, service and
        instant: a feed of hundreds of thousands of slots is mostly the same text, and
        json.dumps of each whole resource would cost twice the database read.
        """
        doctor_id = row.doctor_id
        schedule_part = self._schedules.get(doctor_id)
        if schedule_part is None:
            reference = f"Schedule/{schedule_id(self.facility.id, doctor_id)}"
            schedule_part = f'","schedule":{{"reference":"{reference}"}},"status":"'
            self._schedules[doctor_id] = schedule_part
        status = self._statuses.get(row.status)
        if status is None:
            status = self._statuses[row.status] = feed_status(row.status).value
        service = self._services.get(row.service_id)
        if service is None:
            service = self._services[row.service_id] = self._service_part(row.service_id)
        start, week = self.local(row.start_at)
        link = ""
        if self.link is not None:
            url = self.link.url(row.id, self.facility.id, doctor_id, start)
            link = f"{self._link_head}{_compact(url)}}},"
        text = (
            f'{{"resourceType":"Slot","id":"slot-{row.id}{schedule_part}{status}",'
            f'"start":"{start}","end":"{self.local(row.end_at)[0]}"{service}'
            f',"extension":[{link}{self._tail}'
        )
        return text, week

    def _service_part(self, service_id: int | None) -> str:
        name = self.services.get(service_id) if service_id is not None else None
        if name is None:
            return ""
        coding = {"system": f"{self.base_url}/service", "code": str(service_id)}
        return ',"serviceType":' + _compact([{"coding": [coding], "text": name}])


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def slot_file(facility_id: int, week: tuple[int, int]) -> str:
    """A shard's path under the output folder: one file per facility and ISO week of the
    slots' local start dates, so no file grows past a week of one facility's slots."""
    year, number = week
    return f"{SLOTS_FOLDER}/{location_id(facility_id)}-{year}-W{number:02d}.ndjson"


@dataclass(frozen=True, slots=True)
class FeedFile:
    type: str
    path: str
    """Relative to the output folder, with `/`: the manifest's url is base-url/path."""
    states: tuple[str, ...] = ()


def manifest(transaction_time: str, base_url: str, files: Sequence[FeedFile]) -> dict[str, Any]:
    """The `$bulk-publish` manifest; a file's `state` extension lets an aggregator fetch
    only the regions it serves."""
    output: list[dict[str, Any]] = []
    for entry in files:
        item: dict[str, Any] = {"type": entry.type, "url": f"{base_url}/{entry.path}"}
        if entry.states:
            item["extension"] = {"state": list(entry.states)}
        output.append(item)
    return {
        "transactionTime": transaction_time,
        "request": f"{base_url}/{MANIFEST_NAME}",
        "output": output,
        "error": [],
    }


def manifest_text(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
