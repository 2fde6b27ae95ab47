"""`import`: read the files, check every row, then write all of them or none.

The ids the checks rely on (does facility 3 exist?) are read in the transaction that
writes, so what was checked is what gets written.
"""

import codecs
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from slotgen.db import importer as store
from slotgen.db.database import Database
from slotgen.errors import BadInput, ExitCode
from slotgen.importing.checks import check_sources, rows_to_write
from slotgen.importing.columns import TABLES
from slotgen.importing.formats import open_file
from slotgen.importing.rows import Problem, RowList, RowSource, SourceRow
from slotgen.services.metrics import recording
from slotgen.vocabulary import Job, RunStatus

_CHUNK = 1 << 20
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
    metrics_file: Path | None = None


def import_schedule(database: Database, request: ImportRequest, now: datetime) -> ImportReport:
    """The `slotgen import` use case: a report with problems has written nothing."""
    path = None if request.dry_run else request.metrics_file
    with recording(path, Job.IMPORT) as metrics:
        sources, problems = read_files(request.files)
        report = import_sources(
            database.engine, sources, now, dry_run=request.dry_run, problems=problems
        )
        if report.problems:
            metrics.outcome(RunStatus.FAILED, ExitCode.BAD_INPUT, None)
        else:
            metrics.outcome(RunStatus.SUCCEEDED, ExitCode.OK, report.json())
    return report


def read_files(paths: Sequence[Path]) -> tuple[list[RowSource], list[Problem]]:
    """The rows of every file, and every problem found just reading them.

    Each file's bytes are held (its size once), never its rows: the readers decode the
    text again for every pass, and since the bytes do not change, the rows written are
    the rows checked even if the file is edited meanwhile.
    """
    sources: list[RowSource] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read {path}: {exc.strerror}") from None
        try:
            _check_utf8(data)
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path} is not UTF-8 text: {exc.reason}") from None
        source, found = open_file(str(path), partial(_text, data))
        sources.append(source)
        problems.extend(found)
    return sources, problems


def _check_utf8(data: bytes) -> None:
    """Raise UnicodeDecodeError as decoding `data` whole would, without a copy of it as text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        decoder.decode(view[start : start + _CHUNK], final=start + _CHUNK >= len(view))


def _text(data: bytes) -> TextIO:
    """The text as `Path.read_text` reads it (universal newlines), a chunk at a time."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def import_rows(
    engine: Engine,
    rows: Iterable[SourceRow],
    now: datetime,
    *,
    dry_run: bool = False,
    problems: Sequence[Problem] = (),
) -> ImportReport:
    """`import_sources` for rows already in memory (the demo's sample and dated rows)."""
    return import_sources(engine, [RowList(list(rows))], now, dry_run=dry_run, problems=problems)


def import_sources(
    engine: Engine,
    sources: Sequence[RowSource],
    now: datetime,
    *,
    dry_run: bool = False,
    problems: Sequence[Problem] = (),
) -> ImportReport:
    """Check every row, then write them all in one transaction, or write nothing.

    A report with problems has written nothing; so has a dry run. The sources are read
    once to check and again to write, table by table, so memory does not grow with them.
    """
    report = ImportReport(dry_run=dry_run, problems=list(problems))
    with engine.connect() as connection:
        existing = store.existing_ids(connection)
        checked = check_sources(sources, existing)
        report.problems.extend(checked.problems)
        if report.problems:
            connection.rollback()
            return report
        if dry_run:
            report.counts = checked.counts
            connection.rollback()
            return report
        report.counts = store.upsert(connection, rows_to_write(sources, checked), existing, now)
        connection.commit()
    return report
