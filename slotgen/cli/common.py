"""What every command shares: the database option, the two consoles, JSON output."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from slotgen.cli.logs import hide
from slotgen.db.database import Database, connect
from slotgen.db.engine import parse_url, url_secrets

stdout = Console(highlight=False, soft_wrap=True)
"""Data: tables and JSON. Scripts read this."""
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
"""Messages for the person at the terminal or in cron's mail."""

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
    typer.Option("--facility", help="Only this facility (repeatable). Default: all."),
]
DoctorFilter = Annotated[
    list[int] | None,
    typer.Option("--doctor", help="Only this doctor (repeatable). Default: all."),
]

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")
]


def data_dir() -> Path:
    """The embedded database's folder: per user, never the current folder (cron runs in $HOME)."""
    return Path(typer.get_app_dir("slotgen"))


@contextmanager
def open_database(url: str | None, *, require_current: bool = True) -> Iterator[Database]:
    if url:
        hide(url_secrets(parse_url(url)))
    with connect(url, data_dir(), require_current=require_current) as database:
        yield database


def print_json(value: Any) -> None:
    """Stable, machine-readable output: sorted keys, ISO dates, one object."""
    stdout.out(json.dumps(value, sort_keys=True, default=str, indent=2), highlight=False)
