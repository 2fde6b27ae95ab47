"""`publish` on every backend: a clinic network across DST changes, as patient apps read it."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from slotgen.errors import BadInput
from slotgen.services.generate import generate_slots
from slotgen.services.params import GenerateParams
from slotgen.services.publish import PublishRequest, publish
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, add_service, add_slot
from tests.feed import read_feed, snapshot

BASE = "https://clinic.example.org/fhir"
NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)
"""Before the DST changes of New York (14 March), Berlin (28 March), Lord Howe Island and
Santiago (4 April), all within the feed's 30 days."""
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu")
CONTACT = {
    "phone": "+49 30 1234567",
    "website": "https://north.example.org",
    "address_line": "Friedrichstraße 100",
    "city": "Berlin",
    "state": "BE",
    "postal_code": "10117",
    "country": "DE",
}


def network(database: DatabaseUnderTest) -> dict[int, str]:
    """A facility per zone, two doctors each, every day 08:00-11:00 in 30-minute slots."""
    engine = database.engine
    service = add_service(engine, "Vaccination", 30)
    zones = {}
    for index, zone in enumerate(ZONES):
        facility = add_facility(engine, f"Clinic {zone}", zone)
        zones[facility] = zone
        for number in range(2):
            doctor = add_doctor(engine, f"Dr. {index}-{number}")
            for day in range(7):
                add_rule(engine, facility, doctor, day, "08:00", "11:00", 30, service_id=service)
    with engine.begin() as connection:
        first = min(zones)
        connection.execute(
            text(
                "UPDATE facilities SET phone = :phone, website = :website, address_line ="
                " :address_line, city = :city, state = :state, postal_code = :postal_code,"
                " country = :country WHERE id = :id"
            ),
            {**CONTACT, "id": first},
        )
    generate_slots(engine, GenerateParams(days=40), NOW)
    return zones


def request(folder: Path, **values: object) -> PublishRequest:
    return PublishRequest(
        folder,
        BASE,
        booking_url=f"{BASE}/book?slot={{slot_id}}&at={{start}}",
        **values,  # type: ignore[arg-type]
    )


def test_a_network_across_dst_changes_validates_line_by_line(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    zones = network(database)
    folder = tmp_path / "feed"

    report = publish(database.opened, request(folder), NOW)
    feed = read_feed(folder, BASE, zones)

    assert report.ok
    assert len(feed.resources["Location"]) == 4
    assert len(feed.resources["Schedule"]) == 8
    assert len(feed.slots) == report.slots["free"] > 0
    offsets = {slot["start"][-6:] for slot in feed.slots}
    assert {"+01:00", "+02:00", "-05:00", "-04:00", "+11:00", "+10:30", "+05:45"} <= offsets
    berlin_id = next(facility for facility, zone in zones.items() if zone == "Europe/Berlin")
    prefix = f"Schedule/facility-{berlin_id}-"
    berlin = [s for s in feed.slots if s["schedule"]["reference"].startswith(prefix)]
    assert berlin[0]["start"] == "2027-03-11T08:00:00+01:00"  # after now: today's are gone
    after = [s["start"] for s in berlin if s["start"].startswith("2027-03-29")]
    assert after[0] == "2027-03-29T08:00:00+02:00"  # the week after the change: summer time
    link = next(e for e in berlin[0]["extension"] if e["url"].endswith("/booking-deep-link"))
    assert link["valueUrl"].endswith("&at=2027-03-11T08%3A00%3A00%2B01%3A00")
    phone = next(e for e in berlin[0]["extension"] if e["url"].endswith("/booking-phone"))
    assert phone["valueString"] == CONTACT["phone"]  # the facility's own, without --booking-phone
    last_day = (NOW.date() + timedelta(days=30)).isoformat()
    assert max(s["start"][:10] for s in berlin) == last_day
    # one file per facility and ISO week of the local start date, the shard named by both
    for path in feed.files["Slot"]:
        week_slots = (folder / path).read_text().splitlines()
        weeks = {
            date.fromisoformat(json.loads(s)["start"][:10]).isocalendar()[:2] for s in week_slots
        }
        assert len(weeks) == 1
        year, week = weeks.pop()
        assert path.endswith(f"-{year}-W{week:02d}.ndjson")
    manifest_states = [item.get("extension") for item in feed.manifest["output"]]
    assert {"state": ["BE"]} in manifest_states


def test_what_a_facility_lacks_is_warned_by_id_and_still_published(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    zones = network(database)

    report = publish(database.opened, request(tmp_path / "feed"), NOW)

    bare = sorted(zones)[1:]
    assert [warning.split(" lacks ")[0] for warning in report.warnings] == [
        f"facility {facility}" for facility in bare
    ]
    assert "phone or website, address_line, city, state, postal_code, country" in report.warnings[0]
    locations = read_feed(tmp_path / "feed", BASE, zones).resources["Location"]
    assert locations[0]["telecom"] == [
        {"system": "phone", "value": CONTACT["phone"]},
        {"system": "url", "value": CONTACT["website"]},
    ]
    assert locations[0]["address"]["postalCode"] == "10117"
    assert "address" not in locations[1]
    assert "telecom" not in locations[1]


def test_a_second_publish_with_nothing_changed_is_byte_identical(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    network(database)
    folder = tmp_path / "feed"
    first = publish(database.opened, request(folder), NOW)
    before = snapshot(folder)

    again = publish(database.opened, request(folder), NOW + timedelta(seconds=30))

    assert snapshot(folder) == before
    assert again.transaction_time == first.transaction_time == "2027-03-10T12:00:00Z"
    assert not again.changed
    assert again.replaced == 0


def test_a_booking_by_plain_sql_makes_exactly_that_slot_busy(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    zones = network(database)
    folder = tmp_path / "feed"
    publish(database.opened, request(folder), NOW)
    before = read_feed(folder, BASE, zones)
    chosen = before.slots[5]
    slot_id = int(chosen["id"].removeprefix("slot-"))
    # The booking app books without touching updated_at: the feed must not rely on it.
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE availability_slots SET status = 'booked' WHERE id = :id"), {"id": slot_id}
        )

    later = NOW + timedelta(minutes=5)
    report = publish(database.opened, request(folder), later)
    after = read_feed(folder, BASE, zones)

    assert after.slot(slot_id)["status"] == "busy"
    changed = [
        (old["id"], new["status"])
        for old, new in zip(before.slots, after.slots, strict=True)
        if old != new
    ]
    assert changed == [(chosen["id"], "busy")]
    assert report.replaced == 2  # the week's shard, then the manifest
    assert after.manifest["transactionTime"] == "2027-03-10T12:05:00Z"


def test_without_busy_slots_a_reserved_slot_leaves_the_feed(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    zones = network(database)
    folder = tmp_path / "feed"
    publish(database.opened, request(folder), NOW)
    slot_id = int(read_feed(folder, BASE, zones).slots[0]["id"].removeprefix("slot-"))
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE availability_slots SET status = 'reserved' WHERE id = :id"),
            {"id": slot_id},
        )

    publish(database.opened, request(folder, include_busy=False), NOW)
    feed = read_feed(folder, BASE, zones)

    assert f"slot-{slot_id}" not in {slot["id"] for slot in feed.slots}
    assert {slot["status"] for slot in feed.slots} == {"free"}


def test_a_slot_added_by_hand_gets_a_schedule_of_its_own(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    zones = network(database)
    facility = min(zones)
    walk_in = add_doctor(database.engine, "Dr. Walk-in")
    slot_id = add_slot(database.engine, facility, walk_in, NOW + timedelta(days=1), 20)

    publish(database.opened, request(tmp_path / "feed"), NOW)
    feed = read_feed(tmp_path / "feed", BASE, zones)

    assert feed.slot(slot_id)["schedule"] == {
        "reference": f"Schedule/facility-{facility}-doctor-{walk_in}"
    }
    schedule = next(
        s for s in feed.resources["Schedule"] if s["actor"][1]["display"] == "Dr. Walk-in"
    )
    assert "serviceType" not in schedule  # no rule names a service for it


def test_facility_narrows_the_feed_and_drops_the_others_files_a_publish_later(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    zones = network(database)
    folder = tmp_path / "feed"
    publish(database.opened, request(folder), NOW)
    everything = read_feed(folder, BASE, zones)
    kathmandu = next(f for f, zone in zones.items() if zone == "Asia/Kathmandu")

    publish(database.opened, request(folder, facility_ids=(kathmandu,)), NOW)
    narrowed = read_feed(folder, BASE, zones)
    kept_for_old_readers = all((folder / p).exists() for p in everything.files["Slot"])
    publish(database.opened, request(folder, facility_ids=(kathmandu,)), NOW)

    assert [location["id"] for location in narrowed.resources["Location"]] == [
        f"facility-{kathmandu}"
    ]
    assert {s["start"][-6:] for s in narrowed.slots} == {"+05:45"}
    assert all(p.startswith(f"slots/facility-{kathmandu}-") for p in narrowed.files["Slot"])
    assert kept_for_old_readers  # a reader of the previous manifest still finds its files
    assert sorted(p.name for p in (folder / "slots").iterdir()) == sorted(
        Path(p).name for p in narrowed.files["Slot"]
    )


def test_an_unknown_facility_is_bad_input_and_the_feed_is_left_alone(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    network(database)
    folder = tmp_path / "feed"
    publish(database.opened, request(folder), NOW)
    before = snapshot(folder)

    with pytest.raises(BadInput, match="unknown facility id 999"):
        publish(database.opened, request(folder, facility_ids=(999,)), NOW + timedelta(hours=1))

    assert snapshot(folder) == before


def test_a_facility_with_a_bad_zone_is_left_out_by_id_and_the_rest_published(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    zones = network(database)
    broken = add_facility(database.engine, "Nowhere", "Mars/Olympus_Mons")

    report = publish(database.opened, request(tmp_path / "feed"), NOW)

    assert not report.ok
    assert report.skipped == [
        f"facility {broken}: unknown time zone 'Mars/Olympus_Mons'; left out of the feed"
    ]
    assert len(read_feed(tmp_path / "feed", BASE, zones).resources["Location"]) == 4
