"""A tiny run of the benchmark on each backend, so the script keeps working (no timings)."""

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import DatabaseUnderTest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def test_benchmark_runs_every_scenario_against_its_floor(database: DatabaseUnderTest) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--database-url",
            database.url,
            "--doctors",
            "3",
            "--days",
            "10",
            "--repeat",
            "1",
            "--peer-doctors",
            "1",
            "--import-rows",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = {
        cells[1]: cells
        for line in done.stdout.splitlines()
        if line.startswith(f"| {database.backend} ")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert set(table) == {
        "start-up: slotgen --help",
        "start-up: release, nothing to do",
        "fresh generate",
        "floor into contract + (facility_id, start_at, status)",
        "floor into contract + rule_id",
        "floor into contract + service_id",
        "floor into contract + all of slotgen's indexes",
        "re-run, nothing to do",
        "daily run (1 new day)",
        "exception added, re-run",
        "release, 1% expired",
        "publish FHIR feed",
        "memory, fresh W",
        "slots, first week of W",
        "slots --limit 100000, first lines, W",
        "import JSON, 60 rows",
        "import CSV, 60 rows",
    }
    for cells in table.values():
        assert float(cells[2]) >= 0, cells
    assert table["fresh generate"][5].endswith("x"), "a ratio to the driver's floor"
    assert "contract table" in table["fresh generate"][8], "the floor is the contract's table"
    for name in ("start-up: slotgen --help", "start-up: release, nothing to do"):
        assert table[name][5].endswith("x"), "a ratio to its bare process"
    assert table["floor into contract + rule_id"][5].endswith("x")
    assert table["fresh generate"][6].endswith("x faster"), "compared with the ORM peer"
    # Doctor 0 works at the first facility, closed on Wednesday 10 March: 32 slots.
    assert "removed 32 open slots" in table["exception added, re-run"][8]
    released = re.search(r"released (\d+)", table["release, 1% expired"][8])
    assert released is not None
    assert int(released.group(1)) > 0
    assert float(table["memory, fresh W"][7]) > 0
    assert table["slots, first week of W"][8].startswith(f"{3 * 8 * 4 * 8:,} slots stored")
    assert float(table["slots --limit 100000, first lines, W"][7]) > 0
    for kind in ("JSON", "CSV"):
        cells = table[f"import {kind}, 60 rows"]
        assert cells[4], "rows per second: every row was imported"
        assert float(cells[7]) > 0
        assert re.search(r"peak \d+\.\dx the file, -?\d+\.\dx over a one-row import", cells[8])
