"""A large import's memory grows with the file's size, not with its rows as Python objects.

`slotgen import` runs as a whole process, as cron runs it, and reports its peak RSS
(`VmHWM`) at exit. Its growth is measured over the same command importing a file of the
same format with a row per table into a fresh database: that baseline holds what every
import costs whatever the file (the interpreter, SQLAlchemy, Alembic's schema check, the
connection: about 45 MB over a process that only imports the CLI), so the difference is
what the file's rows cost. It must stay under three times the file's size; reading the
whole document as Python objects, as the import once did, took more than ten times.

Memory is not timing: the peak of one run is deterministic to a few hundred kilobytes.
50,000 rows keep the test quick; `bench/run.py --scenario import` measures 100,000.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slotgen.db import migrate
from slotgen.db.engine import open_engine

ROWS = 50_000
MEASURE = """
import sys
from slotgen.cli.app import app
try:
    app(sys.argv[1:], prog_name="slotgen")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
with open("/proc/self/status") as status:
    peak = next(line for line in status if line.startswith("VmHWM:"))
print(peak.split()[1], file=sys.stderr)
sys.exit(code)
"""
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def schedule(rows: int) -> dict[str, list[dict[str, Any]]]:
    """`rows` rows: a facility per 2,000 rows, a doctor per 100, and rules for the rest."""
    facilities = max(1, rows // 2000)
    doctors = max(1, rows // 100)
    rules = rows - facilities - doctors
    return {
        "facilities": [
            {"id": n, "name": f"Facility {n}", "timezone": "Europe/Berlin"}
            for n in range(1, facilities + 1)
        ],
        "doctors": [{"id": n, "name": f"Doctor {n}"} for n in range(1, doctors + 1)],
        "availability_rules": [
            {
                "id": n + 1,
                "facility_id": 1 + n % facilities,
                "doctor_id": 1 + n % doctors,
                "day_of_week": WEEKDAYS[n % 7],
                "start_time": f"{8 + n % 8:02d}:00",
                "end_time": f"{10 + n % 8:02d}:30",
                "slot_duration_minutes": 15,
                "buffer_minutes": 5,
                "valid_from": "2083-01-01",
                "valid_until": "2083-12-31",
                "is_active": n % 3 != 0,
            }
            for n in range(rules)
        ],
    }


def write(folder: Path, kind: str, rows: int) -> list[Path]:
    folder.mkdir()
    tables = schedule(rows)
    if kind == "json":
        path = folder / "schedule.json"
        path.write_text(json.dumps(tables, indent=2))
        return [path]
    paths = []
    for table, table_rows in tables.items():
        path = folder / f"{table}.csv"
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, list(table_rows[0]))
            writer.writeheader()
            writer.writerows(table_rows)
        paths.append(path)
    return paths


def peak_kb(folder: Path, paths: list[Path]) -> int:
    """Peak RSS of `slotgen import PATHS` into a fresh SQLite database, in kB."""
    url = f"sqlite:///{folder / 'slotgen.db'}"
    engine = open_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "import", *map(str, paths), "--database-url", url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported "), done.stdout
    return int(done.stderr.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["json", "csv"])
def test_peak_memory_of_a_large_import_grows_less_than_three_times_the_file(
    tmp_path: Path, kind: str
) -> None:
    paths = write(tmp_path / "large", kind, ROWS)
    size_kb = sum(path.stat().st_size for path in paths) / 1024
    baseline = peak_kb(tmp_path / "one", write(tmp_path / "one", kind, 3))

    peak = peak_kb(tmp_path / "large", paths)

    growth = peak - baseline
    assert growth < 3 * size_kb, (
        f"{kind}: peak {peak / 1024:.0f} MB, {growth / 1024:.0f} MB over a one-row import, "
        f"file {size_kb / 1024:.1f} MB: {growth / size_kb:.1f}x"
    )
