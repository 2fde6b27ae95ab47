"""The options several commands share, each declared once, and the database they name.

Every option ops people set in cron has a `SLOTGEN_` environment variable shown in
`--help`.
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from slotgen.errors import SlotgenError
from slotgen.vocabulary import SCHEDULER_TRIGGERS, Trigger

if TYPE_CHECKING:
    from slotgen.services.database import Database

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SLOTGEN_DATABASE_URL",
        show_envvar=True,
        help="SQLAlchemy URL of the database; default: an SQLite file in the per-user data "
        "folder (see `slotgen db info`).",
        show_default=False,
    ),
]

FacilityFilter = Annotated[
    list[int] | None,
    typer.Option("--facility", metavar="ID", help="Only this facility (repeatable). Default: all."),
]
DoctorFilter = Annotated[
    list[int] | None,
    typer.Option("--doctor", metavar="ID", help="Only this doctor (repeatable). Default: all."),
]

JsonOption = Annotated[
    bool,
    typer.Option("--json", metavar="", help="Print one JSON object on stdout instead of tables."),
]

TriesOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=10,
        help="Attempts before the run counts as failed, each its own job_runs row. "
        "Bad input is never retried.",
    ),
]
BackoffOption = Annotated[
    float,
    typer.Option(
        min=0,
        help="Seconds before the second attempt; doubles with each attempt (with jitter, "
        "capped at 10 minutes).",
    ),
]


MetricsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics-file",
        metavar="PATH",
        envvar="SLOTGEN_METRICS_FILE",
        show_envvar=True,
        help="After the run, write its metrics in node_exporter's textfile format to this "
        ".prom file (replaced in one rename; other jobs' lines in it are kept). "
        "Not written by a dry run.",
        show_default=False,
    ),
]


def _scheduler_trigger(value: Trigger) -> Trigger:
    if value not in SCHEDULER_TRIGGERS:
        raise typer.BadParameter(f"{value} is recorded by `slotgen retry` itself")
    return value


TriggerOption = Annotated[
    Trigger,
    typer.Option(
        envvar="SLOTGEN_TRIGGER",
        show_envvar=True,
        callback=_scheduler_trigger,
        help="Who started the run, as `slotgen runs` shows it: manual or cron (the crontab "
        "lines say cron).",
    ),
]
DEFAULT_TRIGGER = Trigger.MANUAL


def ping_url_option(job: str) -> Any:
    return typer.Option(
        "--ping-url",
        envvar=f"SLOTGEN_{job.upper()}_PING_URL",
        show_envvar=True,
        help="Tell a cron monitor about this run: POST URL/start, URL on success, "
        "URL/EXIT_CODE on failure, each with ?rid=RUN_ID and a 3-second timeout.",
    )


def ids(values: list[int] | None) -> tuple[int, ...]:
    return tuple(values or ())


def data_dir() -> Path:
    """The embedded database's folder: per user, never the current folder (cron runs in $HOME).

    An empty XDG_CONFIG_HOME (an env file's `XDG_CONFIG_HOME=`) means unset, as the XDG
    spec says; Click would make the folder relative, a different database in every folder.
    """
    found = Path(typer.get_app_dir("slotgen"))
    return found if found.is_absolute() else Path.home() / ".config" / found


@contextmanager
def database(
    url: str | None,
    *,
    require_current: bool = True,
    create: bool = False,
    metered: tuple[Path | None, str] | None = None,
) -> Iterator["Database"]:
    """The database a command works on, checked, and closed when the command is done.

    Typer reads an empty SLOTGEN_DATABASE_URL as unset; an env file with
    `SLOTGEN_DATABASE_URL=` must not quietly mean the embedded default, so it is passed on
    as the empty URL it is, and refused.

    `metered` is a job's (--metrics-file, job): a run that cannot even open its database
    is on no record, so its exit code goes to the metrics file from here.
    """
    from slotgen.services.database import open_database

    if metered is not None:
        from slotgen.services.metrics import checked_metrics_file

        checked_metrics_file(metered[0])
    if url is None and os.environ.get("SLOTGEN_DATABASE_URL") == "":
        url = ""
    with ExitStack() as stack:
        try:
            opened = stack.enter_context(
                open_database(url, data_dir(), require_current=require_current, create=create)
            )
        except SlotgenError as exc:
            if metered is not None:
                from slotgen.services.metrics import record_unopened

                record_unopened(metered[0], metered[1], exc)
            raise
        yield opened
