"""Rotations: which local dates a rule applies on when it repeats every n weeks or on the
n-th weekday of a month.

A rule's `recurrence` is an RFC 5545 RRULE without the `RRULE:` prefix, limited to what a
clinic roster needs and nothing that could disagree with the rule's own columns:

- `FREQ=WEEKLY;INTERVAL=n` (n >= 1): the rule's `day_of_week` in every n-th week. Weeks
  are ISO weeks (Monday first, `WKST=MO`) counted from the week that contains
  `valid_from`, which is required when n > 1. The count depends on `valid_from` alone, so
  saving or importing a rule again never moves its weeks; moving `valid_from` by an odd
  number of weeks swaps week A and week B.
- `FREQ=MONTHLY;BYDAY=±kDD[,...]` (k in 1..5 or -1..-5, DD the rule's weekday): the k-th
  (or k-th last) such weekday of each month, none in a month without one. `INTERVAL=n`
  counts months from `valid_from`'s month (required when n > 1).

`valid_from`/`valid_until` stay the only bounds: COUNT, UNTIL, times (BYHOUR ...), other
frequencies and a BYDAY weekday other than `day_of_week` are refused with a reason, and
generate skips such a rule as a bad row. A recurrence selects dates only; the window on
each date is resolved by the DST policy in slotgen.core.plan, so an RRULE can never put
a slot inside a DST gap.

Week labels (A and B for every 2 weeks, "2 of 3" for every 3) are clinic-wide: they count
weeks from Monday 5 January 1970, so two alternating rules show A and B whatever their
`valid_from`. They only name weeks; which weeks a rule works is counted as above.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from math import lcm

from dateutil.rrule import FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, rrule, weekday

from slotgen.core.dates import day_name

WEEKLY_FREQ = "WEEKLY"
MONTHLY_FREQ = "MONTHLY"
WEEK_EPOCH = date(1970, 1, 5)
"""A Monday: week labels count from it, so they are the same for every rule."""

_CODES = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
"""RFC 5545 weekday codes in cron order (0 = Sunday), the numbering of day_of_week."""
_DAY_WORDS = {day_name(number).lower()[:3]: code for number, code in enumerate(_CODES)}
_DATEUTIL_DAYS = (SU, MO, TU, WE, TH, FR, SA)
_FREQUENCIES = (WEEKLY_FREQ, MONTHLY_FREQ)
_KEYS = frozenset({"FREQ", "INTERVAL", "BYDAY", "WKST"})
_BYDAY = re.compile(r"([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)")
_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}
MAX_INTERVAL = 520
"""Ten years of weeks: anything longer is a typo, not a roster."""


class RecurrenceError(ValueError):
    """A recurrence slotgen does not understand; the message says what to write instead."""


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A parsed recurrence. days: (position or None, cron weekday), as BYDAY lists them."""

    freq: str
    interval: int
    days: tuple[tuple[int | None, int], ...]

    def text(self) -> str:
        """The canonical RRULE text, what import stores."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.days:
            byday = ",".join(f"{'' if k is None else k}{_CODES[d]}" for k, d in self.days)
            parts.append(f"BYDAY={byday}")
        return ";".join(parts)


def parse_recurrence(text: str) -> Recurrence:
    """Read an RRULE of the documented subset, without looking at the rule's other columns."""
    source = text.strip().upper()
    if source.startswith("RRULE:"):
        source = source.removeprefix("RRULE:")
    if not source:
        raise RecurrenceError("recurrence is empty")
    fields: dict[str, str] = {}
    for part in source.split(";"):
        key, equals, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key or not value:
            raise RecurrenceError(f"recurrence {text!r}: {part!r} is not NAME=VALUE")
        if key in fields:
            raise RecurrenceError(f"recurrence {text!r}: {key} is given twice")
        fields[key] = value
    freq = fields.get("FREQ")
    if freq not in _FREQUENCIES:
        raise RecurrenceError(
            f"recurrence {text!r}: FREQ must be WEEKLY or MONTHLY"
            + ("" if freq is None else f", not {freq}")
        )
    extra = sorted(fields.keys() - _KEYS)
    if extra:
        raise RecurrenceError(
            f"recurrence {text!r}: {', '.join(extra)} not supported (valid_from and "
            "valid_until are the only bounds; times come from start_time and end_time)"
        )
    if fields.get("WKST", "MO") != "MO":
        raise RecurrenceError(f"recurrence {text!r}: weeks start on Monday (WKST=MO)")
    interval = _interval(text, fields.get("INTERVAL", "1"))
    days = _days(text, fields.get("BYDAY"))
    if freq == WEEKLY_FREQ and any(k is not None for k, _ in days):
        raise RecurrenceError(
            f"recurrence {text!r}: a weekly rule's BYDAY has no position; "
            "use FREQ=MONTHLY for the n-th weekday of a month"
        )
    if freq == MONTHLY_FREQ and (not days or any(k is None for k, _ in days)):
        raise RecurrenceError(
            f"recurrence {text!r}: a monthly rule needs BYDAY with a position, "
            "e.g. BYDAY=1MO (1st Monday) or BYDAY=-1FR (last Friday)"
        )
    if len({d for _, d in days}) > 1:
        raise RecurrenceError(f"recurrence {text!r}: BYDAY names more than one weekday")
    return Recurrence(freq, interval, tuple(sorted(set(days), key=_position_order)))


def _position_order(day: tuple[int | None, int]) -> tuple[int, int]:
    k = day[0] or 0
    return (1 if k < 0 else 0, k if k > 0 else -k)


def _interval(text: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_INTERVAL:
        raise RecurrenceError(
            f"recurrence {text!r}: INTERVAL must be a whole number 1 to {MAX_INTERVAL}"
        )
    return int(value)


def _days(text: str, value: str | None) -> list[tuple[int | None, int]]:
    if value is None:
        return []
    days: list[tuple[int | None, int]] = []
    for item in value.split(","):
        match = _BYDAY.fullmatch(item.strip())
        if match is None:
            raise RecurrenceError(
                f"recurrence {text!r}: BYDAY item {item!r} is not [±k]MO..SU, e.g. 1MO or -1FR"
            )
        position = None if match[1] is None else int(match[1])
        if position is not None and not (1 <= abs(position) <= 5):
            raise RecurrenceError(
                f"recurrence {text!r}: BYDAY position {position} must be 1 to 5 or -1 to -5"
            )
        days.append((position, _CODES.index(match[2])))
    return days


def recurrence_problem(text: str | None, day_of_week: int, valid_from: date | None) -> str | None:
    """Why a rule's recurrence cannot be used with its other columns, or None."""
    if text is None or not text.strip():
        return None
    try:
        recurrence = parse_recurrence(text)
    except RecurrenceError as error:
        return str(error)
    if 0 <= day_of_week <= 6 and any(d != day_of_week for _, d in recurrence.days):
        named = day_name(recurrence.days[0][1])
        return (
            f"recurrence {text!r} names {named} but day_of_week is "
            f"{day_of_week} ({day_name(day_of_week)})"
        )
    if recurrence.interval > 1 and valid_from is None:
        unit = "weeks" if recurrence.freq == WEEKLY_FREQ else "months"
        return (
            f"recurrence {text!r} repeats every {recurrence.interval} {unit}, counted from "
            "valid_from: set valid_from"
        )
    return None


@lru_cache(maxsize=1024)
def usable_recurrence(text: str | None) -> Recurrence | None:
    """The recurrence of a rule that passed validation; None means every week."""
    if text is None or not text.strip():
        return None
    recurrence = parse_recurrence(text)
    if recurrence.freq == WEEKLY_FREQ and recurrence.interval == 1:
        return None
    return recurrence


def week_start(day: date) -> date:
    """The Monday of day's ISO week."""
    return day - timedelta(days=day.weekday())


def weeks_between(first: date, second: date) -> int:
    """How many ISO weeks second's week is after first's week (negative if before)."""
    return (week_start(second) - week_start(first)).days // 7


def week_label(day: date, interval: int) -> str:
    """The clinic-wide name of day's week in an every-`interval`-weeks rotation."""
    if interval < 2:
        return ""
    index = weeks_between(WEEK_EPOCH, day) % interval
    return "AB"[index] if interval == 2 else f"{index + 1} of {interval}"


def _dateutil_days(recurrence: Recurrence) -> list[weekday]:
    return [_DATEUTIL_DAYS[d] if k is None else _DATEUTIL_DAYS[d](k) for k, d in recurrence.days]


@lru_cache(maxsize=4096)
def recurrence_dates(
    recurrence: Recurrence,
    day_of_week: int,
    valid_from: date | None,
    first: date,
    last: date,
) -> frozenset[date]:
    """The local dates in [first, last] a rule with this recurrence applies on.

    dateutil's rrule does the expansion on naive midnights, dates and nothing else: the
    anchor is the Monday of valid_from's week (weekly) or the 1st of its month (monthly),
    so the count never depends on the range asked for. valid_from itself is the caller's
    bound, as for any rule.
    """
    if last < first:
        return frozenset()
    origin = valid_from if valid_from is not None else first
    if recurrence.freq == WEEKLY_FREQ:
        schedule = rrule(
            WEEKLY,
            interval=recurrence.interval,
            byweekday=_DATEUTIL_DAYS[day_of_week],
            dtstart=datetime.combine(week_start(origin), time()),
            wkst=MO,
        )
    else:
        schedule = rrule(
            MONTHLY,
            interval=recurrence.interval,
            byweekday=_dateutil_days(recurrence),
            dtstart=datetime.combine(origin.replace(day=1), time()),
        )
    moments = schedule.between(
        datetime.combine(first, time()), datetime.combine(last, time()), inc=True
    )
    return frozenset(moment.date() for moment in moments)


def period_days(recurrence: Recurrence | None) -> int:
    """How many days a recurrence takes to repeat itself exactly (at most), for scans."""
    if recurrence is None:
        return 7
    if recurrence.freq == WEEKLY_FREQ:
        return 7 * recurrence.interval
    # Weekday patterns of months repeat every 400 years; a few years show every position.
    return 31 * lcm(recurrence.interval, 12) * 2


def _ordinal(position: int) -> str:
    if position > 0:
        return _ORDINALS[position]
    return "last" if position == -1 else f"{_ORDINALS[-position]}-to-last"


def describe_recurrence(text: str | None, day_of_week: int, valid_from: date | None) -> str:
    """The rule's repetition in words: 'every week', 'every 2 weeks from 2027-01-04 (week A)',
    '1st Monday', 'last Friday', '2nd and 4th Tuesday every 3 months from 2027-01'."""
    if recurrence_problem(text, day_of_week, valid_from) is not None:
        return f"unusable recurrence {text!r}"
    recurrence = usable_recurrence(text)
    if recurrence is None:
        return "every week"
    if recurrence.freq == WEEKLY_FREQ:
        assert valid_from is not None  # recurrence_problem requires it
        start = week_start(valid_from)
        return (
            f"every {recurrence.interval} weeks from {start} "
            f"(week {week_label(start, recurrence.interval)})"
        )
    positions = [_ordinal(k) for k, _ in recurrence.days if k is not None]
    which = (
        positions[0] if len(positions) == 1 else f"{', '.join(positions[:-1])} and {positions[-1]}"
    )
    words = f"{which} {day_name(day_of_week)}"
    if recurrence.interval > 1:
        assert valid_from is not None
        words += f" every {recurrence.interval} months from {valid_from:%Y-%m}"
    return words


_FRIENDLY_WEEKS = re.compile(r"every\s+(\d+)\s+weeks?")
_FRIENDLY_MONTHLY = re.compile(
    r"((?:\w+(?:\s*,\s*|\s+and\s+))*\w+)\s+(sunday|monday|tuesday|wednesday|thursday|friday|saturday|sun|mon|tue|wed|thu|fri|sat)s?"
    r"(?:\s+of\s+(?:the|each|every)\s+month)?"
    r"(?:\s+every\s+(\d+)\s+months?)?"
)
_POSITION_WORDS = {
    "1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4,
    "fourth": 4, "5th": 5, "fifth": 5, "last": -1, "2nd-to-last": -2, "second-to-last": -2,
}  # fmt: skip


def normalise_recurrence(text: str) -> str:
    """The canonical RRULE for what a person wrote in a schedule file.

    Accepts the RRULE subset and a few plain forms: 'every week', 'every 2 weeks',
    'every other week', '1st monday', 'last friday', '2nd and 4th tuesday',
    '1st monday every 3 months'. Anything else is refused rather than guessed.
    """
    words = " ".join(text.strip().lower().split())
    if "=" in words:
        return parse_recurrence(text).text()
    if words in {"every week", "weekly"}:
        return "FREQ=WEEKLY"
    if words in {"every other week", "every second week", "alternate weeks"}:
        return "FREQ=WEEKLY;INTERVAL=2"
    if match := _FRIENDLY_WEEKS.fullmatch(words):
        return parse_recurrence(f"FREQ=WEEKLY;INTERVAL={match[1]}").text()
    if match := _FRIENDLY_MONTHLY.fullmatch(words):
        items = re.split(r"\s*,\s*|\s+and\s+", match[1])
        if all(item in _POSITION_WORDS for item in items):
            code = _DAY_WORDS[match[2][:3]]
            byday = ",".join(f"{_POSITION_WORDS[item]}{code}" for item in items)
            interval = f";INTERVAL={match[3]}" if match[3] else ""
            return parse_recurrence(f"FREQ=MONTHLY{interval};BYDAY={byday}").text()
    raise RecurrenceError(
        f"recurrence {text!r} is not clear: write an RRULE such as FREQ=WEEKLY;INTERVAL=2 or "
        "FREQ=MONTHLY;BYDAY=-1FR, or 'every 2 weeks', '1st monday', 'last friday'"
    )
