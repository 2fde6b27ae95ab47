"""What the runs dashboard reads besides the run summaries: the chart window, slots ahead.

Each function works in the caller's connection, so one page is one consistent look at the
tables; what the page makes of the rows is decided in `slotgen.web.model`.
"""

from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, select

from slotgen.db.history import record_of
from slotgen.db.schema import availability_slots, facilities, job_runs
from slotgen.monitoring.records import RunRecord

runs = job_runs.c


def window_runs(connection: Connection, since: datetime) -> list[RunRecord]:
    """Every run started at or after `since`, without the text columns the charts skip."""
    query = (
        select(runs.id, runs.job, runs.status, runs.started_at, runs.finished_at, runs.heartbeat_at)
        .where(runs.started_at >= since)
        .order_by(runs.started_at, runs.id)
    )
    return [record_of(row) for row in connection.execute(query)]


def slots_ahead(
    connection: Connection, now: datetime, days: int
) -> list[tuple[int, str, str | None, int]]:
    """(facility id, name, status, slots) starting in the next `days` days; every facility
    shows, with a None status when it has no slots."""
    s = availability_slots.c
    ahead = and_(
        s.facility_id == facilities.c.id,
        s.start_at >= now,
        s.start_at < now + timedelta(days=days),
    )
    query = (
        select(facilities.c.id, facilities.c.name, s.status, func.count(s.id).label("slots"))
        .select_from(facilities.outerjoin(availability_slots, ahead))
        .group_by(facilities.c.id, facilities.c.name, s.status)
    )
    return [
        (row.id, row.name, row.status, int(row.slots or 0)) for row in connection.execute(query)
    ]
