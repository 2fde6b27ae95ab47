"""The dashboard as one self-contained HTML page: inline CSS and SVG, no script, no fetch.

It must work from file://, offline, behind any web server, and in a browser that blocks
scripts, so nothing on it runs or loads. Every value from the database goes through
`html.escape`: error messages and names are written by other programs and may hold
markup. Status is always spelled out as well as coloured.
"""

import os
import stat
import tempfile
from contextlib import suppress
from datetime import datetime, timedelta
from html import escape
from pathlib import Path

from slotgen.monitoring.durations import format_duration
from slotgen.monitoring.health import Level
from slotgen.monitoring.records import RunRecord
from slotgen.vocabulary import FAILURES, RunStatus
from slotgen.web.model import (
    CHART_DAYS,
    SLOT_DAYS,
    Dashboard,
    DayBar,
    DurationBar,
    JobPanel,
    RunLine,
)

COLOURS = {"succeeded": "#1a7f37", "failed": "#c62828", "other": "#8c959f"}
SIGNS = {Level.OK: "✔", Level.WARNING: "▲", Level.CRITICAL: "✖"}
"""A shape per badge, so the badges differ without colour too."""

CSS = """
:root { color-scheme: light; --ok: #1a7f37; --late: #9a6700; --fail: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem 1.5rem; font: 15px/1.45 system-ui, -apple-system,
  "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f8fa; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 0; }
.meta { color: #57606a; margin: 0 0 1rem; }
.jobs { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem; }
.card header { display: flex; justify-content: space-between; align-items: center; gap: .5rem; }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-weight: 700;
  color: #fff; white-space: nowrap; }
.badge.healthy { background: var(--ok); } .badge.late { background: var(--late); }
.badge.failing { background: var(--fail); } .badge.attention { background: var(--late); }
.problems { margin: .5rem 0; padding-left: 1.2rem; color: #57606a; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: .5rem 0; }
dt { color: #57606a; } dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: .75rem 0 0; } figcaption { font-size: .85rem; color: #57606a; }
svg { width: 100%; max-width: 480px; height: auto; display: block; }
.legend span { display: inline-block; width: .8em; height: .8em; margin: 0 .25em 0 .75em;
  vertical-align: -.05em; }
.scroll { overflow-x: auto; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #eaeef2;
  white-space: nowrap; vertical-align: top; }
td.error { white-space: normal; min-width: 16rem; overflow-wrap: anywhere; }
td.num, th.num { text-align: right; }
tr.failed { background: #ffebe9; } tr.failed td.status { color: var(--fail); font-weight: 700; }
.empty { background: #fff; border: 1px dashed #d0d7de; border-radius: 8px; padding: 1rem; }
@media (max-width: 600px) {
  body { padding: .5rem; font-size: 14px; }
  .jobs { grid-template-columns: 1fr; }
}
"""


def render(dashboard: Dashboard, refresh: int = 0) -> str:
    """The page; `refresh` seconds makes the browser reload it (0: never)."""
    meta_refresh = f'<meta http-equiv="refresh" content="{int(refresh)}">\n' if refresh > 0 else ""
    generated = _moment(dashboard.generated_at, seconds=True)
    zone = escape(dashboard.zone_name)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{meta_refresh}<title>slotgen: {escape(dashboard.badge)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>slotgen runs {_badge(dashboard.level, dashboard.badge)}</h1>
<p class="meta">Generated {escape(generated)}. Times are in {zone}.</p>
<main>
<h2>Jobs</h2>
{_jobs(dashboard)}
<h2>Recent runs</h2>
{_runs(dashboard)}
<h2>Slots in the next {SLOT_DAYS} days</h2>
{_slots(dashboard)}
</main>
</body>
</html>
"""


def _badge(level: Level, word: str) -> str:
    return f'<span class="badge {escape(word)}">{SIGNS[level]} {escape(word)}</span>'


def _moment(moment: datetime | None, *, seconds: bool = False) -> str:
    if moment is None:
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def _jobs(dashboard: Dashboard) -> str:
    if not dashboard.jobs:
        return '<p class="empty">No jobs to show: no runs recorded and no max age to check.</p>'
    cards = "\n".join(_job(panel, dashboard) for panel in dashboard.jobs)
    return f'<div class="jobs">\n{cards}\n</div>'


def _when(run: RunRecord | None, dashboard: Dashboard, *, with_status: bool = False) -> str:
    if run is None:
        return "never"
    now = dashboard.generated_at
    at = _moment(run.started_at.astimezone(now.tzinfo))
    text = f"{format_duration(now - run.started_at)} ago ({at}, run {run.id})"
    return escape(f"{run.status}, {text}" if with_status else text)


def _job(panel: JobPanel, dashboard: Dashboard) -> str:
    summary = panel.summary
    failure = summary.last_failure
    failure_text = _when(failure, dashboard)
    if failure is not None and failure.error_line:
        failure_text += f"<br>{escape(failure.error_line)}"
    problems = "".join(f"<li>{escape(problem)}</li>" for problem in panel.problems)
    job = escape(panel.job)
    return f"""<section class="card" aria-label="job {job}">
<header><h3>{job}</h3>{_badge(panel.level, panel.badge)}</header>
{f'<ul class="problems">{problems}</ul>' if problems else ""}
<dl>
<dt>last run</dt><dd>{_when(summary.last_run, dashboard, with_status=True)}</dd>
<dt>last success</dt><dd>{_when(summary.last_success, dashboard)}</dd>
<dt>last failure</dt><dd>{failure_text}</dd>
<dt>24 hours</dt><dd>{summary.succeeded_24h} succeeded, {summary.failed_24h} failed</dd>
<dt>7 days</dt><dd>{summary.succeeded_7d} succeeded, {summary.failed_7d} failed</dd>
</dl>
{_day_chart(panel.job, panel.days)}
{_duration_chart(panel.job, panel.durations)}
</section>"""


def _legend() -> str:
    return (
        '<span class="legend">'
        f'<span style="background:{COLOURS["succeeded"]}"></span>succeeded'
        f'<span style="background:{COLOURS["failed"]}"></span>failed or abandoned'
        f'<span style="background:{COLOURS["other"]}"></span>skipped or running</span>'
    )


def _day_chart(job: str, days: tuple[DayBar, ...]) -> str:
    width, height, bar = 14 * 24, 100, 18
    top = max((day.total for day in days), default=0) or 1
    scale = (height - 12) / top
    parts = []
    for n, day in enumerate(days):
        x = n * 24 + 3
        y = float(height)
        rects = []
        for kind, count in (
            ("succeeded", day.succeeded),
            ("failed", day.failed),
            ("other", day.other),
        ):
            if not count:
                continue
            size = count * scale
            y -= size
            rects.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{size:.1f}" '
                f'fill="{COLOURS[kind]}"/>'
            )
        label = (
            f"{day.day.isoformat()}: {day.succeeded} succeeded, {day.failed} failed, "
            f"{day.other} skipped or running"
        )
        parts.append(
            f"<g><title>{escape(label)}</title>"
            f'<rect x="{x}" y="0" width="{bar}" height="{height}" fill="transparent"/>'
            f"{''.join(rects)}</g>"
        )
    first, last = (days[0].day, days[-1].day) if days else (None, None)
    axis = (
        f'<text x="0" y="{height + 12}" font-size="10" fill="#57606a">{first}</text>'
        f'<text x="{width}" y="{height + 12}" font-size="10" fill="#57606a" '
        f'text-anchor="end">{last}</text>'
        f'<text x="0" y="9" font-size="10" fill="#57606a">max {top}</text>'
    )
    title = f"Runs of {job} per day over the last {CHART_DAYS} days"
    return f"""<figure>
<svg viewBox="0 0 {width} {height + 14}" role="img" aria-label="{escape(title)}">
{"".join(parts)}{axis}</svg>
<figcaption>{escape(title)}. {_legend()}</figcaption>
</figure>"""


def _duration_chart(job: str, bars: tuple[DurationBar, ...]) -> str:
    title = f"Durations of the latest {len(bars)} finished runs of {job}"
    if not bars:
        return f"<figure><figcaption>No finished runs of {escape(job)} yet.</figcaption></figure>"
    width, height, step = 336, 80, 336 / max(len(bars), 1)
    longest = max(bar.seconds for bar in bars) or 1.0
    parts = []
    for n, bar in enumerate(bars):
        size = max(1.0, bar.seconds / longest * (height - 12))
        kind = (
            "succeeded"
            if bar.status == RunStatus.SUCCEEDED
            else "failed"
            if bar.status in FAILURES
            else "other"
        )
        took = _took(bar.seconds)
        label = f"run {bar.run_id} {bar.status}, {took}, started {_moment(bar.started_at)}"
        parts.append(
            f'<rect x="{n * step + 1:.1f}" y="{height - size:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{size:.1f}" fill="{COLOURS[kind]}">'
            f"<title>{escape(label)}</title></rect>"
        )
    axis = f'<text x="0" y="9" font-size="10" fill="#57606a">max {_took(longest)}</text>'
    return f"""<figure>
<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">
{"".join(parts)}{axis}</svg>
<figcaption>{escape(title)}, oldest first.</figcaption>
</figure>"""


def _took(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds))


def _runs(dashboard: Dashboard) -> str:
    if not dashboard.has_runs:
        return (
            '<p class="empty">No runs recorded yet: they appear here once '
            "<code>slotgen generate</code> or <code>slotgen release</code> has run.</p>"
        )
    rows = "\n".join(_run_row(run) for run in dashboard.runs)
    return f"""<div class="scroll">
<table>
<caption class="meta">The latest {len(dashboard.runs)} runs, newest first; failed and
abandoned runs are highlighted. <code>slotgen runs show ID</code> tells a run's story.</caption>
<thead><tr><th class="num">id</th><th>job</th><th>status</th><th>trigger</th>
<th>started ({escape(dashboard.zone_name)})</th><th>duration</th><th>counts</th>
<th>error</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</div>"""


def _run_row(run: RunLine) -> str:
    status = escape(run.status) + (" ✖" if run.failed else "")
    return (
        f'<tr class="{"failed" if run.failed else "run"}">'
        f'<td class="num">{run.id}</td><td>{escape(run.job)}</td>'
        f'<td class="status">{status}</td><td>{escape(run.trigger)}</td>'
        f"<td>{escape(_moment(run.started_at, seconds=True))}</td>"
        f"<td>{escape(run.duration)}</td><td>{escape(run.counts)}</td>"
        f'<td class="error">{escape(run.error)}</td></tr>'
    )


def _slots(dashboard: Dashboard) -> str:
    if not dashboard.slots:
        return '<p class="empty">No facilities yet.</p>'
    rows = "\n".join(
        f"<tr><td>{escape(f.facility)}</td><td class='num'>{f.open:,}</td>"
        f"<td class='num'>{f.reserved:,}</td><td class='num'>{f.booked:,}</td>"
        f"<td class='num'>{f.other:,}</td></tr>"
        for f in dashboard.slots
    )
    return f"""<div class="scroll">
<table>
<thead><tr><th>facility</th><th class="num">open</th><th class="num">reserved</th>
<th class="num">booked</th><th class="num">other</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</div>"""


def write_page(path: Path, page: str) -> None:
    """Replace `path` with `page` in one step: a web server serving the file sees the old
    page or the new one, never half of one.

    The temporary file sits in the same folder, since a rename is atomic only within one
    file system, and takes the old page's mode (else 0644: mkstemp's 0600 would lock the
    web server out).
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(page)
            file.flush()
            os.fsync(file.fileno())
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
