"""A re-run that trusts its watermarks ends exactly where a full reconcile ends.

Every case runs generate once, changes something the way a booking app, an operator or
time would, copies the database, and runs generate again on both copies: on one with its
watermarks, on the other with them deleted, which makes it read back and compare every
stored slot. Stored slots and reports must come out the same; the cases with nothing to
do must also show that the watermarks saved the read-back.
"""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, func, select, update
from sqlalchemy.engine import make_url

from slotgen.db.engine import open_engine
from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    availability_slots,
    facilities,
    plan_watermarks,
)
from slotgen.services.generate import GenerateReport, generate_slots
from slotgen.services.params import GenerateParams
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_exception, add_facility, add_rule, add_slot, utc

SLOTS = availability_slots.c
NOW = datetime(2083, 2, 28, 12, tzinfo=UTC)
"""The first run's clock: the day before the range starts."""
FIRST, LAST = date(2083, 3, 1), date(2083, 3, 14)
MICROSECOND = timedelta(microseconds=1)
READ_BACK = "SELECT id, doctor_id, "
"""How the full reconcile's read-back of stored slots starts (slotgen.db.slots)."""


@dataclass(frozen=True)
class Clinic:
    north: int
    harbour: int
    valley: int
    lee: int
    kim: int
    rai: int
    lee_monday: int
    kim_tuesday: int
    closure: int


@pytest.fixture
def clinic(database: DatabaseUnderTest) -> Clinic:
    """Three zones: Berlin, Sydney (whose mornings fall on the UTC day before) and
    Kathmandu (+05:45); a doctor at two facilities; a closed day; a slot made by hand."""
    engine = database.engine
    north = add_facility(engine, "North", "Europe/Berlin")
    harbour = add_facility(engine, "Harbour", "Australia/Sydney")
    valley = add_facility(engine, "Valley", "Asia/Kathmandu")
    lee, kim, rai = (add_doctor(engine, name) for name in ("Dr. Lee", "Dr. Kim", "Dr. Rai"))
    lee_monday = add_rule(engine, north, lee, 1, "09:00", "12:00", 30)
    for day in range(2, 6):
        add_rule(engine, north, lee, day, "09:00", "12:00", 30)
    kim_tuesday = add_rule(engine, harbour, kim, 2, "08:00", "18:00", 20)
    for day in (1, 3, 4, 5):
        add_rule(engine, harbour, kim, day, "08:00", "18:00", 20)
    for day in (1, 3, 5):
        add_rule(engine, valley, rai, day, "10:00", "16:00", 15)
    add_rule(engine, north, rai, 2, "09:00", "11:00", 30, buffer_minutes=10)
    closure = add_exception(engine, north, date(2083, 3, 3), reason="Staff training")
    add_slot(engine, north, lee, utc(2083, 3, 2, 14), 30, status="booked")
    return Clinic(north, harbour, valley, lee, kim, rai, lee_monday, kim_tuesday, closure)


def _first_slot(engine: Engine, doctor_id: int, status: str = "open") -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(SLOTS.id, SLOTS.start_at, SLOTS.end_at)
            .where(SLOTS.doctor_id == doctor_id, SLOTS.status == status, SLOTS.rule_id.is_not(None))
            .order_by(SLOTS.start_at)
            .limit(1)
            .offset(7)
        ).one()


def _set_slot(engine: Engine, owner: int, **values: Any) -> None:
    slot = _first_slot(engine, owner)
    with engine.begin() as connection:
        connection.execute(update(availability_slots).where(SLOTS.id == slot.id).values(**values))


def _end_moved(engine: Engine, clinic: Clinic) -> None:
    slot = _first_slot(engine, clinic.kim)
    _set_slot(engine, clinic.kim, end_at=slot.end_at + timedelta(minutes=5))


def _deleted(engine: Engine, clinic: Clinic) -> None:
    slot = _first_slot(engine, clinic.lee)
    with engine.begin() as connection:
        connection.execute(delete(availability_slots).where(SLOTS.id == slot.id))


def _overlapping_hand_slot(engine: Engine, clinic: Clinic) -> None:
    slot = _first_slot(engine, clinic.kim)
    add_slot(engine, clinic.harbour, clinic.kim, slot.start_at + timedelta(minutes=10), 20)


def _stray_slot_of_a_rule(engine: Engine, clinic: Clinic) -> None:
    """A slot that looks like slotgen's at a time the rule does not offer: to be removed."""
    add_slot(
        engine, clinic.north, clinic.lee, utc(2083, 3, 9, 6, 15), 30, rule_id=clinic.lee_monday
    )


def _zone_changed(engine: Engine, clinic: Clinic) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(facilities)
            .where(facilities.c.id == clinic.valley)
            .values(timezone="Asia/Kolkata")
        )


def _rule_changed(engine: Engine, clinic: Clinic, **values: Any) -> None:
    rules = availability_rules.c
    with engine.begin() as connection:
        connection.execute(
            update(availability_rules).where(rules.id == clinic.kim_tuesday).values(**values)
        )


def _closure_added(engine: Engine, clinic: Clinic) -> None:
    add_exception(
        engine,
        clinic.harbour,
        date(2083, 3, 10),
        start_time=utc(1, 1, 1, 13).time(),
        reason="Audit",
    )


def _closure_removed(engine: Engine, clinic: Clinic) -> None:
    e = availability_exceptions.c
    with engine.begin() as connection:
        connection.execute(delete(availability_exceptions).where(e.id == clinic.closure))


def _closure_widened(engine: Engine, clinic: Clinic) -> None:
    e = availability_exceptions.c
    with engine.begin() as connection:
        connection.execute(
            update(availability_exceptions)
            .where(e.id == clinic.closure)
            .values(end_date=date(2083, 3, 4))
        )


def _turned_bad_then(engine: Engine, clinic: Clinic, **values: Any) -> None:
    """A run while the rule is bad keeps its slots; then the rule is fixed or ended."""
    _rule_changed(engine, clinic, slot_duration_minutes=0)
    _generate(engine, Rerun())
    _rule_changed(engine, clinic, **values)


def _ended_while_another_facility_ran(engine: Engine, clinic: Clinic) -> None:
    """Dr. Rai's Valley rules end; a run of North alone leaves their slots to the next."""
    rules = availability_rules.c
    with engine.begin() as connection:
        connection.execute(
            update(availability_rules)
            .where(rules.doctor_id == clinic.rai, rules.facility_id == clinic.valley)
            .values(is_active=False)
        )
    _generate(engine, Rerun(facility_ids=(clinic.north,)))


def _stray_slot_before_the_range(engine: Engine, clinic: Clinic) -> None:
    """On the Sunday before the range, in Berlin: context until a range starts earlier."""
    add_slot(engine, clinic.north, clinic.lee, utc(2083, 2, 28, 14), 30, rule_id=clinic.lee_monday)
    _generate(engine, Rerun())


def _block_after_a_conflict(engine: Engine, clinic: Clinic) -> None:
    """A booked slot on the closed Wednesday keeps that day out of the watermark; then a
    block of days is added by hand from that day on, over Friday's slots."""
    add_slot(engine, clinic.north, clinic.lee, utc(2083, 3, 3, 8), 30, status="booked", rule_id=3)
    _generate(engine, Rerun())
    add_slot(engine, clinic.north, clinic.lee, utc(2083, 3, 3, 8, 30), 60 * 71)


def _booked_block_after_a_conflict(engine: Engine, clinic: Clinic) -> None:
    """The same block, booked and carrying a rule's id: a taken slot in the way."""
    add_slot(engine, clinic.north, clinic.lee, utc(2083, 3, 3, 8), 30, status="booked", rule_id=3)
    _generate(engine, Rerun())
    start = utc(2083, 3, 3, 8, 30)
    add_slot(engine, clinic.north, clinic.lee, start, 60 * 71, status="booked", rule_id=3)


def _unreadable_watermarks(engine: Engine, clinic: Clinic) -> None:
    """Rows this slotgen cannot read (an older one's, or edited by hand): as if none."""
    with engine.begin() as connection:
        connection.execute(update(plan_watermarks).values(days={"first": "2083-03-01"}))


def _block_from_before_the_range(engine: Engine, clinic: Clinic) -> None:
    """A block added by hand days before the range, up to its second morning: runs read
    slots from a day before their range, so the first run never sees it."""
    add_slot(engine, clinic.north, clinic.lee, utc(2083, 2, 26, 12), 60 * 24 * 4)
    _generate(engine, Rerun())


EDITS: dict[str, Callable[[Engine, Clinic], object]] = {
    "nothing": lambda engine, clinic: None,
    "a slot booked": lambda engine, clinic: _set_slot(engine, clinic.lee, status="booked"),
    "a slot reserved": lambda engine, clinic: _set_slot(
        engine, clinic.rai, status="reserved", reserved_until=NOW + timedelta(hours=1)
    ),
    "a slot's end moved by hand": _end_moved,
    "a slot deleted by hand": _deleted,
    "a slot given to another doctor": lambda engine, clinic: _set_slot(
        engine, clinic.lee, doctor_id=clinic.rai
    ),
    "a slot edited by a microsecond": lambda engine, clinic: _set_slot(
        engine,
        clinic.kim,
        end_at=_first_slot(engine, clinic.kim).end_at + timedelta(microseconds=1),
    ),
    "a free slot added by hand": lambda engine, clinic: add_slot(
        engine, clinic.valley, clinic.rai, utc(2083, 3, 5, 1), 15
    ),
    "an overlapping slot added by hand": _overlapping_hand_slot,
    "a slot added by hand across UTC midnight": lambda engine, clinic: add_slot(
        engine, clinic.harbour, clinic.kim, utc(2083, 3, 1, 23, 50), 20
    ),
    "a stray slot of a rule": _stray_slot_of_a_rule,
    "a facility's zone changed": _zone_changed,
    "a rule's window changed": lambda engine, clinic: _rule_changed(
        engine, clinic, end_time=time(12)
    ),
    "a rule deactivated": lambda engine, clinic: _rule_changed(engine, clinic, is_active=False),
    "a rule turned bad": lambda engine, clinic: _rule_changed(
        engine, clinic, slot_duration_minutes=0
    ),
    "a bad rule fixed": lambda engine, clinic: _turned_bad_then(
        engine, clinic, slot_duration_minutes=20
    ),
    "a bad rule deactivated": lambda engine, clinic: _turned_bad_then(
        engine, clinic, is_active=False
    ),
    "rules ended while another facility ran": _ended_while_another_facility_ran,
    "a stray slot of a rule before the range": _stray_slot_before_the_range,
    "a block of days added by hand after a conflict": _block_after_a_conflict,
    "a block of days from before the range": _block_from_before_the_range,
    "a booked block of days after a conflict": _booked_block_after_a_conflict,
    "watermarks this slotgen cannot read": _unreadable_watermarks,
    "a closure added": _closure_added,
    "a closure removed": _closure_removed,
    "a closure widened": _closure_widened,
}


@dataclass(frozen=True)
class Rerun:
    first: date = FIRST
    last: date = LAST
    now: datetime = NOW
    facility_ids: tuple[int, ...] = ()
    dry_run: bool = False


RERUNS = {
    "same range": Rerun(),
    "one facility only": Rerun(facility_ids=(1,)),  # North, the first of a fresh database
    "a day later": Rerun(now=NOW + timedelta(days=3, hours=2)),
    "the daily run": Rerun(first=FIRST + timedelta(days=1), last=LAST + timedelta(days=1)),
    "a longer range": Rerun(last=LAST + timedelta(days=9)),
    "a day earlier": Rerun(first=FIRST - timedelta(days=1)),
    "an earlier start": Rerun(first=FIRST - timedelta(days=2), now=NOW - timedelta(days=3)),
    "the clock gone back": Rerun(now=NOW - timedelta(hours=20)),
    "a dry run": Rerun(dry_run=True),
}


def _generate(engine: Engine, rerun: Rerun) -> GenerateReport:
    params = GenerateParams(
        start_date=rerun.first.isoformat(),
        end_date=rerun.last.isoformat(),
        facility_ids=rerun.facility_ids,
    )
    return generate_slots(engine, params, rerun.now, dry_run=rerun.dry_run)


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    columns = [c for c in availability_slots.c if c.name != "created_at"]
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(SLOTS.id))]


def _copy(engine: Engine, path: Path) -> Engine:
    source = make_url(str(engine.url)).database or ""
    with sqlite3.connect(source) as original, sqlite3.connect(path) as copy:
        original.backup(copy)
    original.close()
    copy.close()
    return open_engine(f"sqlite:///{path}")


@contextmanager
def read_backs(engine: Engine) -> Iterator[list[Any]]:
    """The parameters of every read-back of stored slots the engine runs meanwhile."""
    seen: list[Any] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith(READ_BACK) and "FROM availability_slots" in statement:
            seen.append(parameters)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _outcome(engine: Engine, rerun: Rerun) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    return _generate(engine, rerun).json(), _stored(engine)


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("rerun", list(RERUNS), ids=str)
@pytest.mark.parametrize("edit", list(EDITS), ids=str)
def test_a_rerun_on_watermarks_ends_as_a_full_reconcile_would(
    database: DatabaseUnderTest, clinic: Clinic, tmp_path: Path, edit: str, rerun: str
) -> None:
    engine = database.engine
    _generate(engine, Rerun())
    EDITS[edit](engine, clinic)
    full = _copy(engine, tmp_path / "full.db")
    try:
        with full.begin() as connection:
            connection.execute(delete(plan_watermarks))
        expected = _outcome(full, RERUNS[rerun])
    finally:
        full.dispose()
    assert _outcome(engine, RERUNS[rerun]) == expected


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("before", ["nothing", "the daily run", "a longer range"])
def test_a_rerun_with_nothing_to_do_reads_no_slot_back(
    database: DatabaseUnderTest, clinic: Clinic, before: str
) -> None:
    """Also once other ranges have left slots after this one's end."""
    engine = database.engine
    first = _generate(engine, Rerun())
    if before != "nothing":
        _generate(engine, RERUNS[before])
        _generate(engine, Rerun())
    with read_backs(engine) as seen:
        again = _generate(engine, Rerun(now=NOW + timedelta(hours=5)))
    assert seen == []
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == first.created
    assert again.conflicts == first.conflicts


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
def test_the_daily_run_reads_back_only_the_days_at_either_end(
    database: DatabaseUnderTest, clinic: Clinic
) -> None:
    engine = database.engine
    _generate(engine, Rerun())
    with read_backs(engine) as seen:
        daily = _generate(engine, RERUNS["the daily run"])
    assert daily.created > 0
    assert seen, "the new day is reconciled against what is stored"
    spans = [(str(parameters[-2]), str(parameters[-1])) for parameters in seen]
    assert all(until <= "2083-03-04" or since >= "2083-03-12" for since, until in spans), spans


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
def test_any_update_or_delete_of_a_slot_forgets_its_doctors_watermark(
    database: DatabaseUnderTest, clinic: Clinic
) -> None:
    engine = database.engine
    _generate(engine, Rerun())

    def marked() -> set[int]:
        with engine.connect() as connection:
            return set(connection.scalars(select(plan_watermarks.c.doctor_id)))

    assert marked() == {clinic.lee, clinic.kim, clinic.rai}
    _set_slot(engine, clinic.lee, doctor_id=clinic.rai)
    assert marked() == {clinic.kim}
    _deleted(engine, clinic)  # one of Dr. Lee's: already forgotten
    with engine.begin() as connection:
        connection.execute(
            delete(availability_slots).where(SLOTS.doctor_id == clinic.kim, SLOTS.rule_id.is_(None))
        )
    assert marked() == {clinic.kim}, "a delete that matched nothing forgets nothing"
    _deleted(engine, Clinic(**{**clinic.__dict__, "lee": clinic.kim}))
    assert marked() == set()


@pytest.mark.parametrize("migrated_database", ["postgresql", "mariadb"], indirect=True)
def test_server_databases_keep_no_watermarks(database: DatabaseUnderTest, clinic: Clinic) -> None:
    """Without the triggers there, a watermark could not see a booking: none is written."""
    engine = database.engine
    first = _generate(engine, Rerun())
    with read_backs(engine) as seen:
        again = _generate(engine, Rerun())
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(plan_watermarks)) == 0
    assert seen, "every re-run there reads back what is stored"
    assert (again.created, again.unchanged) == (0, first.created)
