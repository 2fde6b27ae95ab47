"""The health rules behind `slotgen check` and the dashboard's badges, one test per rule.

`slotgen.monitoring.health` decides from plain `RunRecord` values and a given `now` whether
a job is OK, WARNING or CRITICAL, and `check` exits with that level, so a rule that drifts
pages someone at night, or stays silent while slots stop being generated. Each rule in the
module docstring is checked here by name against runs written by hand, with a fixed `now`.
The record properties every view shows (duration, error line, key counts) are tested here
too, since the health messages and the run tables are built from them.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from slotgen.monitoring.health import (
    FAILURE_STREAK,
    Health,
    JobSummary,
    Level,
    job_health,
    overall,
    summarize,
)
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import RunStatus

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=26)
STUCK_AFTER = timedelta(minutes=4)
TOOK = timedelta(minutes=2)
TRACEBACK = "disk full\nTraceback (most recent call last):\n  File 'generate.py', line 1"


def finished(
    run_id: int,
    status: str = RunStatus.SUCCEEDED,
    *,
    ago: timedelta,
    job: str = "generate",
    took: timedelta = TOOK,
    error: str | None = None,
    retried: bool = False,
    attempt: int = 1,
    stats: Mapping[str, Any] | None = None,
) -> RunRecord:
    """A run that ended `ago` before NOW after working for `took`."""
    ended = NOW - ago
    return RunRecord(
        id=run_id,
        job=job,
        status=status,
        started_at=ended - took,
        finished_at=ended,
        error=error,
        retried=retried,
        attempt=attempt,
        stats=stats,
    )


def running(
    run_id: int,
    *,
    started_ago: timedelta,
    heartbeat_ago: timedelta | None = None,
    job: str = "generate",
    host: str | None = None,
    pid: int | None = None,
) -> RunRecord:
    """A run still `running`, with its latest heartbeat (None: none sent yet)."""
    return RunRecord(
        id=run_id,
        job=job,
        status=RunStatus.RUNNING,
        started_at=NOW - started_ago,
        heartbeat_at=None if heartbeat_ago is None else NOW - heartbeat_ago,
        host=host,
        pid=pid,
    )


def summary_of(*runs: RunRecord, job: str = "generate") -> JobSummary:
    """The summary history.job_summaries would build: finished runs are all but running."""
    finished_runs = sum(1 for run in runs if run.job == job and run.status != RunStatus.RUNNING)
    return summarize(job, runs, finished_runs=finished_runs)


def health_of(
    *runs: RunRecord,
    max_age: timedelta | None = None,
    stuck_after: timedelta = STUCK_AFTER,
    job: str = "generate",
) -> Health:
    return job_health(job, summary_of(*runs, job=job), max_age, NOW, stuck_after=stuck_after)


def messages(health: Health) -> list[str]:
    return [problem.message for problem in health.problems]


def hours(amount: float) -> timedelta:
    return timedelta(hours=amount)


# Successes age ------------------------------------------------------------------------


def test_a_success_within_the_max_age_is_ok() -> None:
    health = health_of(finished(1, ago=hours(25)), max_age=MAX_AGE)

    assert health.level is Level.OK
    assert health.problems == ()


def test_a_success_exactly_at_the_max_age_is_still_ok() -> None:
    assert health_of(finished(1, ago=MAX_AGE), max_age=MAX_AGE).level is Level.OK


def test_a_success_older_than_the_max_age_warns() -> None:
    health = health_of(finished(1, ago=hours(27)), max_age=MAX_AGE)

    assert health.level is Level.WARNING
    assert messages(health) == ["last success 1d03h ago (run 1), older than max age 26h"]


def test_a_success_exactly_twice_the_max_age_old_only_warns() -> None:
    assert health_of(finished(1, ago=2 * MAX_AGE), max_age=MAX_AGE).level is Level.WARNING


def test_a_success_older_than_twice_the_max_age_is_critical() -> None:
    health = health_of(finished(1, ago=hours(53)), max_age=MAX_AGE)

    assert health.level is Level.CRITICAL
    assert messages(health) == ["last success 2d05h ago (run 1), older than twice the max age 26h"]


def test_a_success_ages_from_when_it_finished_not_when_it_started() -> None:
    long_run = finished(1, ago=hours(25), took=hours(5))

    assert health_of(long_run, max_age=MAX_AGE).level is Level.OK


def test_the_latest_success_counts_not_an_older_one() -> None:
    health = health_of(finished(1, ago=hours(80)), finished(2, ago=hours(1)), max_age=MAX_AGE)

    assert health.level is Level.OK


def test_a_job_that_never_ran_warns() -> None:
    health = job_health("generate", None, MAX_AGE, NOW, stuck_after=STUCK_AFTER)

    assert health.level is Level.WARNING
    assert messages(health) == ["never ran (max age 26h)"]


def test_finished_runs_without_a_success_are_critical() -> None:
    health = health_of(
        finished(1, RunStatus.FAILED, ago=hours(25), error="no route to host"),
        finished(2, RunStatus.FAILED, ago=hours(1), error="no route to host"),
        max_age=MAX_AGE,
    )

    assert health.level is Level.CRITICAL
    assert health.problems[0].level is Level.CRITICAL
    assert health.problems[0].message == "never succeeded in 2 finished runs (max age 26h)"


def test_a_single_finished_run_without_success_is_named_in_the_singular() -> None:
    health = health_of(finished(1, RunStatus.FAILED, ago=hours(1)), max_age=MAX_AGE)

    assert health.problems[0].message == "never succeeded in 1 finished run (max age 26h)"


def test_a_first_run_still_running_is_not_critical_by_age() -> None:
    first = running(1, started_ago=hours(30), heartbeat_ago=timedelta(seconds=30))

    health = health_of(first, max_age=MAX_AGE)

    assert health.level is Level.OK
    assert health.problems == ()


def test_without_a_max_age_a_job_has_no_age_problems() -> None:
    assert job_health("generate", None, None, NOW, stuck_after=STUCK_AFTER).level is Level.OK
    assert health_of(finished(1, ago=timedelta(days=100)), max_age=None).level is Level.OK
    assert health_of(finished(1, RunStatus.SKIPPED, ago=hours(1)), max_age=None).level is Level.OK


# Failures -----------------------------------------------------------------------------


def test_a_last_outcome_that_failed_warns_with_the_first_line_of_its_error() -> None:
    health = health_of(
        finished(1, ago=hours(25)),
        finished(2, RunStatus.FAILED, ago=hours(3), error=TRACEBACK),
    )

    assert health.level is Level.WARNING
    assert messages(health) == ["last run 2 failed 3h00m ago: disk full"]


def test_a_failure_followed_by_a_success_is_ok() -> None:
    health = health_of(
        finished(1, RunStatus.FAILED, ago=hours(25), error=TRACEBACK),
        finished(2, ago=hours(1)),
    )

    assert health.level is Level.OK


def test_two_failures_in_a_row_only_warn() -> None:
    health = health_of(
        finished(1, ago=hours(49)),
        finished(2, RunStatus.FAILED, ago=hours(25)),
        finished(3, RunStatus.FAILED, ago=hours(1)),
    )

    assert health.level is Level.WARNING
    assert messages(health) == ["last run 3 failed 1h00m ago"]


def test_three_failed_nights_in_a_row_are_critical() -> None:
    health = health_of(
        finished(1, ago=hours(73)),
        finished(2, RunStatus.FAILED, ago=hours(49), error="timeout"),
        finished(3, RunStatus.FAILED, ago=hours(25), error="timeout"),
        finished(4, RunStatus.FAILED, ago=hours(1), error=TRACEBACK),
    )

    assert health.level is Level.CRITICAL
    assert messages(health) == ["the last 3 runs failed, latest run 4 failed 1h00m ago: disk full"]


def test_an_abandoned_run_counts_as_a_failure() -> None:
    health = health_of(finished(1, ago=hours(25)), finished(2, RunStatus.ABANDONED, ago=hours(1)))

    assert health.level is Level.WARNING
    assert messages(health) == ["last run 2 abandoned 1h00m ago"]


def test_abandoned_runs_extend_a_failure_streak() -> None:
    health = health_of(
        finished(1, RunStatus.FAILED, ago=hours(49)),
        finished(2, RunStatus.ABANDONED, ago=hours(25)),
        finished(3, RunStatus.FAILED, ago=hours(1)),
    )

    assert health.level is Level.CRITICAL
    assert messages(health) == ["the last 3 runs failed, latest run 3 failed 1h00m ago"]


def test_a_skipped_run_does_not_end_a_failure_streak() -> None:
    health = health_of(
        finished(1, RunStatus.FAILED, ago=hours(49)),
        finished(2, RunStatus.FAILED, ago=hours(25)),
        finished(3, RunStatus.SKIPPED, ago=hours(13)),
        finished(4, RunStatus.FAILED, ago=hours(1)),
    )

    assert health.level is Level.CRITICAL


def test_a_skipped_run_after_a_failure_does_not_clear_the_warning() -> None:
    health = health_of(
        finished(1, ago=hours(49)),
        finished(2, RunStatus.FAILED, ago=hours(25)),
        finished(3, RunStatus.SKIPPED, ago=hours(1)),
    )

    assert health.level is Level.WARNING
    assert messages(health) == ["last run 2 failed 1d01h ago"]


def test_a_skipped_run_does_not_extend_a_failure_streak() -> None:
    health = health_of(
        finished(1, ago=hours(49)),
        finished(2, RunStatus.FAILED, ago=hours(25)),
        finished(3, RunStatus.SKIPPED, ago=hours(13)),
        finished(4, RunStatus.FAILED, ago=hours(1)),
    )

    assert health.level is Level.WARNING


def test_one_nights_three_failed_attempts_are_not_three_failures() -> None:
    health = health_of(
        finished(1, ago=hours(25)),
        finished(2, RunStatus.FAILED, ago=hours(1.2), retried=True, attempt=1),
        finished(3, RunStatus.FAILED, ago=hours(1.1), retried=True, attempt=2),
        finished(4, RunStatus.FAILED, ago=hours(1), error="timeout", attempt=3),
    )

    assert health.level is Level.WARNING
    assert messages(health) == ["last run 4 failed 1h00m ago: timeout"]


def test_a_failed_attempt_put_right_by_a_later_attempt_is_ok() -> None:
    health = health_of(
        finished(1, RunStatus.FAILED, ago=hours(1.1), retried=True, attempt=1),
        finished(2, ago=hours(1), attempt=2),
    )

    assert health.level is Level.OK


def test_three_nights_that_each_end_in_failure_after_retries_are_critical() -> None:
    nights = [
        run
        for night, first_id in ((49, 1), (25, 3), (1, 5))
        for run in (
            finished(first_id, RunStatus.FAILED, ago=hours(night + 0.1), retried=True),
            finished(first_id + 1, RunStatus.FAILED, ago=hours(night), attempt=2),
        )
    ]

    health = health_of(*nights)

    assert health.level is Level.CRITICAL
    assert messages(health) == ["the last 3 runs failed, latest run 6 failed 1h00m ago"]


# Stuck --------------------------------------------------------------------------------


def test_a_running_run_silent_longer_than_stuck_after_is_critical() -> None:
    stuck = running(
        9,
        started_ago=hours(1),
        heartbeat_ago=timedelta(minutes=10),
        host="db-host-1",
        pid=4242,
    )

    health = health_of(stuck)

    assert health.level is Level.CRITICAL
    assert messages(health) == [
        "run 9 on db-host-1 pid 4242 looks stuck: no heartbeat for 10m00s (limit 4m00s)"
    ]


def test_a_running_run_that_never_beat_is_stuck_counting_from_its_start() -> None:
    health = health_of(running(9, started_ago=timedelta(minutes=10)))

    assert health.level is Level.CRITICAL
    assert messages(health) == [
        "run 9 looks stuck: no heartbeat since it started 10m00s ago (limit 4m00s)"
    ]


def test_a_running_run_silent_for_less_than_stuck_after_is_not_stuck() -> None:
    busy = running(9, started_ago=hours(2), heartbeat_ago=timedelta(minutes=1))

    assert health_of(busy).level is Level.OK


def test_a_running_run_silent_exactly_stuck_after_is_not_yet_stuck() -> None:
    assert health_of(running(9, started_ago=STUCK_AFTER)).level is Level.OK


def test_a_stuck_run_is_critical_whatever_its_job_and_max_age() -> None:
    health = health_of(
        finished(1, job="archive", ago=hours(1)),
        running(2, job="archive", started_ago=hours(1), heartbeat_ago=hours(1)),
        running(3, job="archive", started_ago=hours(1), heartbeat_ago=timedelta(seconds=5)),
        job="archive",
        max_age=None,
    )

    assert health.level is Level.CRITICAL
    assert messages(health) == ["run 2 looks stuck: no heartbeat for 1h00m (limit 4m00s)"]


# Health of a job and of all jobs ------------------------------------------------------


def test_a_jobs_problems_are_listed_worst_first() -> None:
    health = health_of(
        finished(1, ago=hours(3)),
        finished(2, RunStatus.FAILED, ago=hours(2)),
        running(3, started_ago=hours(1)),
    )

    assert health.level is Level.CRITICAL
    assert [problem.level for problem in health.problems] == [Level.CRITICAL, Level.WARNING]


def test_overall_orders_every_jobs_problems_worst_first_and_takes_the_worst_level() -> None:
    late = job_health("release", None, timedelta(minutes=15), NOW, stuck_after=STUCK_AFTER)
    healthy = health_of(finished(1, ago=hours(1)), max_age=MAX_AGE)
    failing = health_of(
        *(finished(n, RunStatus.FAILED, ago=hours(24 * n)) for n in (1, 2, 3)),
        max_age=None,
    )

    combined = overall([late, healthy, failing])

    assert combined.level is Level.CRITICAL
    assert [str(problem) for problem in combined.problems] == [
        "generate: the last 3 runs failed, latest run 1 failed 1d00h ago",
        "release: never ran (max age 15m)",
    ]


def test_overall_of_healthy_jobs_or_of_no_job_is_ok() -> None:
    healthy = health_of(finished(1, ago=hours(1)), max_age=MAX_AGE)

    assert overall([healthy, healthy]) == Health(Level.OK, ())
    assert overall([]) == Health(Level.OK, ())


def test_levels_are_the_nagios_exit_codes_and_read_as_lowercase_words() -> None:
    assert [int(level) for level in (Level.OK, Level.WARNING, Level.CRITICAL)] == [0, 1, 2]
    assert [level.word for level in Level] == ["ok", "warning", "critical"]


# summarize ----------------------------------------------------------------------------


def test_summarize_keeps_only_the_jobs_runs_newest_first_whatever_the_input_order() -> None:
    oldest = finished(1, ago=hours(30))
    failure = finished(2, RunStatus.ABANDONED, ago=hours(20))
    latest = finished(3, RunStatus.SKIPPED, ago=hours(1))
    other_job = finished(4, job="release", ago=timedelta(minutes=1))

    summary = summarize("generate", [failure, other_job, oldest, latest])

    assert summary.job == "generate"
    assert summary.last_run == latest
    assert summary.last_success == oldest
    assert summary.last_failure == failure
    assert summary.outcomes == (failure, oldest)


def test_summarize_keeps_the_latest_outcomes_up_to_the_streak_length() -> None:
    runs = [finished(n, RunStatus.FAILED, ago=hours(n)) for n in range(1, 6)]
    taken_up = finished(6, RunStatus.FAILED, ago=timedelta(minutes=30), retried=True)
    now_running = running(7, started_ago=timedelta(minutes=1))

    summary = summarize("generate", [*runs, taken_up, now_running])

    assert len(summary.outcomes) == FAILURE_STREAK
    assert [run.id for run in summary.outcomes] == [1, 2, 3]
    assert summary.running == (now_running,)
    assert summary.last_run == now_running
    assert summary.last_failure == taken_up


def test_summarize_passes_the_counts_through() -> None:
    summary = summarize("release", [], finished_runs=12, succeeded_24h=5, failed_7d=2)

    assert summary == JobSummary(
        "release", finished_runs=12, succeeded_24h=5, failed_24h=0, failed_7d=2
    )
    assert summary.last_run is None


# RunRecord ----------------------------------------------------------------------------


def record(**fields: Any) -> RunRecord:
    values: dict[str, Any] = {
        "id": 1,
        "job": "generate",
        "status": RunStatus.SUCCEEDED,
        "started_at": NOW - hours(1),
    }
    values.update(fields)
    return RunRecord(**values)


def test_a_finished_runs_duration_is_from_start_to_finish() -> None:
    run = record(finished_at=NOW - hours(1) + timedelta(seconds=90))

    assert run.duration(NOW) == timedelta(seconds=90)


def test_a_run_that_finished_before_it_started_lasted_zero_not_a_negative_span() -> None:
    run = record(finished_at=NOW - hours(2))

    assert run.duration(NOW) == timedelta(0)


def test_a_running_runs_duration_is_so_far() -> None:
    run = record(status=RunStatus.RUNNING)

    assert run.duration(NOW) == hours(1)


def test_a_run_that_is_neither_finished_nor_running_has_no_duration() -> None:
    assert record(status=RunStatus.SKIPPED).duration(NOW) is None


def test_an_abandoned_run_lasted_until_its_last_heartbeat_not_until_it_was_marked() -> None:
    started = NOW - hours(10)
    run = record(
        status=RunStatus.ABANDONED,
        started_at=started,
        heartbeat_at=started + timedelta(minutes=12),
        finished_at=NOW,
    )
    assert run.duration(NOW) == timedelta(minutes=12)
    before_any_beat = record(status=RunStatus.ABANDONED, started_at=started, finished_at=NOW)
    assert before_any_beat.duration(NOW) == timedelta(0)


def test_ended_at_is_the_finish_or_else_the_start() -> None:
    assert record(finished_at=NOW).ended_at == NOW
    assert record(status=RunStatus.ABANDONED).ended_at == NOW - hours(1)


def test_the_last_sign_of_life_is_the_heartbeat_or_else_the_start() -> None:
    beat = NOW - timedelta(minutes=1)

    assert record(heartbeat_at=beat).last_sign_of_life == beat
    assert record().last_sign_of_life == NOW - hours(1)


def test_the_error_line_is_the_first_line_of_the_error_only() -> None:
    assert record(error=TRACEBACK).error_line == "disk full"
    assert record(error="\n  connection refused\nmore").error_line == "connection refused"
    assert record(error=None).error_line == ""


def test_failed_and_abandoned_runs_are_failures_and_skipped_ones_are_not() -> None:
    assert record(status=RunStatus.FAILED).failed
    assert record(status=RunStatus.ABANDONED).failed
    assert not record(status=RunStatus.SKIPPED).failed
    assert not record(status=RunStatus.SUCCEEDED).failed


def test_generate_key_counts_show_what_changed_with_zeros_left_out() -> None:
    stats = {"created": 12840, "updated": 0, "removed": 3, "conflicts": 0, "unchanged": 40112}

    assert record(stats=stats).key_counts == "12,840 created, 3 removed"


def test_generate_key_counts_keep_their_own_order() -> None:
    stats = {"conflicts": 2, "removed": 1, "updated": 4, "created": 5}

    assert record(stats=stats).key_counts == "5 created, 4 updated, 1 removed, 2 conflicts"


def test_key_counts_that_are_all_zero_read_no_changes() -> None:
    generate = {"created": 0, "updated": 0, "removed": 0, "conflicts": 0, "unchanged": 9}

    assert record(stats=generate).key_counts == "no changes"
    assert record(job="release", stats={"released": 0}).key_counts == "no changes"


def test_release_key_counts_show_the_released_reservations() -> None:
    stats = {"released": 1500, "batches": 1}

    assert record(job="release", stats=stats).key_counts == "1,500 released"


def test_other_jobs_show_every_integer_count_by_name() -> None:
    stats = {"moved": 2, "copied": 7, "note": "done", "ratio": 0.5}

    assert record(job="archive", stats=stats).key_counts == "7 copied, 2 moved"


def test_key_counts_ignore_booleans() -> None:
    assert record(stats={"created": 3, "conflicts": True}).key_counts == "3 created"
    assert record(job="release", stats={"released": True}).key_counts == ""
    assert record(job="archive", stats={"dry_run": False, "moved": 1}).key_counts == "1 moved"


def test_key_counts_of_missing_or_malformed_stats_are_empty() -> None:
    not_a_mapping = cast(Mapping[str, Any], [1, 2, 3])

    assert record(stats=None).key_counts == ""
    assert record(stats=not_a_mapping).key_counts == ""
    assert record(stats={"unchanged": 5}).key_counts == ""


# attention --------------------------------------------------------------------------


def test_a_success_that_skipped_bad_rows_and_found_conflicts_warns_once_per_kind() -> None:
    run = finished(7, ago=hours(1), stats={"created": 10, "bad_rows": 2, "conflicts": 3})

    health = health_of(run, max_age=MAX_AGE)

    assert health.level is Level.WARNING
    assert [problem.attention for problem in health.problems] == [True, True]
    first, second = messages(health)
    assert first.startswith("run 7 skipped 2 bad row(s)")
    assert "slotgen runs show 7" in first
    assert second.startswith("run 7 found 3 conflict(s)")
    assert health.needs_attention_only


def test_reservations_that_never_expire_ask_for_attention() -> None:
    run = finished(4, ago=hours(1), job="release", stats={"released": 0, "never_expiring": 5})

    (message,) = messages(health_of(run, job="release"))

    assert message.startswith("run 4 met 5 reservation(s) without reserved_until")


def test_a_later_clean_success_clears_the_attention() -> None:
    bad = finished(1, ago=hours(5), stats={"bad_rows": 1})
    clean = finished(2, ago=hours(1), stats={"bad_rows": 0, "conflicts": 0})

    assert health_of(bad, clean, max_age=MAX_AGE).level is Level.OK


def test_attention_next_to_a_late_job_is_not_attention_only() -> None:
    run = finished(3, ago=hours(30), stats={"conflicts": 1})

    health = health_of(run, max_age=MAX_AGE)

    assert health.level is Level.WARNING
    assert not health.needs_attention_only
    assert any(problem.attention for problem in health.problems)
