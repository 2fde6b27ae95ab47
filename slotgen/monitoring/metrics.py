"""The jobs' health as Prometheus gauges, in the text format node_exporter's textfile
collector reads (and a scrape wrapper prints).

The format is a few lines of text, so slotgen writes it itself rather than load a client
library into every cron run; a test reads the output back with `prometheus_client`'s
own parser. One file holds every job's lines: a run replaces its own job's samples and
keeps the others', and the samples of one metric stay together under one HELP and TYPE,
as the format requires.

A sample belongs to a job by its `job` label (`slotgen_job_*`) or by its name
(`slotgen_generate_*` is generate's).
"""

import math
import re
import signal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slotgen.monitoring.health import JobSummary
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import Job, RunStatus

LAST_RUN = "slotgen_job_last_run_timestamp_seconds"
LAST_SUCCESS = "slotgen_job_last_success_timestamp_seconds"
LAST_DURATION = "slotgen_job_last_duration_seconds"
LAST_EXIT_CODE = "slotgen_job_last_exit_code"

HELP: dict[str, str] = {
    LAST_RUN: "When the job's last run ended, in seconds since the epoch.",
    LAST_SUCCESS: "When the job's last successful run ended, in seconds since the epoch.",
    LAST_DURATION: "How long the job's last run took, in seconds.",
    LAST_EXIT_CODE: "The exit code of the job's last run (0 = success).",
    "slotgen_generate_slots": "Slots the last generate run created, updated, removed or left "
    "unchanged.",
    "slotgen_generate_conflicts": "Reserved or booked slots the last generate run found at odds "
    "with the rules.",
    "slotgen_generate_bad_rows": "Rules and exceptions the last generate run skipped as unusable.",
    "slotgen_release_released": "Expired reservations the last release run set back to open.",
    "slotgen_release_never_expiring": "Reservations without reserved_until the last release "
    "run met.",
    "slotgen_import_rows": "Rows the last import inserted or updated.",
    "slotgen_holidays_exceptions": "Holiday exceptions the last holidays sync created, "
    "updated, removed or left unchanged.",
    "slotgen_holidays_bad_rows": "Facilities the last holidays sync skipped as unusable.",
}
"""Every metric slotgen writes, in the order it writes them."""

COUNTS: dict[str, tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]] = {
    Job.GENERATE: (
        *(
            ("slotgen_generate_slots", change, (("change", change),))
            for change in ("created", "updated", "removed", "unchanged")
        ),
        ("slotgen_generate_conflicts", "conflicts", ()),
        ("slotgen_generate_bad_rows", "bad_rows", ()),
    ),
    Job.RELEASE: (
        ("slotgen_release_released", "released", ()),
        ("slotgen_release_never_expiring", "never_expiring", ()),
    ),
    Job.IMPORT: tuple(
        ("slotgen_import_rows", change, (("change", change),)) for change in ("inserted", "updated")
    ),
    Job.HOLIDAYS: (
        *(
            ("slotgen_holidays_exceptions", change, (("change", change),))
            for change in ("created", "updated", "removed", "unchanged")
        ),
        ("slotgen_holidays_bad_rows", "bad_rows", ()),
    ),
}
"""Per job: (metric, the stats key it reads, its labels) for the counts of its last run."""

SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: Labels
    value: float

    @property
    def owner(self) -> str | None:
        """The job whose run writes this sample."""
        for key, value in self.labels:
            if key == "job":
                return value
        prefix, _, rest = self.name.partition("_")
        job, _, _ = rest.partition("_")
        return job if prefix == "slotgen" and job != "job" else None


@dataclass(frozen=True, slots=True)
class JobMetrics:
    """What a job's lines say: its last run, its last success and the run's counts."""

    job: str
    ended_at: datetime
    duration: timedelta
    exit_code: int
    last_success: datetime | None
    stats: Mapping[str, Any] | None = None
    """The counts of the last run; none for a run that failed."""


def job_samples(metrics: JobMetrics) -> list[Sample]:
    job = (("job", metrics.job),)
    samples = [
        Sample(LAST_RUN, job, metrics.ended_at.timestamp()),
        Sample(LAST_DURATION, job, max(0.0, metrics.duration.total_seconds())),
        Sample(LAST_EXIT_CODE, job, float(metrics.exit_code)),
    ]
    if metrics.last_success is not None:
        samples.append(Sample(LAST_SUCCESS, job, metrics.last_success.timestamp()))
    stats = metrics.stats or {}
    for name, key, labels in COUNTS.get(metrics.job, ()):
        value = stats.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            samples.append(Sample(name, labels, float(value)))
    return samples


def replace_job(existing: Iterable[Sample], metrics: JobMetrics) -> list[Sample]:
    """The file's samples after a run of `metrics.job`: its own replaced, the rest kept."""
    kept = [sample for sample in existing if sample.owner != metrics.job]
    return kept + job_samples(metrics)


def last_success(samples: Iterable[Sample], job: str) -> datetime | None:
    """A job's last success as a file says it: a failed run keeps the one before."""
    for sample in samples:
        if sample.name == LAST_SUCCESS and sample.owner == job and math.isfinite(sample.value):
            return datetime.fromtimestamp(sample.value, UTC)
    return None


def render(samples: Iterable[Sample]) -> str:
    """The text exposition format: each metric's samples together under its HELP and TYPE,
    known metrics in HELP's order, then any others a file held, by name."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(sample.name, []).append(sample)
    names = [name for name in HELP if name in by_name]
    names += sorted(name for name in by_name if name not in HELP)
    lines: list[str] = []
    for name in names:
        help_text = HELP.get(name, "Kept from an earlier slotgen.")
        lines += [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} gauge"]
        for sample in sorted(by_name[name], key=lambda sample: sample.labels):
            lines.append(f"{name}{_labels(sample.labels)} {_number(sample.value)}")
    return "".join(f"{line}\n" for line in lines)


def parse(text: str) -> list[Sample]:
    """The samples of a file slotgen wrote; comments and lines it cannot read are dropped
    (a file half edited by hand must not stop the job from writing its own lines)."""
    samples = []
    for line in text.splitlines():
        match = SAMPLE.fullmatch(line.strip())
        if line.startswith("#") or match is None:
            continue
        name, label_text, value = match.groups()
        labels = tuple((key, _unescape(raw)) for key, raw in LABEL.findall(label_text or ""))
        try:
            samples.append(Sample(name, labels, float(value)))
        except ValueError:
            continue
    return samples


def exit_code_of(run: RunRecord) -> int:
    """The exit code a recorded run ended with, as far as job_runs tells: a run that failed
    on the database's side (3) is recorded as a failure like any other (1)."""
    if run.status == RunStatus.SUCCEEDED:
        stats = run.stats or {}
        return 1 if stats.get("bad_rows") else 0
    if run.status == RunStatus.INTERRUPTED:
        for number in (signal.SIGINT, signal.SIGTERM):
            if number.name in (run.error or ""):
                return 128 + number
    return 1


def from_summary(summary: JobSummary, now: datetime) -> JobMetrics | None:
    """A job's lines from job_runs: its last outcome (a skipped run did no work), its last
    success, and the counts of that outcome. None for a job with no outcome yet."""
    if not summary.outcomes:
        return None
    run = summary.outcomes[0]
    success = summary.last_success
    return JobMetrics(
        job=summary.job,
        ended_at=run.ended_at,
        duration=run.duration(now) or timedelta(0),
        exit_code=exit_code_of(run),
        last_success=success.ended_at if success is not None else None,
        stats=run.stats if run.status == RunStatus.SUCCEEDED else None,
    )


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape_label(value)}"' for key, value in labels)
    return "{" + inner + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda match: "\n" if match[1] == "n" else match[1], value)
