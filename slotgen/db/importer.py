"""The SQL of `import`: rows upserted by id, in one transaction the caller owns.

A row with an id updates the row with that id or is inserted with it; a row without one
is inserted and the database picks its id. On PostgreSQL an explicit id does not move the
table's sequence, so after inserting explicit ids the sequence is moved past them: else
the booking app's next insert would collide with an imported row.
"""

from collections.abc import Iterable, Mapping, Set
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, text, update

from slotgen.db.schema import (
    availability_exceptions,
    availability_rules,
    doctors,
    facilities,
    services,
)
from slotgen.importing.columns import TABLES
from slotgen.importing.ids import IdSet
from slotgen.importing.rows import CleanRow

SCHEDULE_TABLES: dict[str, Table] = {
    table.name: table
    for table in (facilities, doctors, services, availability_rules, availability_exceptions)
}
assert tuple(SCHEDULE_TABLES) == TABLES
_ID_BATCH = 10_000


def existing_ids(connection: Connection) -> dict[str, IdSet]:
    """Every id of the schedule tables, read once per import.

    Streamed from the cursor into compact sets: a table of a large earlier import holds as
    many ids as the file has rows, and a driver's buffered rows would hold them again.
    """
    return {
        name: IdSet(connection.scalars(select(table.c.id).execution_options(yield_per=_ID_BATCH)))
        for name, table in SCHEDULE_TABLES.items()
    }


BATCH = 1000
"""Rows per executemany: big enough for the drivers' bulk paths, small enough to hold."""


def upsert(
    connection: Connection,
    rows: Iterable[CleanRow],
    existing: Mapping[str, Set[int]],
    now: datetime,
    batch: int = BATCH,
) -> dict[str, tuple[int, int]]:
    """Write `rows`; per table, how many were (inserted, updated).

    The rows come in writing order (tables in `TABLES` order, within a table the rows with
    an id before those without): they are read as they are written, `batch` at a time,
    so a large import never holds more than a batch. `existing` must have been read in
    this same transaction.
    """
    counts: dict[str, tuple[int, int]] = dict.fromkeys(SCHEDULE_TABLES, (0, 0))
    writer: _TableWriter | None = None
    for row in rows:
        if writer is None or writer.name != row.table:
            if writer is not None:
                counts[writer.name] = writer.finish()
            if writer is not None and TABLES.index(row.table) < TABLES.index(writer.name):
                raise ValueError(f"{row.table} rows after {writer.name} rows: not in TABLES order")
            mine = existing.get(row.table, frozenset())
            writer = _TableWriter(connection, row.table, mine, now, batch)
        writer.add(row)
    if writer is not None:
        counts[writer.name] = writer.finish()
    return counts


class _TableWriter:
    """One table's rows in batches: updates and inserts by id, then rows without an id.

    The order is today's contract with the database's id counters: every given id is
    inserted (and on PostgreSQL the sequence moved past it) before any row gets an id
    from the database, so a generated id never takes one the input gives.
    """

    def __init__(
        self, connection: Connection, name: str, existing: Set[int], now: datetime, batch: int
    ) -> None:
        self.name = name
        self._connection = connection
        self._table = SCHEDULE_TABLES[name]
        self._existing = existing
        self._now = now
        self._batch = batch
        self._updates: list[dict[str, Any]] = []
        self._with_id: list[dict[str, Any]] = []
        self._without_id: list[dict[str, Any]] = []
        self._inserted = 0
        self._updated = 0
        self._sequence_behind = False
        self._without_id_begun = False

    def add(self, row: CleanRow) -> None:
        if row.id is None:
            if not self._without_id_begun:
                self._flush_with_ids()
                self._move_sequence()
                self._without_id_begun = True
            self._without_id.append(dict(row.values))
            if len(self._without_id) >= self._batch:
                self._flush_without_ids()
            return
        if self._without_id_begun:
            raise ValueError(f"a {self.name} row with an id after rows without one")
        if row.id in self._existing:
            self._updates.append({**row.values, "row_id": row.id, "updated_at": self._now})
        else:
            self._with_id.append({**row.values, "id": row.id})
        if len(self._updates) >= self._batch or len(self._with_id) >= self._batch:
            self._flush_with_ids()

    def finish(self) -> tuple[int, int]:
        """Write what is left; (inserted, updated) for the table."""
        self._flush_with_ids()
        self._move_sequence()
        self._flush_without_ids()
        return self._inserted, self._updated

    def _flush_with_ids(self) -> None:
        table = self._table
        if self._updates:
            self._connection.execute(
                update(table).where(table.c.id == bindparam("row_id")), self._updates
            )
            self._updated += len(self._updates)
            self._updates = []
        if self._with_id:
            self._connection.execute(insert(table), self._with_id)
            self._inserted += len(self._with_id)
            self._sequence_behind = True
            self._with_id = []

    def _flush_without_ids(self) -> None:
        if self._without_id:
            self._connection.execute(insert(self._table), self._without_id)
            self._inserted += len(self._without_id)
            self._without_id = []

    def _move_sequence(self) -> None:
        if self._sequence_behind:
            _move_sequence_past(self._connection, self._table)
            self._sequence_behind = False


def _move_sequence_past(connection: Connection, table: Table) -> None:
    """PostgreSQL only: the next generated id follows the largest id in the table.

    MariaDB's AUTO_INCREMENT and SQLite's rowid follow explicit ids by themselves. The
    sequence is only ever moved forward, so ids of deleted rows are not handed out again.
    """
    if connection.dialect.name != "postgresql":
        return
    statement: Any = text(
        "SELECT setval(pg_get_serial_sequence(:table, 'id'), top) "
        f"FROM (SELECT MAX(id) AS top FROM {table.name}) AS largest "
        "WHERE top > COALESCE(pg_sequence_last_value("
        "CAST(pg_get_serial_sequence(:table, 'id') AS regclass)), 0)"
    )
    connection.execute(statement, {"table": table.name})
