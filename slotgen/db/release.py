"""The SQL of `release`: expired reservations back to open, one short batch at a time.

Every write re-checks that the row is still reserved and expired before `now`, so a slot
the web app books, or a reservation it extends, after the batch was chosen is left
alone. Rows are chosen oldest expiry first, in the order of the
(status, reserved_until) index, so a batch reads only the rows it releases; on PostgreSQL
and MariaDB they are locked with SKIP LOCKED, so two releases at once never wait on each
other's rows and never release a row twice.
"""

from datetime import datetime

from sqlalchemy import Connection, Select, and_, bindparam, func, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from slotgen.db.schema import availability_slots as slots
from slotgen.vocabulary import SlotStatus

RESERVED = SlotStatus.RESERVED
OPEN = SlotStatus.OPEN


def _expired(now: datetime) -> ColumnElement[bool]:
    return and_(slots.c.status == RESERVED, slots.c.reserved_until < now)


def expired_ids(now: datetime, limit: int) -> Select[tuple[int]]:
    """The next batch of expired reservations, locked for this transaction."""
    return (
        select(slots.c.id)
        .where(_expired(now))
        .order_by(slots.c.reserved_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


RELEASE_ON_MARIADB = text(
    "UPDATE (SELECT id FROM availability_slots"
    " WHERE status = :reserved AND reserved_until < :now"
    " ORDER BY reserved_until LIMIT :limit FOR UPDATE SKIP LOCKED) AS batch"
    " STRAIGHT_JOIN availability_slots ON availability_slots.id = batch.id"
    " SET status = :open, reserved_until = NULL, updated_at = :now"
    " WHERE status = :reserved AND reserved_until < :now"
).bindparams(
    bindparam("now", type_=slots.c.updated_at.type),
    reserved=RESERVED.value,
    open=OPEN.value,
)
"""One statement per batch. MariaDB takes no LIMIT under IN (...) but updates a table
joined to a derived table of itself, which it materialises: the batch is chosen and locked
once. Written out because SQLAlchemy names the updated table first, and in a join order
of MariaDB's choosing (on a small table it reads that table first) the update locks, so
waits for, every expired reservation it reads, the web app's too; STRAIGHT_JOIN reads the
locked batch first and touches only its rows."""


def release_batch(connection: Connection, now: datetime, limit: int) -> int:
    """Open at most `limit` reservations that expired before `now`; returns how many."""
    backend = connection.dialect.name
    if backend in ("mysql", "mariadb"):
        return int(connection.execute(RELEASE_ON_MARIADB, {"now": now, "limit": limit}).rowcount)
    reopen = update(slots).values(status=OPEN, reserved_until=None, updated_at=now)
    if backend == "postgresql":
        # One statement. The batch is a MATERIALIZED CTE, so it is chosen and locked once;
        # as a plain subquery under IN (...) PostgreSQL may run it again and pick more.
        batch = expired_ids(now, limit).cte("batch").prefix_with("MATERIALIZED")
        return int(
            connection.execute(reopen.where(slots.c.id == batch.c.id, _expired(now))).rowcount
        )
    # SQLite has one writer at a time and no row locks: choose, then write.
    ids = connection.scalars(expired_ids(now, limit)).all()
    if not ids:
        return 0
    return int(connection.execute(reopen.where(slots.c.id.in_(ids), _expired(now))).rowcount)


def count_expired(connection: Connection, now: datetime) -> int:
    return int(connection.scalar(select(func.count()).where(_expired(now))) or 0)


def count_never_expiring(connection: Connection) -> int:
    """Reservations without an expiry: the web app forgot to set one, so they never free up."""
    never = and_(slots.c.status == RESERVED, slots.c.reserved_until.is_(None))
    return int(connection.scalar(select(func.count()).where(never)) or 0)
