"""The span and instant syntax operators type (`90d`, `26h`, `2027-03-10`) and read back.

`runs --since`, `runs prune --older-than` and `check --max-age` share these parsers, so a
value that is misread prunes the wrong runs or silences an alert, and a rejected one must
say what would have been accepted. The formatters fill every table cell and health message
with spans, so each range boundary is pinned here. `now` is fixed; the local zone is set
through TZ for the tests that read a time without an offset.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotgen.monitoring.durations import (
    DEFAULT_MAX_AGES,
    DURATION_SYNTAX,
    SINCE_SYNTAX,
    format_duration,
    format_span,
    parse_duration,
    parse_max_ages,
    parse_since,
)

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
NEW_YORK_RULES = "EST+5EDT,M3.2.0/2,M11.1.0/2"
"""America/New_York written out as a POSIX TZ value, so no zone files are needed."""


@pytest.fixture
def new_york_is_local(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is New York for the test, and is put back afterwards."""
    monkeypatch.setenv("TZ", NEW_YORK_RULES)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# parse_duration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("26h", timedelta(hours=26)),
        ("90d", timedelta(days=90)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_parse_duration_reads_each_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_parse_duration_reads_m_as_minutes_not_months() -> None:
    assert parse_duration("1m") == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  26h  ", timedelta(hours=26)),
        ("26 h", timedelta(hours=26)),
        ("\t7d\n", timedelta(days=7)),
        ("26H", timedelta(hours=26)),
    ],
)
def test_parse_duration_allows_surrounding_and_inner_whitespace_and_any_case(
    text: str, expected: timedelta
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0s", "0d", "000h"])
def test_parse_duration_rejects_zero(text: str) -> None:
    with pytest.raises(ValueError, match="it must be more than zero"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["", "26", "h", "1.5h", "-3d", "26hours", "1y", "d7", "1h30m"])
def test_parse_duration_rejects_bad_text_naming_the_syntax(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration") as raised:
        parse_duration(text)

    assert str(raised.value) == f"bad duration {text!r}: use {DURATION_SYNTAX}"
    assert "30s, 15m, 26h, 7d, 2w" in str(raised.value)


# parse_since --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", datetime(2027, 3, 9, 12, 0, tzinfo=UTC)),
        ("7d", datetime(2027, 3, 3, 12, 0, tzinfo=UTC)),
        ("2w", datetime(2027, 2, 24, 12, 0, tzinfo=UTC)),
        (" 90m ", datetime(2027, 3, 10, 10, 30, tzinfo=UTC)),
    ],
)
def test_parse_since_reads_a_span_back_from_now(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_parse_since_gives_a_utc_instant_for_a_now_in_another_zone() -> None:
    berlin_noon = datetime(2027, 3, 10, 13, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    since = parse_since("1h", berlin_noon)

    assert since == datetime(2027, 3, 10, 11, 0, tzinfo=UTC)
    assert since.utcoffset() == timedelta(0)


@pytest.mark.usefixtures("new_york_is_local")
def test_parse_since_reads_a_date_as_local_midnight() -> None:
    since = parse_since("2027-03-10", NOW)

    assert since == datetime(2027, 3, 10, 5, 0, tzinfo=UTC)
    assert since.utcoffset() == timedelta(0)


@pytest.mark.usefixtures("new_york_is_local")
def test_parse_since_reads_a_datetime_without_offset_in_the_local_zone_and_its_dst() -> None:
    assert parse_since("2027-03-10T08:15", NOW) == datetime(2027, 3, 10, 13, 15, tzinfo=UTC)
    assert parse_since("2027-07-01T08:15:30", NOW) == datetime(2027, 7, 1, 12, 15, 30, tzinfo=UTC)


def test_parse_since_agrees_with_the_systems_local_zone_whatever_it_is() -> None:
    expected = datetime(2027, 3, 10, 8, 15).astimezone().astimezone(UTC)

    assert parse_since("2027-03-10T08:15", NOW) == expected


@pytest.mark.usefixtures("new_york_is_local")
def test_parse_since_takes_an_iso_offset_as_given_not_the_local_zone() -> None:
    kathmandu = parse_since("2027-03-10T08:15:00+05:45", NOW)
    zulu = parse_since("2027-03-10T08:15:00Z", NOW)

    assert kathmandu == datetime(2027, 3, 10, 2, 30, tzinfo=UTC)
    assert zulu == datetime(2027, 3, 10, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize("text", ["last tuesday", "10/03/2027", "2027-13-01", "yesterday"])
def test_parse_since_rejects_bad_text_naming_the_syntax(text: str) -> None:
    with pytest.raises(ValueError, match="bad time") as raised:
        parse_since(text, NOW)

    assert str(raised.value) == f"bad time {text!r}: use {SINCE_SYNTAX}"


def test_parse_since_rejects_a_zero_span() -> None:
    with pytest.raises(ValueError, match="more than zero"):
        parse_since("0d", NOW)


# parse_max_ages -----------------------------------------------------------------------


def test_parse_max_ages_reads_job_and_span_pairs() -> None:
    assert parse_max_ages("generate=26h,release=15m") == {
        "generate": timedelta(hours=26),
        "release": timedelta(minutes=15),
    }


def test_parse_max_ages_allows_spaces_and_a_trailing_comma() -> None:
    assert parse_max_ages(" generate = 26h , prune.weekly=8d, ") == {
        "generate": timedelta(hours=26),
        "prune.weekly": timedelta(days=8),
    }


def test_the_default_max_ages_parse_to_a_day_and_two_hours_and_a_quarter_hour() -> None:
    assert parse_max_ages(DEFAULT_MAX_AGES) == {
        "generate": timedelta(hours=26),
        "release": timedelta(minutes=15),
    }


@pytest.mark.parametrize("text", ["none", "NONE", "  None  ", "", "   "])
def test_parse_max_ages_none_or_empty_checks_no_age(text: str) -> None:
    assert parse_max_ages(text) == {}


def test_parse_max_ages_rejects_a_job_named_twice() -> None:
    with pytest.raises(ValueError, match="max age for 'generate' given twice"):
        parse_max_ages("generate=26h,release=15m,generate=2h")


@pytest.mark.parametrize("pair", ["generate", "=26h", "gen erate=26h", "generate:26h"])
def test_parse_max_ages_rejects_a_bad_pair_showing_the_form(pair: str) -> None:
    with pytest.raises(ValueError, match="use JOB=DURATION") as raised:
        parse_max_ages(f"release=15m,{pair}")

    assert str(raised.value).startswith(f"bad max age {pair!r}")


def test_parse_max_ages_rejects_a_bad_span_naming_the_job_and_the_syntax() -> None:
    with pytest.raises(ValueError, match="bad max age for 'generate'") as raised:
        parse_max_ages("generate=26")

    assert DURATION_SYNTAX in str(raised.value)


# format_duration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m00s"),
        (61, "1m01s"),
        (59 * 60 + 59, "59m59s"),
        (3600, "1h00m"),
        (3 * 3600 + 5 * 60 + 59, "3h05m"),
        (23 * 3600 + 59 * 60 + 59, "23h59m"),
        (86_400, "1d00h"),
        (2 * 86_400 + 4 * 3600 + 59 * 60, "2d04h"),
        (100 * 86_400, "100d00h"),
    ],
)
def test_format_duration_shows_two_units_at_most_at_each_range_boundary(
    seconds: int, shown: str
) -> None:
    assert format_duration(timedelta(seconds=seconds)) == shown


def test_format_duration_drops_fractions_of_a_second() -> None:
    assert format_duration(timedelta(seconds=59.9)) == "59s"


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.35, "350ms"), (0.0004, "1ms"), (0.999, "999ms"), (0, "0s")]
)
def test_format_duration_counts_milliseconds_under_a_second(seconds: float, shown: str) -> None:
    """A release takes well under a second: "0s" would say it took nothing."""
    assert format_duration(timedelta(seconds=seconds)) == shown


def test_format_duration_shows_a_negative_span_as_zero() -> None:
    assert format_duration(timedelta(seconds=-5)) == "0s"
    assert format_duration(timedelta(days=-2)) == "0s"


# format_span --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "shown"),
    [
        (timedelta(hours=26), "26h"),
        (timedelta(days=90), "90d"),
        (timedelta(weeks=2), "2w"),
        (timedelta(days=14), "2w"),
        (timedelta(hours=24), "1d"),
        (timedelta(minutes=15), "15m"),
        (timedelta(minutes=60), "1h"),
        (timedelta(seconds=90), "90s"),
        (timedelta(seconds=3601), "3601s"),
    ],
)
def test_format_span_echoes_a_span_in_its_largest_whole_unit(span: timedelta, shown: str) -> None:
    assert format_span(span) == shown


@pytest.mark.parametrize("text", ["30s", "15m", "26h", "90d", "2w"])
def test_format_span_reads_back_as_the_same_span(text: str) -> None:
    assert format_span(parse_duration(text)) == text
