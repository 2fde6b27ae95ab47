"""Facility-local dates and how a facility's wall clock becomes UTC instants.

Every wall-clock time in slotgen goes through `local_instant`, so gap and overlap handling
(see the policy in slotgen.core.plan) is decided in exactly one place.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotgen.core.model import FacilityWindow

DEFAULT_DAYS = 30
MAX_DAYS = 366
MIDNIGHT = time(0)
ONE_DAY = timedelta(days=1)

_RELATIVE = re.compile(r"([+-]?\d{1,5})([dw])")
_NAMED_OFFSETS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_ACCEPTED = "YYYY-MM-DD, today, tomorrow, yesterday, +Nd/-Nd or +Nw/-Nw"
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def day_name(day_of_week: int) -> str:
    """Name a cron-numbered weekday; the numbering is easy to get wrong, so messages spell it."""
    return _DAY_NAMES[day_of_week] if 0 <= day_of_week < len(_DAY_NAMES) else f"day {day_of_week}"


class UnknownZoneError(ValueError):
    """A zone name the tz database does not know: a bad facility row, not a crash."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name!r}")
        self.name = name


def load_zone(name: str) -> ZoneInfo:
    """Load a zone, turning every way ZoneInfo rejects a name into one error type.

    ZoneInfo raises KeyError, ValueError or OSError depending on how the name is wrong
    ('Bogus/Zone', '', 'America'), and callers should only need to catch one thing.
    """
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise UnknownZoneError(name) from None


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a facility's wall clock, with zoneinfo's default fold=0 reading.

    fold=0 puts a time inside a spring-forward gap after the gap (shifted by its length)
    and a repeated time at its first occurrence; forcing fold=0 keeps a stray fold=1 from
    a caller from silently choosing the second occurrence.
    """
    return datetime.combine(day, at.replace(fold=0, tzinfo=None), zone).astimezone(UTC)


def window_instants(day: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A day's [start, end) window as UTC instants; an end of 00:00 is the end of that day."""
    end_day = day + ONE_DAY if end == MIDNIGHT else day
    return local_instant(day, start, zone), local_instant(end_day, end, zone)


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """A local wall-clock time with its UTC offset, e.g. `2027-03-28 01:30 +01:00`.

    The offset is what tells the two 02:30s of a fall-back night apart.
    """
    text = moment.astimezone(zone).isoformat(" ", "minutes")
    return f"{text[:16]} {text[16:]}"


def describe_instant(moment: datetime) -> str:
    """Instants in messages are UTC, labelled, so they are never mistaken for local time."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True, slots=True)
class DateSpec:
    """A date as the operator typed it, kept unresolved because "today" depends on the zone.

    Each facility resolves "today" in its own zone: at 23:00 in New York it is already
    tomorrow in Berlin.
    """

    absolute: date | None = None
    offset_days: int = 0

    def resolve(self, today: date) -> date:
        if self.absolute is not None:
            return self.absolute
        try:
            return today + timedelta(days=self.offset_days)
        except OverflowError:
            raise ValueError(f"{self.offset_days:+d} days from {today} is out of range") from None


def parse_date_spec(text: str) -> DateSpec:
    word = text.strip().lower()
    if word in _NAMED_OFFSETS:
        return DateSpec(offset_days=_NAMED_OFFSETS[word])
    if match := _RELATIVE.fullmatch(word):
        days_per_unit = 7 if match[2] == "w" else 1
        return DateSpec(offset_days=int(match[1]) * days_per_unit)
    try:
        return DateSpec(absolute=date.fromisoformat(word))
    except ValueError:
        raise ValueError(f"bad date {text!r}: use {_ACCEPTED}") from None


def facility_window(  # noqa: PLR0917 - the generate service's positional contract
    zone_name: str,
    now: datetime,
    start: DateSpec | None,
    end: DateSpec | None,
    days: int | None,
    in_scope: bool,
) -> FacilityWindow:
    """The inclusive facility-local dates a run covers at one facility.

    Raises UnknownZoneError (a ValueError) for a bad zone and ValueError for a bad range.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if end is not None and days is not None:
        raise ValueError("give either an end date or a number of days, not both")
    if days is not None and days < 0:
        raise ValueError(f"the number of days must not be negative, got {days}")
    today = now.astimezone(load_zone(zone_name)).date()
    first_day = start.resolve(today) if start is not None else today
    if end is not None:
        last_day = end.resolve(today)
    else:
        last_day = first_day + timedelta(days=DEFAULT_DAYS if days is None else days)
    if last_day < first_day:
        raise ValueError(f"end {last_day} is before start {first_day} ({zone_name})")
    if (last_day - first_day).days > MAX_DAYS:
        raise ValueError(
            f"{first_day} to {last_day} is {(last_day - first_day).days} days; "
            f"at most {MAX_DAYS} are allowed"
        )
    return FacilityWindow(zone_name, first_day, last_day, in_scope)


def span_utc(window: FacilityWindow) -> tuple[datetime, datetime]:
    """The instants bounding a facility's whole days: which stored slots are in its range."""
    zone = load_zone(window.zone)
    return (
        local_instant(window.first_day, MIDNIGHT, zone),
        local_instant(window.last_day + ONE_DAY, MIDNIGHT, zone),
    )
