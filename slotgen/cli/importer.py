"""`slotgen import`: load facilities, doctors, services, rules and exceptions from files."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from slotgen.cli.options import DatabaseUrlOption, JsonOption, MetricsFileOption, database
from slotgen.cli.output import line, message, print_json
from slotgen.errors import BadInput
from slotgen.vocabulary import Job


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
            "--dry-run",
            metavar="",
            help="Check the files and count what would change; write nothing.",
        ),
    ] = False,
    metrics_file: MetricsFileOption = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Upsert schedule rows from files: by id when a row has one, else as a new row.

    Every row is checked first (types, weekdays, times, zones, references, duplicate ids);
    any problem is reported as FILE:LINE: message and nothing is written (exit 2).
    All rows are written in one transaction.
    """
    from slotgen.services.importer import ImportRequest, import_schedule

    metered = None if dry_run else (metrics_file, Job.IMPORT)
    with database(database_url, metered=metered) as opened:
        report = import_schedule(
            opened, ImportRequest(tuple(files), dry_run, metrics_file), datetime.now(UTC)
        )
    if report.problems:
        for problem in report.problems:
            message(str(problem))
        raise BadInput(report.problem_line())
    if as_json:
        print_json(report.json())
    else:
        line(report.summary())
