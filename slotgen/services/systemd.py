"""`systemd`: a .service and a .timer unit per job, from the one schedule table.

A timer runs on the system's clock but reads its OnCalendar= in UTC, as the crontab
does, and `Persistent=true` catches up on a run missed while the machine was off. Each
service is a hardened `Type=oneshot`: it may write nowhere but the folders it needs,
so a bug or a hostile input file cannot touch the rest of the system.
"""

import os
import pwd
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from slotgen.errors import BadInput
from slotgen.services.crontab import (
    DEFAULT_DASHBOARD_FILE,
    DEFAULT_ENV_FILE,
    DEFAULT_FEED_DIR,
    slotgen_executable,
)
from slotgen.services.schedules import TASKS, Task

UNIT_DIR = Path("/etc/systemd/system")
DEFAULT_USER = "slotgen"
STOP_TIMEOUT = "5min"
"""SIGTERM stops a run after the chunk in flight; systemd waits this long before SIGKILL."""
USER_NAME = re.compile(r"[a-z_][a-z0-9_-]*[$]?")
PLAIN = re.compile(r"[A-Za-z0-9_./:=,+@-]+")


def unit_quote(argument: str) -> str:
    """One ExecStart= argument as systemd reads it: `%` and `$` are its own specifiers and
    variables, so they are doubled; spaces and quotes go inside double quotes."""
    text = argument.replace("%", "%%").replace("$", "$$")
    if PLAIN.fullmatch(argument):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class SystemdRequest:
    user: str = DEFAULT_USER
    env_file: Path = DEFAULT_ENV_FILE
    database_url: str | None = None
    """The URL the service will use (None: the embedded default), to find a SQLite folder."""
    dashboard_file: Path = DEFAULT_DASHBOARD_FILE
    metrics_file: Path | None = None
    output_dir: Path | None = None
    feed_dir: Path = DEFAULT_FEED_DIR

    def __post_init__(self) -> None:
        if not USER_NAME.fullmatch(self.user) or len(self.user) > 32:
            raise BadInput(f"--user: {self.user!r} is not a user name")


@dataclass(frozen=True)
class SystemdUnits:
    units: dict[str, str]
    """File name -> contents, services and timers in the table's order."""
    install: list[str]
    written_to: Path | None

    @property
    def timers(self) -> list[str]:
        return [name for name in self.units if name.endswith(".timer")]


def systemd_units(request: SystemdRequest) -> SystemdUnits:
    """Every job's units for the slotgen running now, written to a folder if asked."""
    executable = slotgen_executable()
    sqlite = _sqlite_folder(request)
    units: dict[str, str] = {}
    for task in TASKS:
        units[f"slotgen-{task.name}.service"] = _service(task, executable, request, sqlite)
        units[f"slotgen-{task.name}.timer"] = _timer(task)
    install = install_commands(executable, list(units), request.output_dir)
    if request.output_dir is not None:
        _write(request.output_dir, units)
    return SystemdUnits(units, install, request.output_dir)


def install_commands(executable: Path, names: list[str], written_to: Path | None) -> list[str]:
    timers = " ".join(name for name in names if name.endswith(".timer"))
    first = [] if written_to is not None else [f"{executable} systemd --output-dir {UNIT_DIR}"]
    return [
        *first,
        "systemctl daemon-reload",
        f"systemctl enable --now {timers}",
        "systemctl list-timers 'slotgen-*'",
    ]


def _sqlite_folder(request: SystemdRequest) -> Path | None:
    if request.database_url is None:
        try:
            home = Path(pwd.getpwnam(request.user).pw_dir)
        except KeyError:
            raise BadInput(
                f"--user: there is no user {request.user} on this machine, so the embedded "
                "database's folder is unknown; create the user first (useradd --system "
                f"--create-home {request.user}) or set SLOTGEN_DATABASE_URL"
            ) from None
        return home / ".config" / "slotgen"
    try:
        url = make_url(request.database_url)
    except ArgumentError:
        raise BadInput("--database-url: not a database URL") from None
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database).absolute().parent


def _service(task: Task, executable: Path, request: SystemdRequest, sqlite: Path | None) -> str:
    """The unit of one task. ProtectSystem=strict leaves writable only what the task writes:
    the SQLite database's folder (its journal files are written beside it), the page or
    the metrics file's folder. A `-` lets a missing folder be slotgen's own one-line error,
    not an opaque namespace failure."""
    args = [str(executable), *task.args]
    writable = [] if sqlite is None else [sqlite]
    if task.writes_page:
        args.append(str(request.dashboard_file.absolute()))
        writable.append(request.dashboard_file.absolute().parent)
    if task.writes_feed:  # its files are written to temporary names in it, then renamed
        args.append(str(request.feed_dir.absolute()))
        writable.append(request.feed_dir.absolute())
    metrics: list[str] = []
    if request.metrics_file is not None:
        metrics = ["--metrics-file", str(request.metrics_file.absolute())]
        if task.job is not None:
            args += metrics
        if task.job is not None or task.then_job is not None:
            writable.append(request.metrics_file.absolute().parent)
    commands = [args]
    if task.then:  # Type=oneshot runs its ExecStart= lines in turn and stops at a failure
        commands.append([str(executable), *task.then, *(metrics if task.then_job else [])])
    lines = [
        "[Unit]",
        f"Description={task.summary}",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        f"User={request.user}",
        f"EnvironmentFile={request.env_file.absolute()}",
        *("ExecStart=" + " ".join(unit_quote(arg) for arg in command) for command in commands),
        f"TimeoutStopSec={STOP_TIMEOUT}",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        *(f"ReadWritePaths={unit_quote(f'-{folder}')}" for folder in dict.fromkeys(writable)),
    ]
    return "\n".join(lines) + "\n"


def _timer(task: Task) -> str:
    when = task.when
    lines = [
        "[Unit]",
        f"Description=Timer of {task.summary}",
        "",
        "[Timer]",
        f"OnCalendar={when.on_calendar()}",
        "Persistent=true",
    ]
    if when.spread is not None:
        lines.append(f"RandomizedDelaySec={int(when.spread.total_seconds() // 60)}min")
    lines += [f"Unit=slotgen-{task.name}.service", "", "[Install]", "WantedBy=timers.target"]
    return "\n".join(lines) + "\n"


def _write(folder: Path, units: dict[str, str]) -> None:
    if not folder.is_dir():
        raise BadInput(f"--output-dir: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"--output-dir: cannot write in {folder}: permission denied")
    for name, text in units.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
