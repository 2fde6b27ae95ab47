"""`--metrics-file`: each job's last run as Prometheus gauges, for node_exporter's textfile
collector; and `check --format prometheus`, the same lines from job_runs.

The file is checked before a run is recorded (a typo is bad input, not a run that works
and then cannot say so) and replaced in one rename after it, so the collector never
reads half a file. The collector reads `*.prom` only; the temporary file beside it is
named `.NAME.*.tmp` and never read.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slotgen.errors import BadInput, ExitCode, SlotgenError
from slotgen.vocabulary import RunStatus

if TYPE_CHECKING:
    from slotgen.monitoring.health import JobSummary
    from slotgen.monitoring.metrics import JobMetrics

log = logging.getLogger("slotgen.metrics")

OPTION = "--metrics-file"


def checked_metrics_file(path: Path | None) -> Path | None:
    """The absolute path, once its folder is known to take the file; BadInput otherwise."""
    if path is None:
        return None
    target = path.absolute()
    folder = target.parent
    if target.is_dir():
        raise BadInput(f"{OPTION}: {target} is a folder; name the .prom file to write in it")
    if not folder.is_dir():
        raise BadInput(f"{OPTION}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"{OPTION}: cannot write in {folder}: permission denied")
    if target.exists() and not os.access(target, os.R_OK):
        raise BadInput(f"{OPTION}: cannot read {target}: permission denied")
    return target


def write_job_metrics(path: Path, metrics: "JobMetrics") -> None:
    """Replace the job's lines in the file, keeping every other job's."""
    # The text format and the page writer load here: most runs write no metrics file.
    from slotgen.monitoring.metrics import JobMetrics, last_success, parse, render, replace_job
    from slotgen.web.page import write_page

    try:
        existing = parse(path.read_text(encoding="utf-8")) if path.exists() else []
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("Metrics file %s unreadable, written anew: %s", path, exc)
        existing = []
    if metrics.last_success is None:
        metrics = JobMetrics(
            metrics.job,
            metrics.ended_at,
            metrics.duration,
            metrics.exit_code,
            last_success(existing, metrics.job),
            metrics.stats,
        )
    write_page(path, render(replace_job(existing, metrics)))


@dataclass
class MetricsRecorder:
    """What the run under way tells the metrics: set by the job once it knows its outcome."""

    job: str
    exit_code: int | None = None
    succeeded: bool = False
    stats: Mapping[str, Any] | None = None
    skipped: bool = False

    def outcome(self, status: str, exit_code: int, stats: Mapping[str, Any] | None) -> None:
        self.skipped = status == RunStatus.SKIPPED
        self.exit_code = exit_code
        self.succeeded = status == RunStatus.SUCCEEDED
        self.stats = stats if self.succeeded else None


@contextmanager
def recording(
    path: Path | None,
    job: str,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[MetricsRecorder]:
    """Check the metrics file, let the job run, then write its lines, whatever the outcome.

    A run that raised is written with the exit code it will exit with (bad input 2, the
    database unreachable 3). A skipped run did no work: the run at work writes the job's
    lines. A file that cannot be written after the run is logged, and the run's own exit
    code stands: the metrics never turn a good run into a failed one.
    """
    target = checked_metrics_file(path)
    recorder = MetricsRecorder(job)
    started = time.monotonic()
    try:
        yield recorder
    except SlotgenError as exc:
        recorder.exit_code = exc.exit_code
        raise
    except Exception:
        recorder.exit_code = ExitCode.FAILED
        raise
    finally:
        if target is not None and recorder.exit_code is not None and not recorder.skipped:
            from slotgen.monitoring.metrics import JobMetrics

            ended = clock()
            metrics = JobMetrics(
                job,
                ended,
                timedelta(seconds=time.monotonic() - started),
                recorder.exit_code,
                ended if recorder.succeeded else None,
                recorder.stats,
            )
            try:
                write_job_metrics(target, metrics)
            except OSError as exc:
                log.error("Metrics not written to %s: %s", target, exc)


def record_unopened(path: Path | None, job: str, error: SlotgenError) -> None:
    """A run that could not open its database (unreachable: 3, out of date: 3, a bad URL:
    2) did no work and is on no record; its metrics still say how it ended."""
    target = checked_metrics_file(path)
    if target is None:
        return
    from slotgen.monitoring.metrics import JobMetrics

    metrics = JobMetrics(job, datetime.now(UTC), timedelta(0), error.exit_code, None, None)
    try:
        write_job_metrics(target, metrics)
    except OSError as exc:
        log.error("Metrics not written to %s: %s", target, exc)


def prometheus_lines(summaries: Mapping[str, "JobSummary"], now: datetime) -> str:
    """`check --format prometheus`: every job's lines as job_runs has them."""
    from slotgen.monitoring.metrics import from_summary, render, replace_job

    samples = []
    for summary in summaries.values():
        metrics = from_summary(summary, now)
        if metrics is not None:
            samples += replace_job([], metrics)
    return render(samples)
