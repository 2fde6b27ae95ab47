"""A publish streams: its peak memory stays flat as the feed grows tenfold.

`slotgen publish` runs as a whole process, as cron runs it, and reports its peak RSS
(`VmHWM`) at exit. A feed of ten times the slots (and ten times the bytes) may add only
a few megabytes: holding the slots, or their lines, would add tens.
"""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from slotgen.services.generate import generate_slots
from slotgen.services.params import GenerateParams
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule
from tests.helpers import cron_environment

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


def peak_kb(database: DatabaseUnderTest, folder: Path, facility: int) -> tuple[int, int]:
    options = {"--database-url": database.url, "-o": str(folder), "--facility": str(facility)}
    command = [sys.executable, "-c", MEASURE, "-q", "publish", "--days", "60"]
    command += [*(part for pair in options.items() for part in pair)]
    command += ["--base-url", "https://x.example/fhir"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=cron_environment(),
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    size = sum(path.stat().st_size for path in folder.rglob("*.ndjson"))
    return int(done.stderr.strip().splitlines()[-1]), size


def test_ten_times_the_slots_cost_no_more_memory(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    engine = database.engine
    small, large = add_facility(engine, "Small", "Europe/Berlin"), add_facility(engine, "Large")
    for facility, doctors in ((small, 8), (large, 80)):
        for index in range(doctors):
            doctor = add_doctor(engine, f"Dr. {facility}-{index}")
            for day in range(1, 6):
                add_rule(engine, facility, doctor, day, "08:00", "18:00", 15)
    generate_slots(engine, GenerateParams(days=60), datetime.now(UTC))

    small_peak, small_size = peak_kb(database, tmp_path / "small", small)
    large_peak, large_size = peak_kb(database, tmp_path / "large", large)

    assert large_size > 9 * small_size > 0
    assert large_size > 40_000_000  # the lines, held, would be tens of megabytes
    assert large_peak - small_peak < 12_000, (small_peak, large_peak)
