"""The values the core exchanges with the database layer.

The high-volume rows are NamedTuples: the database layer hands them straight to
executemany and a run creates hundreds of thousands, where dataclass construction would
cost more than planning itself.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

RULES_TABLE = "availability_rules"
EXCEPTIONS_TABLE = "availability_exceptions"


class Rule(NamedTuple):
    """An availability_rules row joined with its facility's zone name.

    day_of_week uses cron numbering (0 = Sunday ... 6 = Saturday) because the booking app
    writes it that way; end_time 00:00 means the end of the day.
    """

    id: int
    facility_id: int
    doctor_id: int
    service_id: int | None
    day_of_week: int
    start_time: time
    end_time: time
    slot_duration_minutes: int
    buffer_minutes: int
    valid_from: date | None
    valid_until: date | None
    is_active: bool
    timezone: str
    recurrence: str | None = None
    """An RRULE of the subset in slotgen.core.recurrence; None (or blank) is every week."""


class AvailabilityException(NamedTuple):
    """An availability_exceptions row joined with its facility's zone name.

    doctor_id None closes the whole facility; no times close whole days.
    """

    id: int
    facility_id: int
    doctor_id: int | None
    start_date: date
    end_date: date | None
    start_time: time | None
    end_time: time | None
    type: str
    reason: str | None
    timezone: str


class PlannedSlot(NamedTuple):
    """A slot the rules produce; field order is the database layer's insert order."""

    doctor_id: int
    start_at: datetime
    end_at: datetime
    facility_id: int
    service_id: int | None
    rule_id: int


class ExistingSlot(NamedTuple):
    """An availability_slots row; fields 1..6 line up with PlannedSlot so they compare whole."""

    id: int
    doctor_id: int
    start_at: datetime
    end_at: datetime
    facility_id: int
    service_id: int | None
    rule_id: int | None
    status: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that could not be used; the run goes on without it and reports it."""

    table: str
    id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """A place where the rules and the stored slots disagree and slotgen will not decide.

    kind is 'overlapping_rules', 'taken_slot_disagrees', 'taken_slot_not_planned' or
    'occupied'.
    """

    kind: str
    doctor_id: int
    start_at: datetime
    rule_id: int | None
    other_rule_id: int | None
    slot_id: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class FacilityWindow:
    """The facility-local dates a run covers; out-of-scope facilities still block."""

    zone: str
    first_day: date
    last_day: date
    in_scope: bool


@dataclass(slots=True)
class ChunkPlan:
    """Everything one chunk of doctors needs written, in the order writers must use.

    Inserts are sorted by (doctor_id, start_at) and updates/deletes by id so concurrent
    writers take row locks in the same order and cannot deadlock.
    """

    inserts: list[PlannedSlot] = field(default_factory=list)
    updates: list[tuple[int, PlannedSlot]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    created_per_rule: dict[int, int] = field(default_factory=dict)
    blocked_by_type: dict[str, int] = field(default_factory=dict)
    longest_slot: dict[int, timedelta] = field(default_factory=dict)
    """Per doctor, the longer of the longest slot read back and the chunk's longest rule
    duration (what any slot written can be): how far one of their stored slots reaches."""
    stored_per_day: dict[int, dict[int, int]] = field(default_factory=dict)
    """Per doctor, the slots each cleanly reconciled day (by index in the run's DayRange)
    holds once the plan is written."""
