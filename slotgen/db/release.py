"""The SQL of `release`: expired reservations back to open, one short batch at a time.

Every write re-checks that the row is still reserved and expired before `now`, so a slot
the web app books, or a reservation it extends, after the batch was chosen is left
alone. Rows are chosen oldest expiry first, in the order of the
(status, reserved_until) index, so a batch reads only the rows it releases; on PostgreSQL
and MariaDB they are locked with SKIP LOCKED, so two releases at once never wait on each
other's rows and never release a row twice.
"""

from datetime import datetime

from sqlalchemy import CTE, Connection, Select, Subquery, and_, func, select, update
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


def release_batch(connection: Connection, now: datetime, limit: int) -> int:
    """Open at most `limit` reservations that expired before `now`; returns how many."""
    reopen = update(slots).values(status=OPEN, reserved_until=None, updated_at=now)
    backend = connection.dialect.name
    if backend == "sqlite":
        # One writer at a time and no row locks: choose, then write.
        ids = connection.scalars(expired_ids(now, limit)).all()
        if not ids:
            return 0
        return int(connection.execute(reopen.where(slots.c.id.in_(ids), _expired(now))).rowcount)
    # One statement, the batch chosen and locked once. As a plain subquery under IN (...)
    # PostgreSQL may run it again and pick more, so there it is a MATERIALIZED CTE; MariaDB
    # takes no LIMIT under IN (...) but joins the table it updates to a derived table of
    # it, which it materialises.
    batch: CTE | Subquery
    if backend == "postgresql":
        batch = expired_ids(now, limit).cte("batch").prefix_with("MATERIALIZED")
    else:
        batch = expired_ids(now, limit).subquery("batch")
    return int(connection.execute(reopen.where(slots.c.id == batch.c.id, _expired(now))).rowcount)


def count_expired(connection: Connection, now: datetime) -> int:
    return int(connection.scalar(select(func.count()).where(_expired(now))) or 0)


def count_never_expiring(connection: Connection) -> int:
    """Reservations without an expiry: the web app forgot to set one, so they never free up."""
    never = and_(slots.c.status == RESERVED, slots.c.reserved_until.is_(None))
    return int(connection.scalar(select(func.count()).where(never)) or 0)
