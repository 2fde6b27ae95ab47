"""`crontab`: the cron lines that run this installation's jobs, ready to install."""

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from slotgen.errors import SlotgenError
from slotgen.services.schedules import TASKS

DEFAULT_ENV_FILE = Path("/etc/slotgen/env")
DEFAULT_LOG_FILE = Path("/var/log/slotgen/slotgen.log")

DEFAULT_DASHBOARD_FILE = Path("/var/www/slotgen/index.html")
DEFAULT_FEED_DIR = Path("/var/www/slotgen/fhir")


def slotgen_executable() -> Path:
    """The `slotgen` script of the installation that is running now.

    Cron's PATH is minimal, so every line names the script by its absolute path. The
    script beside this Python comes before PATH: under `python -m slotgen` another
    installation may come first on PATH.
    """
    script = Path(sys.argv[0])
    if script.name == "slotgen" and script.is_file():
        return script.resolve()
    beside = Path(sys.executable).with_name("slotgen")
    if beside.is_file():
        return beside.absolute()
    found = shutil.which("slotgen")
    if found is not None:
        return Path(found).resolve()
    raise SlotgenError(
        "cannot find the slotgen executable; run `slotgen crontab` with the installed "
        "slotgen, e.g. /opt/slotgen/.venv/bin/slotgen crontab"
    )


def crontab_lines(
    executable: Path,
    env_file: Path,
    log_file: Path,
    dashboard_file: Path = DEFAULT_DASHBOARD_FILE,
    feed_dir: Path = DEFAULT_FEED_DIR,
) -> list[str]:
    exe, env, log, page, feed = (
        shlex.quote(str(path))
        for path in (executable, env_file, log_file, dashboard_file, feed_dir)
    )
    load = f"set -a; . {env}; set +a;"
    run = f"{exe} -q --log-file {log}"
    lines = [
        f"# slotgen jobs for {executable}.",
        "# Install for the service user (this replaces that user's crontab):",
        "#   slotgen crontab > slotgen.cron && crontab -u slotgen slotgen.cron",
        "# Each line reads the database URL and other SLOTGEN_* settings from",
        f"# {env_file} (lines like SLOTGEN_DATABASE_URL=..., in sh syntax; chmod 600,",
        "# owned by the service user) and appends its output to the log file.",
        "#",
        "# The schedule is in UTC. On the nights daylight saving time starts or ends,",
        "# some crons skip a job set at a local time such as 01:00 or run it twice; UTC",
        "# has no such nights. If `man 5 crontab` does not mention CRON_TZ, your cron",
        "# ignores it and reads the schedule in the system zone: set the server to UTC.",
        "CRON_TZ=UTC",
        "SHELL=/bin/sh",
        "# Cron mails whatever a line prints. Only the check line prints, and only when",
        "# something is wrong; set MAILTO to whoever should hear about it:",
        "# MAILTO=ops@example.org",
        "",
    ]
    for task in TASKS:
        lines += [f"# {comment}" for comment in task.cron_comment]
        when, command = task.when.cron(), shlex.join(task.args)
        if task.name == "check":
            lines.append(
                f'{when} {load} out=$({run} {command} 2>&1); status=$?; echo "$out" >>{log}; '
                f'[ $status -eq 0 ] || echo "$out"'
            )
        else:
            target = f" {page}" if task.writes_page else f" {feed}" if task.writes_feed else ""
            line = f"{when} {load} {run} {command}{target} >>{log} 2>&1"
            if task.then:
                line += f" && {run} {shlex.join(task.then)} >>{log} 2>&1"
            lines.append(line)
    return lines


@dataclass(frozen=True)
class CrontabRequest:
    env_file: Path = DEFAULT_ENV_FILE
    log_file: Path = DEFAULT_LOG_FILE
    dashboard_file: Path = DEFAULT_DASHBOARD_FILE
    feed_dir: Path = DEFAULT_FEED_DIR


def crontab(request: CrontabRequest) -> list[str]:
    """The crontab for the slotgen that is running now, every path made absolute."""
    return crontab_lines(
        slotgen_executable(),
        request.env_file.absolute(),
        request.log_file.absolute(),
        request.dashboard_file.absolute(),
        request.feed_dir.absolute(),
    )
