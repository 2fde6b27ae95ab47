"""Small reads every use case shares: which ids exist, and each facility's name and zone."""

from collections.abc import Collection
from typing import NamedTuple

from sqlalchemy import Connection, Table, select

from slotgen.db.schema import doctors, facilities


class Facility(NamedTuple):
    id: int
    name: str
    timezone: str


def missing_ids(connection: Connection, table: Table, ids: Collection[int]) -> list[int]:
    """Which of `ids` have no row in `table`."""
    if not ids:
        return []
    found = set(connection.scalars(select(table.c.id).where(table.c.id.in_(ids))))
    return sorted(set(ids) - found)


def missing_facilities(connection: Connection, ids: Collection[int]) -> list[int]:
    return missing_ids(connection, facilities, ids)


def missing_doctors(connection: Connection, ids: Collection[int]) -> list[int]:
    return missing_ids(connection, doctors, ids)


def all_facilities(connection: Connection) -> dict[int, Facility]:
    """Every facility by id: a small table, read once per command."""
    query = select(facilities.c.id, facilities.c.name, facilities.c.timezone).order_by(
        facilities.c.id
    )
    return {row.id: Facility(*row) for row in connection.execute(query)}


def facility(connection: Connection, facility_id: int) -> Facility | None:
    query = select(facilities.c.id, facilities.c.name, facilities.c.timezone).where(
        facilities.c.id == facility_id
    )
    row = connection.execute(query).one_or_none()
    return None if row is None else Facility(*row)
