"""What several use cases check the same way."""

from collections.abc import Collection

from sqlalchemy import Connection

from slotgen.db import lookup
from slotgen.errors import BadInput


def require_known(
    connection: Connection, facility_ids: Collection[int] = (), doctor_ids: Collection[int] = ()
) -> None:
    """An id that matches nothing is a typo, not an empty answer: one line, exit 2."""
    for noun, missing in (
        ("facility", lookup.missing_facilities(connection, facility_ids)),
        ("doctor", lookup.missing_doctors(connection, doctor_ids)),
    ):
        if missing:
            raise BadInput(f"unknown {noun} id {', '.join(map(str, missing))}")
