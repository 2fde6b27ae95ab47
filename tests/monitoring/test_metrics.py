"""The metrics file's text, read back by Prometheus's own parser.

slotgen writes the exposition format itself, so `prometheus_client.parser` (the reference
reader, in the test extra only) is the judge: a line it cannot read, or a metric split
in two, would make node_exporter drop the whole file and every alert on it go quiet.
"""

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from slotgen.monitoring.health import summarize
from slotgen.monitoring.metrics import (
    JobMetrics,
    exit_code_of,
    from_summary,
    job_samples,
    last_success,
    parse,
    render,
    replace_job,
)
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import RunStatus

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
GENERATE_STATS = {
    "created": 120,
    "updated": 3,
    "removed": 2,
    "unchanged": 900,
    "conflicts": 1,
    "bad_rows": 0,
}


def read(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as Prometheus reads it, after checking each metric is one gauge family."""
    found = {}
    names = []
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        assert family.documentation, family.name
        names.append(family.name)
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert len(names) == len(set(names)), "a metric is split into two families"
    return found


def generate_run(**changes: object) -> JobMetrics:
    values: dict[str, object] = {
        "job": "generate",
        "ended_at": NOW,
        "duration": timedelta(seconds=42.5),
        "exit_code": 0,
        "last_success": NOW,
        "stats": GENERATE_STATS,
    }
    values.update(changes)
    return JobMetrics(**values)  # type: ignore[arg-type]


def test_a_generate_run_reads_back_as_the_documented_gauges() -> None:
    samples = read(render(job_samples(generate_run())))

    job = (("job", "generate"),)
    assert samples[("slotgen_job_last_run_timestamp_seconds", job)] == NOW.timestamp()
    assert samples[("slotgen_job_last_success_timestamp_seconds", job)] == NOW.timestamp()
    assert samples[("slotgen_job_last_duration_seconds", job)] == 42.5
    assert samples[("slotgen_job_last_exit_code", job)] == 0
    for change in ("created", "updated", "removed", "unchanged"):
        key = ("slotgen_generate_slots", (("change", change),))
        assert samples[key] == GENERATE_STATS[change]
    assert samples[("slotgen_generate_conflicts", ())] == 1
    assert samples[("slotgen_generate_bad_rows", ())] == 0


def test_a_run_replaces_its_own_lines_and_keeps_the_other_jobs() -> None:
    release = JobMetrics("release", NOW, timedelta(seconds=1), 0, NOW, {"released": 7})
    file = render(replace_job([], release))
    file = render(replace_job(parse(file), generate_run()))
    later = NOW + timedelta(hours=1)
    file = render(replace_job(parse(file), generate_run(ended_at=later, stats={"created": 5})))

    samples = read(file)

    assert samples[("slotgen_release_released", ())] == 7
    assert samples[("slotgen_job_last_run_timestamp_seconds", (("job", "release"),))] == (
        NOW.timestamp()
    )
    generate = ("slotgen_job_last_run_timestamp_seconds", (("job", "generate"),))
    assert samples[generate] == later.timestamp()
    assert samples[("slotgen_generate_slots", (("change", "created"),))] == 5
    assert ("slotgen_generate_slots", (("change", "unchanged"),)) not in samples
    assert ("slotgen_generate_conflicts", ()) not in samples


def test_a_failed_run_keeps_the_last_success_of_the_file() -> None:
    before = parse(render(job_samples(generate_run())))
    failed = generate_run(
        ended_at=NOW + timedelta(days=1), exit_code=3, last_success=last_success(before, "generate")
    )

    samples = read(render(replace_job(before, failed)))

    job = (("job", "generate"),)
    assert samples[("slotgen_job_last_success_timestamp_seconds", job)] == NOW.timestamp()
    assert samples[("slotgen_job_last_exit_code", job)] == 3


def test_lines_written_by_hand_or_by_a_newer_slotgen_survive_and_stay_readable() -> None:
    odd = 'slotgen_job_last_exit_code{job="say \\"hi\\"\\nthere"} 2\nnot a sample line\n'
    file = render(replace_job(parse(odd + "slotgen_future_metric 1.5\n"), generate_run()))

    samples = read(file)

    assert samples[("slotgen_job_last_exit_code", (("job", 'say "hi"\nthere'),))] == 2
    assert samples[("slotgen_future_metric", ())] == 1.5


def record(run_id: int, status: str, *, ago: timedelta, **values: object) -> RunRecord:
    started = NOW - ago
    return RunRecord(
        run_id,
        "generate",
        status,
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        **values,  # type: ignore[arg-type]
    )


def test_job_runs_give_the_last_outcome_and_the_last_success() -> None:
    success = record(1, RunStatus.SUCCEEDED, ago=timedelta(hours=5), stats=GENERATE_STATS)
    failure = record(2, RunStatus.FAILED, ago=timedelta(hours=1), error="disk full")
    skipped = record(3, RunStatus.SKIPPED, ago=timedelta(minutes=1))

    metrics = from_summary(summarize("generate", [success, failure, skipped]), NOW)

    assert metrics is not None
    assert metrics.ended_at == failure.finished_at
    assert metrics.exit_code == 1
    assert metrics.last_success == success.finished_at
    assert metrics.duration == timedelta(seconds=30)
    assert metrics.stats is None
    assert from_summary(summarize("generate", [skipped]), NOW) is None


def test_the_exit_code_of_a_recorded_run() -> None:
    def code(status: str, **values: object) -> int:
        return exit_code_of(record(1, status, ago=timedelta(hours=1), **values))

    assert code(RunStatus.SUCCEEDED, stats={"bad_rows": 0}) == 0
    assert code(RunStatus.SUCCEEDED, stats={"bad_rows": 2}) == 1
    assert code(RunStatus.FAILED) == 1
    assert code(RunStatus.ABANDONED) == 1
    assert code(RunStatus.INTERRUPTED, error="interrupted by SIGTERM: stopped ...") == 143
    assert code(RunStatus.INTERRUPTED, error="interrupted by SIGINT: stopped ...") == 130
