"""Reading and writing plan watermarks (slotgen.core.watermark), which only SQLite keeps."""

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, insert, select, text

from slotgen.core.watermark import Watermark
from slotgen.db.schema import plan_watermarks
from slotgen.db.slots import slots_between

EDIT_TRIGGERS = (
    "availability_slots_updated_forget_watermark",
    "availability_slots_deleted_forget_watermark",
)
"""Migration 0008's triggers: without both, a watermark could vouch for an edited slot."""


def tracks_edits(connection: Connection) -> bool:
    """Whether this database forgets a doctor's watermark when one of their slots changes."""
    if connection.dialect.name != "sqlite":
        return False
    query = text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN :names")
    found = connection.execute(
        query.bindparams(bindparam("names", expanding=True)), {"names": list(EDIT_TRIGGERS)}
    ).scalar_one()
    return int(found) == len(EDIT_TRIGGERS)


def watermarks_of(connection: Connection, doctor_ids: Collection[int]) -> dict[int, Watermark]:
    """The doctors' watermarks; a row this slotgen cannot read counts as none (a
    watermark only ever saves work, so the run reads those doctors' slots back whole)."""
    w = plan_watermarks.c
    query = select(w.doctor_id, w.planned_at, w.days).where(w.doctor_id.in_(doctor_ids))
    marks = {}
    for doctor_id, planned_at, days in connection.execute(query):
        try:
            marks[doctor_id] = Watermark(
                planned_at,
                date.fromisoformat(days["first"]),
                [
                    None if known is None else (str(known[0]), int(known[1]))
                    for known in days["days"]
                ],
                timedelta(seconds=float(days["longest"])),
                datetime.fromisoformat(days["until"]),
            )
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return marks


def stored_between(
    connection: Connection, doctor_ids: Collection[int], since: datetime, until: datetime
) -> dict[int, int]:
    """How many slots each doctor has starting in [since, until), from the unique key's index."""
    columns, rest = "doctor_id, count(*)", " GROUP BY doctor_id"
    rows = slots_between(connection, columns, doctor_ids, since, until, rest=rest)
    return {int(doctor_id): int(count) for doctor_id, count in rows}


def replace_watermarks(
    connection: Connection, doctor_ids: Collection[int], marks: Mapping[int, Watermark]
) -> None:
    """These doctors keep exactly these watermarks: those without one are forgotten."""
    w = plan_watermarks.c
    connection.execute(delete(plan_watermarks).where(w.doctor_id.in_(doctor_ids)))
    if marks:
        connection.execute(
            insert(plan_watermarks),
            [
                {
                    "doctor_id": doctor_id,
                    "planned_at": mark.planned_at,
                    "days": {
                        "first": mark.first.isoformat(),
                        "days": list(mark.days),
                        "longest": mark.longest.total_seconds(),
                        "until": mark.until.isoformat(),
                    },
                }
                for doctor_id, mark in sorted(marks.items())
            ],
        )
