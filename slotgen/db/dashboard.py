"""What the runs dashboard reads: job summaries, recent runs, the chart window, slots ahead.

All of it is read in the caller's connection, so one page is one consistent look at the
tables; the page itself is decided in `slotgen.core.dashboard_model`.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Connection, and_, func, select

from slotgen.core.dashboard_model import (
    CHART_DAYS,
    RECENT_RUNS,
    SLOT_DAYS,
    Dashboard,
    RunRow,
    SlotRow,
    build_dashboard,
)
from slotgen.db import history
from slotgen.db.schema import availability_slots, facilities, job_runs

runs = job_runs.c


def window_runs(connection: Connection, since: datetime) -> list[RunRow]:
    """Every run started at or after `since`, without the text columns the charts skip."""
    query = (
        select(runs.id, runs.job, runs.status, runs.started_at, runs.finished_at)
        .where(runs.started_at >= since)
        .order_by(runs.started_at, runs.id)
    )
    return [
        RunRow(row.id, row.job, row.status, row.started_at, row.finished_at)
        for row in connection.execute(query)
    ]


def recent_runs(connection: Connection, limit: int = RECENT_RUNS) -> list[RunRow]:
    return [
        RunRow(
            id=row.id,
            job=row.job,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            trigger=row.trigger,
            attempt=row.attempt,
            stats=row.stats,
            error=row.error,
        )
        for row in history.list_runs(connection, limit=limit)
    ]


def slots_ahead(connection: Connection, now: datetime, days: int = SLOT_DAYS) -> list[SlotRow]:
    """Slots per facility and status starting in the next `days` days; every facility shows."""
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
        SlotRow(row.id, row.name, row.status, int(row.slots or 0))
        for row in connection.execute(query)
    ]


def read_dashboard(
    connection: Connection,
    now: datetime,
    *,
    zone: tzinfo,
    zone_name: str,
    max_ages: Mapping[str, timedelta],
    stuck_after: timedelta,
) -> Dashboard:
    # A day more than the chart shows: its first local day may start before now - 14d.
    since = now - timedelta(days=CHART_DAYS + 1)
    return build_dashboard(
        summaries=history.job_summaries(connection, now),
        recent=recent_runs(connection),
        window=window_runs(connection, since),
        slots=slots_ahead(connection, now),
        now=now,
        zone=zone,
        zone_name=zone_name,
        max_ages=max_ages,
        stuck_after=stuck_after,
    )
