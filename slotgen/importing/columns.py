"""The columns a schedule file may give, per table, and how each value is read.

They are the schema contract's columns (minus id and the timestamps the database sets);
`tests/db/test_schema.py` holds them against `slotgen.db.schema`, so the file format and
the tables are one contract. Every row describes the whole database row: a column left
out takes the contract's default (NULL, `'UTC'`, 0, true, `'blocked'`), also when the row
updates an existing id, so importing the same file twice leaves the same rows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from slotgen.core.dates import UnknownZoneError, load_zone
from slotgen.core.model import EXCEPTIONS_TABLE, RULES_TABLE
from slotgen.core.recurrence import RecurrenceError, normalise_recurrence
from slotgen.vocabulary import ExceptionType

FACILITIES = "facilities"
DOCTORS = "doctors"
SERVICES = "services"
TABLES = (FACILITIES, DOCTORS, SERVICES, RULES_TABLE, EXCEPTIONS_TABLE)
"""In the order they are written: a row is written after the rows it references."""

TABLE_NAMES = {
    **{name: name for name in TABLES},
    "rules": RULES_TABLE,
    "exceptions": EXCEPTIONS_TABLE,
}
"""Names a file may use for a table: the contract's, or the two short ones."""

SET_BY_DATABASE = frozenset({"created_at", "updated_at"})
INT_MAX = 2**31 - 1

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_WEEKDAY_NUMBERS = {
    **{name: number for number, name in enumerate(WEEKDAYS)},
    **{name[:3]: number for number, name in enumerate(WEEKDAYS)},
}
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})

Coerce = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    coerce: Coerce
    required: bool = False
    default: Any = None
    references: str | None = None


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be a whole number, got {value!r}")
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise ValueError(f"must be a whole number, got {value!r}") from None
    if not -INT_MAX <= number <= INT_MAX:
        raise ValueError(f"{number} is out of range")
    return number


def positive(value: Any) -> int:
    number = _integer(value)
    if number < 1:
        raise ValueError(f"must be 1 or more, got {number}")
    return number


def _text(max_length: int | None) -> Coerce:
    def coerce(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be text, got {value!r}")
        if max_length is not None and len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return coerce


def _zone(value: Any) -> str:
    name: str = _text(64)(value)
    try:
        load_zone(name)
    except UnknownZoneError as exc:
        raise ValueError(f"{exc}: use an IANA name such as Europe/Berlin") from None
    return name


def _country(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code the `holidays` package has a calendar for, upper-cased.

    The package is imported only when a file names a country: it costs every other import.
    """
    code: str = _text(2)(value).strip().upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise ValueError(f"must be a two-letter ISO 3166 country code such as DE, got {value!r}")
    from holidays import list_supported_countries

    if code not in list_supported_countries():
        raise ValueError(f"the holidays package has no public holidays for country {code!r}")
    return code


def weekday(value: Any) -> int:
    """0 = Sunday ... 6 = Saturday, the contract's numbering, or a day's name in any case."""
    if isinstance(value, str) and value.strip().lower() in _WEEKDAY_NUMBERS:
        return _WEEKDAY_NUMBERS[value.strip().lower()]
    try:
        number = _integer(value)
    except ValueError:
        raise ValueError(
            f"unknown weekday {value!r}: use a name (monday, mon) or 0 (Sunday) to 6 (Saturday)"
        ) from None
    if not 0 <= number <= 6:
        raise ValueError(f"weekday {number} is not 0 (Sunday) to 6 (Saturday)")
    return number


def _time(value: Any) -> time:
    if isinstance(value, time):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"must be a time HH:MM, got {value!r}") from None
    else:
        raise ValueError(f"must be a time HH:MM, got {value!r}")
    if parsed.tzinfo is not None:
        raise ValueError("must be a wall-clock time without an offset (the facility's zone)")
    return parsed


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")


def _recurrence(value: Any) -> str:
    """The canonical RRULE, so what the database holds reads the same whoever wrote it."""
    text: str = _text(200)(value)
    try:
        return normalise_recurrence(text)
    except RecurrenceError as exc:
        raise ValueError(str(exc).removeprefix("recurrence ")) from None


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str | int) else None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"must be true or false, got {value!r}")


CONTACT_COLUMNS = (
    ("phone", 64),
    ("website", 500),
    ("address_line", 500),
    ("city", 200),
    ("district", 200),
    ("state", 200),
    ("postal_code", 32),
    ("country", 64),
)
"""A facility's contact columns and their lengths: what the FHIR feed's Location shows."""

COLUMNS: dict[str, tuple[Column, ...]] = {
    FACILITIES: (
        Column("name", _text(200), required=True),
        Column("timezone", _zone, default="UTC"),
        Column("holiday_country", _country),
        Column("holiday_subdivision", _text(16)),
        *(Column(name, _text(length)) for name, length in CONTACT_COLUMNS),
    ),
    DOCTORS: (Column("name", _text(200), required=True),),
    SERVICES: (
        Column("name", _text(200), required=True),
        Column("duration_minutes", positive),
    ),
    RULES_TABLE: (
        Column("facility_id", _integer, required=True, references=FACILITIES),
        Column("doctor_id", _integer, required=True, references=DOCTORS),
        Column("service_id", _integer, references=SERVICES),
        Column("day_of_week", weekday, required=True),
        Column("start_time", _time, required=True),
        Column("end_time", _time, required=True),
        Column("slot_duration_minutes", _integer, required=True),
        Column("buffer_minutes", _integer, default=0),
        Column("valid_from", _date),
        Column("valid_until", _date),
        Column("is_active", _boolean, default=True),
        Column("recurrence", _recurrence),
    ),
    EXCEPTIONS_TABLE: (
        Column("facility_id", _integer, required=True, references=FACILITIES),
        Column("doctor_id", _integer, references=DOCTORS),
        Column("start_date", _date, required=True),
        Column("end_date", _date),
        Column("start_time", _time),
        Column("end_time", _time),
        Column("type", _text(32), default=ExceptionType.BLOCKED.value),
        Column("reason", _text(None)),
        Column("source", _text(64)),
    ),
}
"""Each table's columns besides id: the contract's names, types and defaults."""


def column_problem(table: str, column: str) -> str | None:
    if column == "id" or any(c.name == column for c in COLUMNS[table]):
        return None
    if column in SET_BY_DATABASE:
        return f"{column} is set by the database: leave it out"
    names = ", ".join(["id", *(c.name for c in COLUMNS[table])])
    return f"unknown column {column!r} in {table}: use {names}"
