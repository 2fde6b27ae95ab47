"""Date arguments as operators type them, and the facility-local range a run covers."""

from datetime import date, timedelta

import pytest

from slotgen.core.dates import (
    DateSpec,
    UnknownZoneError,
    facility_window,
    load_zone,
    parse_date_spec,
    span_utc,
)
from slotgen.core.model import FacilityWindow
from tests.core.support import utc

TODAY = date(2026, 3, 8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-08", date(2026, 3, 8)),
        (" 2026-12-31 ", date(2026, 12, 31)),
        ("today", TODAY),
        ("TODAY", TODAY),
        ("tomorrow", date(2026, 3, 9)),
        ("yesterday", date(2026, 3, 7)),
        ("+7d", date(2026, 3, 15)),
        ("-2d", date(2026, 3, 6)),
        ("+0d", TODAY),
        ("+1w", date(2026, 3, 15)),
        ("-1w", date(2026, 3, 1)),
    ],
)
def test_parse_date_spec_accepts_the_documented_forms(text: str, expected: date) -> None:
    assert parse_date_spec(text).resolve(TODAY) == expected


def test_relative_spec_stays_relative_until_resolved() -> None:
    spec = parse_date_spec("+1d")
    assert spec == DateSpec(offset_days=1)
    assert spec.resolve(date(2026, 12, 31)) == date(2027, 1, 1)


@pytest.mark.parametrize(
    "text", ["", "next week", "2026-02-30", "+7", "7 days", "+7y", "03/08/2026"]
)
def test_parse_date_spec_rejects_with_one_line_naming_text_and_forms(text: str) -> None:
    with pytest.raises(ValueError, match="bad date") as raised:
        parse_date_spec(text)
    message = str(raised.value)
    assert repr(text) in message
    assert "YYYY-MM-DD" in message
    assert "today" in message
    assert "+Nd" in message
    assert "\n" not in message


def test_far_offset_out_of_range_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_date_spec("+99999w").resolve(date(9000, 1, 1))


def test_facility_window_defaults_to_today_plus_30_days_in_the_facility_zone() -> None:
    now = utc(2026, 3, 8, 23, 30)  # already Monday in Berlin, still Sunday in New York
    berlin = facility_window("Europe/Berlin", now, None, None, None, True)
    assert berlin == FacilityWindow("Europe/Berlin", date(2026, 3, 9), date(2026, 4, 8), True)
    new_york = facility_window("America/New_York", now, None, None, None, False)
    assert (new_york.first_day, new_york.last_day) == (date(2026, 3, 8), date(2026, 4, 7))
    assert new_york.in_scope is False


def test_facility_window_with_days_or_end() -> None:
    now = utc(2026, 3, 8, 12)
    week = facility_window("UTC", now, parse_date_spec("tomorrow"), None, 7, True)
    assert (week.first_day, week.last_day) == (date(2026, 3, 9), date(2026, 3, 16))
    single = facility_window("UTC", now, None, None, 0, True)
    assert single.first_day == single.last_day == date(2026, 3, 8)
    ranged = facility_window("UTC", now, None, parse_date_spec("2026-03-20"), None, True)
    assert (ranged.first_day, ranged.last_day) == (date(2026, 3, 8), date(2026, 3, 20))


def test_facility_window_rejects_bad_ranges() -> None:
    now = utc(2026, 3, 8, 12)
    with pytest.raises(ValueError, match="before start"):
        facility_window("UTC", now, None, parse_date_spec("yesterday"), None, True)
    with pytest.raises(ValueError, match="at most 366"):
        facility_window("UTC", now, None, None, 367, True)
    assert facility_window("UTC", now, None, None, 366, True).last_day == TODAY + timedelta(366)
    with pytest.raises(ValueError, match="not both"):
        facility_window("UTC", now, None, parse_date_spec("+1d"), 3, True)
    with pytest.raises(ValueError, match="negative"):
        facility_window("UTC", now, None, None, -1, True)


def test_facility_window_unknown_zone_raises_a_specific_value_error() -> None:
    with pytest.raises(UnknownZoneError, match="unknown time zone 'Mars/Base'") as raised:
        facility_window("Mars/Base", utc(2026, 3, 8), None, None, None, True)
    assert isinstance(raised.value, ValueError)
    assert raised.value.name == "Mars/Base"


@pytest.mark.parametrize("name", ["", "America", "../etc/passwd", "/etc/localtime", "Bogus/Zone"])
def test_every_kind_of_bad_zone_name_is_one_error_type(name: str) -> None:
    with pytest.raises(UnknownZoneError):
        load_zone(name)


def test_span_utc_covers_whole_local_days_including_dst() -> None:
    march = FacilityWindow("America/New_York", date(2026, 3, 8), date(2026, 3, 8), True)
    assert span_utc(march) == (utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))  # a 23-hour day
    santiago = FacilityWindow("America/Santiago", date(2026, 9, 6), date(2026, 9, 6), True)
    assert span_utc(santiago) == (utc(2026, 9, 6, 4), utc(2026, 9, 7, 3))
