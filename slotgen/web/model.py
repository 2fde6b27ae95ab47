"""What the runs dashboard shows, computed from plain rows and the moment of asking.

The page is only a rendering of this model, so everything worth checking (a job's
badge, its counts, which day a run falls on) is decided here, from values a test can
write by hand, and the badge comes from the same rules as `slotgen check`.

Days in the charts are calendar days in the page's zone, the zone its times are shown
in: a run started at 23:30 local time counts for that evening, whatever UTC says.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from slotgen.errors import first_line
from slotgen.monitoring.durations import format_duration
from slotgen.monitoring.health import JobSummary, Level, job_health
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import RunStatus, slot_bucket

CHART_DAYS = 14
DURATION_BARS = 60
"""The latest finished runs per job in the durations chart: enough to see a trend."""
RECENT_RUNS = 50
SLOT_DAYS = 30
ERROR_EXCERPT = 160

BADGES = {Level.OK: "healthy", Level.WARNING: "late", Level.CRITICAL: "failing"}
"""The page's words for check's levels: people read "late", monitoring reads WARNING."""
ATTENTION = "attention"
"""The badge of a job whose only warnings are data for a person to fix (bad rows,
conflicts): the job runs on time, but someone has work to do."""


@dataclass(frozen=True, slots=True)
class SlotRow:
    """How many slots of one facility starting in the coming days are in one status."""

    facility_id: int
    facility: str
    status: str | None
    count: int


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    succeeded: int = 0
    failed: int = 0
    other: int = 0
    """Skipped and still running: runs that did no work, or have not finished it yet."""

    @property
    def total(self) -> int:
        return self.succeeded + self.failed + self.other


@dataclass(frozen=True, slots=True)
class DurationBar:
    run_id: int
    status: str
    started_at: datetime
    seconds: float


@dataclass(frozen=True, slots=True)
class JobPanel:
    job: str
    level: Level
    problems: tuple[str, ...]
    summary: JobSummary
    days: tuple[DayBar, ...]
    durations: tuple[DurationBar, ...]
    attention_only: bool = False

    @property
    def badge(self) -> str:
        return ATTENTION if self.attention_only else BADGES[self.level]


@dataclass(frozen=True, slots=True)
class RunLine:
    """A row of the recent-runs table, its times already in the page's zone."""

    id: int
    job: str
    status: str
    trigger: str
    started_at: datetime
    duration: str
    counts: str
    error: str

    failed: bool


@dataclass(frozen=True, slots=True)
class FacilitySlots:
    facility: str
    open: int = 0
    reserved: int = 0
    booked: int = 0
    other: int = 0


@dataclass(frozen=True, slots=True)
class Dashboard:
    generated_at: datetime
    """`now` in the page's zone."""
    zone_name: str
    level: Level
    jobs: tuple[JobPanel, ...]
    runs: tuple[RunLine, ...]
    slots: tuple[FacilitySlots, ...]
    has_runs: bool
    attention_only: bool = False

    @property
    def badge(self) -> str:
        return ATTENTION if self.attention_only else BADGES[self.level]


def build_dashboard(
    *,
    summaries: Mapping[str, JobSummary],
    recent: Sequence[RunRecord],
    window: Iterable[RunRecord],
    slots: Iterable[SlotRow],
    now: datetime,
    zone: tzinfo,
    zone_name: str,
    max_ages: Mapping[str, timedelta],
    stuck_after: timedelta,
) -> Dashboard:
    """The whole page's content at `now`.

    `summaries` are `history.job_summaries`; `recent` the latest runs, newest first;
    `window` every run started in the last `CHART_DAYS` days (more does no harm);
    `max_ages` and `stuck_after` are check's, so the badges agree with it. A job shows
    when it has runs or a max age, as in check.
    """
    by_job: dict[str, list[RunRecord]] = {}
    for run in window:
        by_job.setdefault(run.job, []).append(run)
    panels = []
    for job in sorted(set(summaries) | set(max_ages)):
        summary = summaries.get(job) or JobSummary(job)
        health = job_health(
            job, summaries.get(job), max_ages.get(job), now, stuck_after=stuck_after
        )
        runs = by_job.get(job, [])
        panels.append(
            JobPanel(
                job=job,
                level=health.level,
                problems=tuple(problem.message for problem in health.problems),
                summary=summary,
                days=day_bars(runs, now, zone),
                durations=duration_bars(runs, zone),
                attention_only=health.needs_attention_only,
            )
        )
    level = max((panel.level for panel in panels), default=Level.OK)
    return Dashboard(
        generated_at=now.astimezone(zone),
        zone_name=zone_name,
        level=level,
        attention_only=level is Level.WARNING
        and all(p.attention_only for p in panels if p.level is Level.WARNING),
        jobs=tuple(panels),
        runs=tuple(run_line(run, now, zone) for run in recent[:RECENT_RUNS]),
        slots=facility_slots(slots),
        has_runs=bool(summaries),
    )


def day_bars(runs: Iterable[RunRecord], now: datetime, zone: tzinfo) -> tuple[DayBar, ...]:
    """Runs per local day over the last `CHART_DAYS` days, today last, empty days kept."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    counts = {first + timedelta(days=n): [0, 0, 0] for n in range(CHART_DAYS)}
    for run in runs:
        day = run.started_at.astimezone(zone).date()
        if day not in counts:
            continue
        bucket = 0 if run.status == RunStatus.SUCCEEDED else 1 if run.failed else 2
        counts[day][bucket] += 1
    return tuple(DayBar(day, *values) for day, values in counts.items())


def duration_bars(runs: Iterable[RunRecord], zone: tzinfo) -> tuple[DurationBar, ...]:
    """The latest finished runs' durations, oldest first, as a chart reads left to right."""
    finished = sorted(
        (
            run
            for run in runs
            if run.finished_at is not None
            and run.status not in (RunStatus.RUNNING, RunStatus.SKIPPED)
        ),
        key=lambda run: (run.started_at, run.id),
    )[-DURATION_BARS:]
    return tuple(
        DurationBar(
            run.id,
            run.status,
            run.started_at.astimezone(zone),
            max(0.0, (run.finished_at - run.started_at).total_seconds()),
        )
        for run in finished
        if run.finished_at is not None
    )


def run_line(run: RunRecord, now: datetime, zone: tzinfo) -> RunLine:
    trigger = run.trigger + (f", try {run.attempt}" if run.attempt > 1 else "")
    span = run.duration(now)
    if span is None:
        duration = "-"
    elif run.finished_at is None:
        duration = f"{format_duration(span)} so far"
    else:
        duration = format_duration(span)
    return RunLine(
        id=run.id,
        job=run.job,
        status=run.status,
        trigger=trigger,
        started_at=run.started_at.astimezone(zone),
        duration=duration,
        counts=run.key_counts,
        error=error_excerpt(run.error),
        failed=run.failed,
    )


def error_excerpt(error: str | None) -> str:
    """The error's first line, cut short: the table is for spotting, `runs show` for reading."""
    line = first_line(error)
    return line if len(line) <= ERROR_EXCERPT else line[: ERROR_EXCERPT - 1] + "…"


def facility_slots(rows: Iterable[SlotRow]) -> tuple[FacilitySlots, ...]:
    """Per facility, slots by status; statuses the web app adds are counted as other."""
    names: dict[int, str] = {}
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        names[row.facility_id] = row.facility
        bucket = counts.setdefault(row.facility_id, {})
        if row.status is None or not row.count:
            continue
        key = slot_bucket(row.status)
        bucket[key] = bucket.get(key, 0) + row.count
    ordered = sorted(names, key=lambda facility_id: (names[facility_id], facility_id))
    return tuple(FacilitySlots(names[fid], **counts[fid]) for fid in ordered)
