"""What a job is asked to do, as stored in `job_runs.params` and read back by `slotgen retry`.

Each job's parameters are one frozen type, checked when it is made: from the command
line (before any run is recorded: bad input writes nothing and is never retried) and from
a stored row alike. Dates are kept as written (`today`, `+7d`), so a retry covers the
range as of its own day.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol, Self

from slotgen.core.dates import MAX_DAYS, DateSpec, parse_date_spec
from slotgen.errors import BadInput
from slotgen.vocabulary import Job

DEFAULT_BATCH_SIZE = 5000
IGNORED_KEYS = frozenset({"dry_run"})
"""Stored by older slotgen versions; a dry run is never recorded, so it means nothing."""


class JobParams(Protocol):
    job: ClassVar[Job]

    def to_json(self) -> dict[str, Any]: ...


def _date_spec(text: str | None, option: str) -> DateSpec | None:
    if text is None:
        return None
    try:
        return parse_date_spec(text)
    except ValueError as exc:
        raise BadInput(f"{option}: {exc}") from None


def _ids(values: Any, name: str) -> tuple[int, ...]:
    if values is None:
        return ()
    if not isinstance(values, list | tuple) or not all(
        isinstance(value, int) and not isinstance(value, bool) and value > 0 for value in values
    ):
        raise BadInput(f"{name} must be a list of positive ids, got {values!r}")
    return tuple(values)


def _known_keys(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    names = {field.name for field in fields(cls)}
    unknown = sorted(set(data) - names - IGNORED_KEYS)
    if unknown:
        raise BadInput(f"unknown {cls.__name__} parameter(s): {', '.join(unknown)}")
    return {key: value for key, value in data.items() if key in names}


@dataclass(frozen=True)
class GenerateParams:
    """The facilities, doctors and dates of a generate run; empty ids mean all of them."""

    job: ClassVar[Job] = Job.GENERATE

    facility_ids: tuple[int, ...] = ()
    doctor_ids: tuple[int, ...] = ()
    start_date: str | None = None
    end_date: str | None = None
    days: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "facility_ids", _ids(self.facility_ids, "facility_ids"))
        object.__setattr__(self, "doctor_ids", _ids(self.doctor_ids, "doctor_ids"))
        if self.end_date is not None and self.days is not None:
            raise BadInput("give --end-date or --days, not both")
        if self.days is not None:
            if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days < 0:
                raise BadInput(f"--days must be a whole number of 0 or more, got {self.days!r}")
            if self.days > MAX_DAYS:
                raise BadInput(f"--days {self.days}: a range may span at most {MAX_DAYS} days")
        start, end = self.start, self.end
        if start is not None and end is not None and _comparable(start, end):
            span = _days_between(start, end)
            if span < 0:
                raise BadInput(
                    f"--end-date {self.end_date} is before --start-date {self.start_date}"
                )
            if span > MAX_DAYS:
                raise BadInput(
                    f"--start-date {self.start_date} to --end-date {self.end_date} is {span} "
                    f"days; a range may span at most {MAX_DAYS}"
                )

    @property
    def start(self) -> DateSpec | None:
        return _date_spec(self.start_date, "--start-date")

    @property
    def end(self) -> DateSpec | None:
        return _date_spec(self.end_date, "--end-date")

    def to_json(self) -> dict[str, Any]:
        return {
            "facility_ids": list(self.facility_ids),
            "doctor_ids": list(self.doctor_ids),
            "start_date": self.start_date,
            "end_date": self.end_date,
            "days": self.days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**_known_keys(cls, data))


def _comparable(start: DateSpec, end: DateSpec) -> bool:
    """Both absolute or both relative to today: their distance does not depend on the zone."""
    return (start.absolute is None) == (end.absolute is None)


def _days_between(start: DateSpec, end: DateSpec) -> int:
    if start.absolute is not None and end.absolute is not None:
        return (end.absolute - start.absolute).days
    return end.offset_days - start.offset_days


@dataclass(frozen=True)
class ReleaseParams:
    job: ClassVar[Job] = Job.RELEASE

    batch_size: int = DEFAULT_BATCH_SIZE

    def __post_init__(self) -> None:
        size = self.batch_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise BadInput(f"--batch-size must be a whole number of 1 or more, got {size!r}")

    def to_json(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**_known_keys(cls, data))


MAX_AHEAD_DAYS = 1100
"""`holidays sync --ahead` reaches at most three years out: calendars change further away."""
YEARS = range(1900, 2201)
_AHEAD = re.compile(r"(\d+)\s*([dw]?)")


def ahead_days(text: str) -> int:
    """`400d`, `8w` or a bare number of days."""
    found = _AHEAD.fullmatch(text.strip().lower())
    if found is None:
        raise BadInput(f"--ahead {text!r}: use days or weeks, such as 400d or 8w")
    days = int(found[1]) * (7 if found[2] == "w" else 1)
    if days > MAX_AHEAD_DAYS:
        raise BadInput(f"--ahead {text}: at most {MAX_AHEAD_DAYS} days")
    return days


@dataclass(frozen=True)
class HolidaysParams:
    """Which facilities `holidays sync` covers, and which of their local days.

    No years and no `ahead` mean this year and next in each facility's zone, decided on
    the day of the run (a retry covers the years as of its own day).
    """

    job: ClassVar[Job] = Job.HOLIDAYS

    facility_ids: tuple[int, ...] = ()
    years: tuple[int, ...] = ()
    ahead: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "facility_ids", _ids(self.facility_ids, "facility_ids"))
        years = self.years
        if not isinstance(years, list | tuple) or not all(
            isinstance(year, int) and not isinstance(year, bool) for year in years
        ):
            raise BadInput(f"--years must be a list of years, got {years!r}")
        if bad := [year for year in years if year not in YEARS]:
            raise BadInput(f"--years {bad[0]}: give years from {YEARS.start} to {YEARS.stop - 1}")
        object.__setattr__(self, "years", tuple(sorted(set(years))))
        if self.years and self.ahead is not None:
            raise BadInput("give --years or --ahead, not both")
        if self.ahead is not None:
            ahead_days(self.ahead)

    @property
    def ahead_days(self) -> int | None:
        return None if self.ahead is None else ahead_days(self.ahead)

    def to_json(self) -> dict[str, Any]:
        return {
            "facility_ids": list(self.facility_ids),
            "years": list(self.years),
            "ahead": self.ahead,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**_known_keys(cls, data))
