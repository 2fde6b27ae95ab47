"""The dashboard's content, decided in `slotgen.web.model` from plain rows and a fixed `now`.

The HTML page only renders this model, so what an operator reads on it is checked here
without a database or a browser: each job's badge (the same rules as `slotgen check`),
which local day of the page's zone a run is counted on, the duration chart, the
recent-runs table's cells and the slots per facility.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slotgen.monitoring.health import JobSummary, Level, summarize
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import RunStatus
from slotgen.web.model import (
    CHART_DAYS,
    DURATION_BARS,
    ERROR_EXCERPT,
    RECENT_RUNS,
    Dashboard,
    DayBar,
    FacilitySlots,
    SlotRow,
    build_dashboard,
    day_bars,
    duration_bars,
    error_excerpt,
    facility_slots,
    run_line,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
"""13:00 in Berlin (CET, UTC+1), 07:00 in New York (EST, UTC-5)."""
STUCK_AFTER = timedelta(minutes=4)
MAX_AGES = {"generate": timedelta(hours=26), "release": timedelta(minutes=15)}


def run(
    run_id: int,
    status: str = RunStatus.SUCCEEDED,
    *,
    started: datetime,
    took: timedelta | None = timedelta(minutes=2),
    job: str = "generate",
    **fields: Any,
) -> RunRecord:
    """A run started at `started`; `took` None leaves it unfinished."""
    finished_at = None if took is None else started + took
    return RunRecord(
        id=run_id,
        job=job,
        status=status,
        started_at=started,
        finished_at=finished_at,
        **fields,
    )


def ago(**span: float) -> datetime:
    return NOW - timedelta(**span)


def summaries_of(*runs: RunRecord) -> dict[str, JobSummary]:
    """What history.job_summaries gives for these runs: one summary per job that ran."""
    jobs = sorted({r.job for r in runs})
    return {
        job: summarize(
            job,
            runs,
            finished_runs=sum(1 for r in runs if r.job == job and r.status != RunStatus.RUNNING),
        )
        for job in jobs
    }


def dashboard(
    *runs: RunRecord,
    max_ages: dict[str, timedelta] | None = None,
    slots: tuple[SlotRow, ...] = (),
) -> Dashboard:
    """The page for `runs`, all of them recent and in the chart window."""
    newest_first = sorted(runs, key=lambda r: (r.started_at, r.id), reverse=True)
    return build_dashboard(
        summaries=summaries_of(*runs),
        recent=newest_first,
        window=runs,
        slots=slots,
        now=NOW,
        zone=BERLIN,
        zone_name="Europe/Berlin",
        max_ages=MAX_AGES if max_ages is None else max_ages,
        stuck_after=STUCK_AFTER,
    )


def bar_for(bars: tuple[DayBar, ...], day: date) -> DayBar:
    return next(bar for bar in bars if bar.day == day)


# build_dashboard ----------------------------------------------------------------------


def test_badges_follow_the_check_rules_healthy_late_and_failing() -> None:
    page = dashboard(
        run(1, started=ago(hours=1)),
        run(2, job="release", started=ago(minutes=22)),
        *(run(n, RunStatus.FAILED, job="archive", started=ago(days=n)) for n in (3, 4, 5)),
    )

    badges = {panel.job: panel.badge for panel in page.jobs}
    assert badges == {"archive": "failing", "generate": "healthy", "release": "late"}
    release = next(panel for panel in page.jobs if panel.job == "release")
    assert release.level is Level.WARNING
    assert release.problems == ("last success 20m00s ago (run 2), older than max age 15m",)
    assert page.level is Level.CRITICAL
    assert page.badge == "failing"


def test_the_page_is_healthy_when_every_job_is() -> None:
    page = dashboard(run(1, started=ago(hours=1)), run(2, job="release", started=ago(minutes=5)))

    assert [panel.badge for panel in page.jobs] == ["healthy", "healthy"]
    assert page.badge == "healthy"
    assert page.has_runs


def test_a_job_with_a_max_age_but_no_runs_shows_late() -> None:
    page = dashboard(max_ages={"release": timedelta(minutes=15)})

    assert [panel.job for panel in page.jobs] == ["release"]
    assert page.jobs[0].badge == "late"
    assert page.jobs[0].problems == ("never ran (max age 15m)",)
    assert not page.has_runs


def test_a_job_shows_when_it_has_runs_or_a_max_age_in_name_order() -> None:
    page = dashboard(
        run(1, job="release", started=ago(minutes=3)),
        run(2, job="archive", started=ago(hours=2)),
        max_ages={"generate": timedelta(hours=26)},
    )

    assert [panel.job for panel in page.jobs] == ["archive", "generate", "release"]
    archive = page.jobs[0]
    assert archive.badge == "healthy"


def test_a_stuck_run_makes_its_job_failing_as_check_does() -> None:
    page = dashboard(
        run(1, started=ago(hours=2)),
        run(2, RunStatus.RUNNING, started=ago(minutes=30), took=None),
    )

    assert page.jobs[0].badge == "failing"
    assert page.jobs[0].problems == (
        "run 2 looks stuck: no heartbeat since it started 30m00s ago (limit 4m00s)",
    )


def test_each_jobs_charts_count_only_its_own_runs() -> None:
    page = dashboard(
        run(1, started=ago(hours=1)),
        run(2, job="release", started=ago(minutes=10)),
        run(3, job="release", started=ago(minutes=5)),
    )

    today = date(2027, 3, 10)
    totals = {panel.job: bar_for(panel.days, today).total for panel in page.jobs}
    assert totals == {"generate": 1, "release": 2}
    assert [bar.run_id for bar in page.jobs[1].durations] == [2, 3]


def test_the_recent_runs_table_shows_the_fifty_newest_runs_newest_first() -> None:
    runs = [run(n, job="release", started=ago(minutes=5 * (70 - n))) for n in range(1, 71)]

    page = dashboard(*runs)

    assert len(page.runs) == RECENT_RUNS
    assert [line.id for line in page.runs[:3]] == [70, 69, 68]
    assert page.runs[-1].id == 70 - RECENT_RUNS + 1


def test_the_page_says_when_it_was_made_in_its_own_zone() -> None:
    page = dashboard()

    assert page.generated_at == NOW
    assert (page.generated_at.hour, page.generated_at.utcoffset()) == (13, timedelta(hours=1))
    assert page.zone_name == "Europe/Berlin"


# day_bars -----------------------------------------------------------------------------


def test_day_bars_are_fourteen_local_days_today_last_with_empty_days_kept() -> None:
    late_evening_utc = datetime(2027, 3, 10, 23, 30, tzinfo=UTC)  # already 11 March in Berlin

    bars = day_bars([], late_evening_utc, BERLIN)

    assert len(bars) == CHART_DAYS
    assert bars[-1].day == date(2027, 3, 11)
    assert bars[0].day == date(2027, 2, 26)
    assert [bar.day for bar in bars] == [date(2027, 2, 26) + timedelta(days=n) for n in range(14)]
    assert all(bar.total == 0 for bar in bars)


def test_a_run_just_after_midnight_in_berlin_counts_for_the_berlin_day_not_the_utc_day() -> None:
    utc_evening = datetime(2027, 3, 8, 23, 30, tzinfo=UTC)  # 00:30 on 9 March in Berlin

    bars = day_bars([run(1, started=utc_evening)], NOW, BERLIN)

    assert bar_for(bars, date(2027, 3, 9)).succeeded == 1
    assert bar_for(bars, date(2027, 3, 8)).total == 0


def test_a_run_at_half_past_eleven_local_counts_for_that_evening() -> None:
    utc_morning = datetime(2027, 3, 9, 4, 30, tzinfo=UTC)  # 23:30 on 8 March in New York

    bars = day_bars([run(1, RunStatus.FAILED, started=utc_morning)], NOW, NEW_YORK)

    assert bar_for(bars, date(2027, 3, 8)).failed == 1
    assert bar_for(bars, date(2027, 3, 9)).total == 0


def test_day_bars_split_runs_into_succeeded_failed_and_other() -> None:
    today = [
        run(1, started=ago(hours=9)),
        run(2, started=ago(hours=8)),
        run(3, RunStatus.FAILED, started=ago(hours=7)),
        run(4, RunStatus.ABANDONED, started=ago(hours=6)),
        run(5, RunStatus.SKIPPED, started=ago(hours=5)),
        run(6, RunStatus.RUNNING, started=ago(minutes=1), took=None),
    ]

    bars = day_bars(today, NOW, BERLIN)

    assert bars[-1] == DayBar(date(2027, 3, 10), succeeded=2, failed=2, other=2)
    assert bars[-1].total == 6
    assert sum(bar.total for bar in bars[:-1]) == 0


def test_day_bars_leave_out_runs_before_the_first_day() -> None:
    first_day_start = datetime(2027, 2, 25, 0, 0, tzinfo=BERLIN)
    runs = [
        run(1, started=first_day_start - timedelta(minutes=1)),  # 24 Feb: out of the chart
        run(2, started=first_day_start + timedelta(minutes=1)),
    ]

    bars = day_bars(runs, NOW, BERLIN)

    assert bars[0] == DayBar(date(2027, 2, 25), succeeded=1)
    assert sum(bar.total for bar in bars) == 1


# duration_bars ------------------------------------------------------------------------


def test_duration_bars_take_only_finished_runs() -> None:
    runs = [
        run(1, started=ago(hours=3), took=timedelta(seconds=90)),
        run(2, RunStatus.FAILED, started=ago(hours=2), took=timedelta(seconds=30)),
        run(3, RunStatus.RUNNING, started=ago(minutes=5), took=None),
        run(4, RunStatus.SKIPPED, started=ago(minutes=4), took=None),
    ]

    bars = duration_bars(runs, BERLIN)

    assert [(bar.run_id, bar.status, bar.seconds) for bar in bars] == [
        (1, RunStatus.SUCCEEDED, 90.0),
        (2, RunStatus.FAILED, 30.0),
    ]


def test_duration_bars_run_oldest_first_in_the_page_zone() -> None:
    newest_first = [run(n, started=ago(hours=n)) for n in (1, 2, 3)]

    bars = duration_bars(newest_first, BERLIN)

    assert [bar.run_id for bar in bars] == [3, 2, 1]
    assert bars[-1].started_at == ago(hours=1)
    assert bars[-1].started_at.utcoffset() == timedelta(hours=1)


def test_duration_bars_keep_only_the_latest_runs() -> None:
    runs = [run(n, started=ago(hours=100 - n)) for n in range(1, DURATION_BARS + 6)]

    bars = duration_bars(runs, BERLIN)

    assert len(bars) == DURATION_BARS
    assert bars[0].run_id == 6
    assert bars[-1].run_id == DURATION_BARS + 5


def test_a_run_that_finished_before_it_started_has_a_zero_bar() -> None:
    bars = duration_bars([run(1, started=ago(hours=1), took=timedelta(seconds=-30))], BERLIN)

    assert bars[0].seconds == 0.0


# run_line -----------------------------------------------------------------------------


def test_run_line_shows_a_finished_run_in_the_page_zone() -> None:
    failed = run(
        7,
        RunStatus.FAILED,
        started=datetime(2027, 3, 10, 1, 0, tzinfo=UTC),
        took=timedelta(seconds=90),
        trigger="cron",
        stats={"created": 104, "updated": 0, "removed": 3, "conflicts": 0},
        error="deadlock detected\nTraceback (most recent call last):",
    )

    line = run_line(failed, NOW, BERLIN)

    assert line.duration == "1m30s"
    assert line.started_at == datetime(2027, 3, 10, 2, 0, tzinfo=BERLIN)
    assert line.trigger == "cron"
    assert line.counts == "104 created, 3 removed"
    assert line.error == "deadlock detected"
    assert line.failed
    assert (line.id, line.job, line.status) == (7, "generate", RunStatus.FAILED)


def test_run_line_shows_a_running_runs_duration_so_far() -> None:
    line = run_line(run(8, RunStatus.RUNNING, started=ago(minutes=4), took=None), NOW, BERLIN)

    assert line.duration == "4m00s so far"
    assert not line.failed


def test_run_line_shows_a_dash_for_a_skipped_run_without_a_finish() -> None:
    line = run_line(run(9, RunStatus.SKIPPED, started=ago(minutes=4), took=None), NOW, BERLIN)

    assert line.duration == "-"
    assert line.counts == ""
    assert line.error == ""


def test_run_line_names_later_attempts_beside_the_trigger() -> None:
    second = run(10, started=ago(hours=1), trigger="cron", attempt=2)
    retry = run(11, started=ago(hours=1), trigger="retry", attempt=3)

    assert run_line(second, NOW, BERLIN).trigger == "cron, try 2"
    assert run_line(retry, NOW, BERLIN).trigger == "retry, try 3"


def test_run_line_cuts_a_long_error() -> None:
    long_error = "x" * (ERROR_EXCERPT + 40)

    line = run_line(run(12, RunStatus.FAILED, started=ago(hours=1), error=long_error), NOW, BERLIN)

    assert line.error == "x" * (ERROR_EXCERPT - 1) + "…"


# facility_slots -----------------------------------------------------------------------


def test_facility_slots_count_statuses_slotgen_does_not_know_as_other() -> None:
    rows = [
        SlotRow(1, "Berlin Mitte", "open", 10),
        SlotRow(1, "Berlin Mitte", "reserved", 2),
        SlotRow(1, "Berlin Mitte", "booked", 3),
        SlotRow(1, "Berlin Mitte", "pending_payment", 4),
        SlotRow(1, "Berlin Mitte", "held", 1),
    ]

    assert facility_slots(rows) == (
        FacilitySlots("Berlin Mitte", open=10, reserved=2, booked=3, other=5),
    )


def test_a_facility_with_no_slots_is_kept_with_zeros() -> None:
    rows = [SlotRow(2, "Kathmandu", None, 0), SlotRow(1, "Berlin Mitte", "open", 4)]

    assert facility_slots(rows) == (
        FacilitySlots("Berlin Mitte", open=4),
        FacilitySlots("Kathmandu", open=0, reserved=0, booked=0, other=0),
    )


def test_facilities_are_listed_by_name_and_same_names_stay_apart() -> None:
    rows = [
        SlotRow(3, "New York", "open", 1),
        SlotRow(2, "Berlin", "booked", 2),
        SlotRow(1, "New York", "reserved", 3),
    ]

    assert facility_slots(rows) == (
        FacilitySlots("Berlin", booked=2),
        FacilitySlots("New York", reserved=3),
        FacilitySlots("New York", open=1),
    )


def test_the_dashboard_shows_the_slots_per_facility() -> None:
    page = dashboard(slots=(SlotRow(1, "Berlin", "open", 7), SlotRow(1, "Berlin", "x", 1)))

    assert page.slots == (FacilitySlots("Berlin", open=7, other=1),)


# error_excerpt ------------------------------------------------------------------------


def test_error_excerpt_keeps_a_short_first_line_whole() -> None:
    assert error_excerpt("connection refused\n  at line 3") == "connection refused"
    assert error_excerpt(None) == ""


def test_error_excerpt_keeps_a_line_of_exactly_the_excerpt_length() -> None:
    line = "e" * ERROR_EXCERPT

    assert error_excerpt(line) == line


def test_error_excerpt_cuts_a_longer_first_line_with_an_ellipsis() -> None:
    line = "".join(str(n % 10) for n in range(ERROR_EXCERPT + 1))

    excerpt = error_excerpt(line + "\nsecond line")

    assert len(excerpt) == ERROR_EXCERPT
    assert excerpt == line[: ERROR_EXCERPT - 1] + "…"


def test_a_job_whose_only_warnings_are_bad_rows_or_conflicts_shows_attention() -> None:
    page = dashboard(
        run(1, started=ago(hours=1), stats={"created": 4, "conflicts": 2}),
        run(2, job="release", started=ago(minutes=3)),
    )

    generate, release = page.jobs
    assert (generate.badge, release.badge, page.badge) == ("attention", "healthy", "attention")
    assert generate.level is Level.WARNING
    assert generate.problems[0].startswith("run 1 found 2 conflict(s)")


def test_a_late_job_beside_an_attention_one_makes_the_page_late() -> None:
    page = dashboard(
        run(1, started=ago(hours=1), stats={"bad_rows": 1}),
        run(2, job="release", started=ago(minutes=22)),
    )

    assert [panel.badge for panel in page.jobs] == ["attention", "late"]
    assert page.badge == "late"


def test_skipped_runs_did_no_work_and_draw_no_duration_bar() -> None:
    panel = dashboard(
        run(1, started=ago(hours=3)),
        run(2, RunStatus.SKIPPED, started=ago(hours=2), took=timedelta(0)),
    ).jobs[0]

    assert [bar.run_id for bar in panel.durations] == [1]
