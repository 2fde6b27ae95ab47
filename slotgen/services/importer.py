"""`import`: read the files, check every row, then write all of them or none.

The ids the checks rely on (does facility 3 exist?) are read in the transaction that
writes, so what was checked is what gets written.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from slotgen.db import importer as store
from slotgen.db.database import Database
from slotgen.errors import BadInput
from slotgen.importing.checks import check_rows, ordered
from slotgen.importing.columns import TABLES
from slotgen.importing.formats import parse_file
from slotgen.importing.rows import Problem, SourceRow

SHORT_NAMES = {"availability_rules": "rules", "availability_exceptions": "exceptions"}
SINGULAR = {
    "facilities": "facility",
    "doctors": "doctor",
    "services": "service",
    "rules": "rule",
    "exceptions": "exception",
}


@dataclass
class ImportReport:
    dry_run: bool
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per table: (inserted, updated), or for a dry run what would be."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(inserted for inserted, _ in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(updated for _, updated in self.counts.values())

    def summary(self) -> str:
        parts = []
        for table in TABLES:
            inserted, updated = self.counts.get(table, (0, 0))
            name = SHORT_NAMES.get(table, table)
            parts.append(
                f"{inserted + updated:,} {name if inserted + updated != 1 else SINGULAR[name]}"
            )
        if self.dry_run:
            return (
                f"Would import {', '.join(parts)} "
                f"(insert {self.inserted:,}, update {self.updated:,}); nothing was written"
            )
        return f"Imported {', '.join(parts)} (inserted {self.inserted:,}, updated {self.updated:,})"

    def problem_line(self) -> str:
        """The one-line error after the problems: nothing was written."""
        count = len(self.problems)
        plural = "s" if count != 1 else ""
        return f"{count} problem{plural} in the input; nothing was imported"

    def json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "inserted": self.inserted,
            "updated": self.updated,
            "tables": {
                table: {"inserted": inserted, "updated": updated}
                for table, (inserted, updated) in ((t, self.counts.get(t, (0, 0))) for t in TABLES)
            },
        }


@dataclass(frozen=True)
class ImportRequest:
    files: tuple[Path, ...]
    dry_run: bool = False


def import_schedule(database: Database, request: ImportRequest, now: datetime) -> ImportReport:
    """The `slotgen import` use case: a report with problems has written nothing."""
    rows, problems = read_files(request.files)
    return import_rows(database.engine, rows, now, dry_run=request.dry_run, problems=problems)


def read_files(paths: Sequence[Path]) -> tuple[list[SourceRow], list[Problem]]:
    """Every row of every file, and every problem found just reading them."""
    rows: list[SourceRow] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path} is not UTF-8 text: {exc.reason}") from None
        except OSError as exc:
            raise BadInput(f"cannot read {path}: {exc.strerror}") from None
        parsed = parse_file(str(path), text)
        rows.extend(parsed.rows)
        problems.extend(parsed.problems)
    return rows, problems


def import_rows(
    engine: Engine,
    rows: Iterable[SourceRow],
    now: datetime,
    *,
    dry_run: bool = False,
    problems: Sequence[Problem] = (),
) -> ImportReport:
    """Check every row, then write them all in one transaction, or write nothing.

    A report with problems has written nothing; so has a dry run.
    """
    report = ImportReport(dry_run=dry_run, problems=list(problems))
    with engine.connect() as connection:
        existing = store.existing_ids(connection)
        checked = check_rows(rows, existing)
        report.problems.extend(checked.problems)
        clean = ordered(checked.rows)
        if report.problems:
            connection.rollback()
            return report
        if dry_run:
            for table in TABLES:
                mine = [row for row in clean if row.table == table]
                updated = sum(1 for row in mine if row.id is not None and row.id in existing[table])
                report.counts[table] = (len(mine) - updated, updated)
            connection.rollback()
            return report
        report.counts = store.upsert(connection, clean, existing, now)
        connection.commit()
    return report
