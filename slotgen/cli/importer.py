"""`slotgen import`: load facilities, doctors, services, rules and exceptions from files."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from slotgen.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    open_database,
    print_json,
    stderr,
    stdout,
)
from slotgen.errors import BadInput
from slotgen.services.importer import ImportReport, import_rows, read_files


def import_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="A .toml or .json schedule (any tables), or a .csv file named after its "
            "table (doctors.csv, availability_rules.csv).",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Check the files and count what would change; write nothing."
        ),
    ] = False,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Upsert schedule rows from files: by id when a row has one, else as a new row.

    Every row is checked first (types, weekdays, times, zones, references, duplicate ids);
    any problem is reported as FILE:LINE: message and nothing is written (exit 2).
    All rows are written in one transaction.
    """
    rows, problems = read_files(files)
    with open_database(database_url) as database:
        report = import_rows(
            database.engine, rows, datetime.now(UTC), dry_run=dry_run, problems=problems
        )
    fail_on_problems(report)
    if as_json:
        print_json(report.json())
    else:
        stdout.print(report.summary(), markup=False)


def fail_on_problems(report: ImportReport) -> None:
    """Each problem on a line of its own, then the one-line error: nothing was written."""
    if not report.problems:
        return
    for problem in report.problems:
        stderr.print(str(problem), markup=False)
    count = len(report.problems)
    raise BadInput(f"{count} problem{'s' if count != 1 else ''} in the input; nothing was imported")
