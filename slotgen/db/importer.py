"""The SQL of `import`: rows upserted by id, in one transaction the caller owns.

A row with an id updates the row with that id or is inserted with it; a row without one
is inserted and the database picks its id. On PostgreSQL an explicit id does not move the
table's sequence, so after inserting explicit ids the sequence is moved past them: else
the booking app's next insert would collide with an imported row.
"""

from collections.abc import Sequence
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
from slotgen.importing.rows import CleanRow

SCHEDULE_TABLES: dict[str, Table] = {
    table.name: table
    for table in (facilities, doctors, services, availability_rules, availability_exceptions)
}
assert tuple(SCHEDULE_TABLES) == TABLES


def existing_ids(connection: Connection) -> dict[str, set[int]]:
    """Every id of the schedule tables: small tables, read once per import."""
    return {
        name: set(connection.scalars(select(table.c.id))) for name, table in SCHEDULE_TABLES.items()
    }


def upsert(
    connection: Connection,
    rows: Sequence[CleanRow],
    existing: dict[str, set[int]],
    now: datetime,
) -> dict[str, tuple[int, int]]:
    """Write `rows` (in table order); per table, how many were (inserted, updated).

    `existing` must have been read in this same transaction.
    """
    counts: dict[str, tuple[int, int]] = {}
    for name, table in SCHEDULE_TABLES.items():
        mine = [row for row in rows if row.table == name]
        updates = [row for row in mine if row.id is not None and row.id in existing[name]]
        with_id = [row for row in mine if row.id is not None and row.id not in existing[name]]
        without_id = [row for row in mine if row.id is None]
        if updates:
            connection.execute(
                update(table).where(table.c.id == bindparam("row_id")),
                [{**row.values, "row_id": row.id, "updated_at": now} for row in updates],
            )
        if with_id:
            connection.execute(insert(table), [{**row.values, "id": row.id} for row in with_id])
            _move_sequence_past(connection, table)
        if without_id:
            connection.execute(insert(table), [dict(row.values) for row in without_id])
        counts[name] = (len(with_id) + len(without_id), len(updates))
    return counts


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
