"""`--metrics-file` and `check --format prometheus` on SQLite, PostgreSQL and MariaDB.

What node_exporter's textfile collector would read after each run, read back with
Prometheus's own parser: the numbers a run printed, every job's lines in one file, and
a bad path refused before anything is recorded.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, add_slots, run_rows
from tests.helpers import run_cli

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def read(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def job(name: str, of: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (f"slotgen_job_{name}", (("job", of),))


@pytest.fixture
def clinic(database: DatabaseUnderTest) -> DatabaseUnderTest:
    facility = add_facility(database.engine, "North", "Asia/Kathmandu")
    doctor = add_doctor(database.engine)
    tomorrow = datetime.now(ZoneInfo("Asia/Kathmandu")).date() + timedelta(days=1)
    for weekday in range(7):
        add_rule(database.engine, facility, doctor, weekday, "09:00", "12:00", valid_from=tomorrow)
    return database


def test_generate_then_release_leave_both_jobs_in_one_file(
    clinic: DatabaseUnderTest, tmp_path: Path
) -> None:
    (tmp_path / "textfile").mkdir()
    metrics = tmp_path / "textfile" / "slotgen.prom"
    before = datetime.now(UTC).timestamp()
    add_slots(clinic.engine, 2, reserved_until=datetime.now(UTC) - timedelta(minutes=1), first=5)

    generated = run_cli(
        "generate", "--database-url", clinic.url, "--days", "7", "--json",
        "--metrics-file", str(metrics),
    )  # fmt: skip
    released = run_cli("release", "--database-url", clinic.url, "--metrics-file", str(metrics))

    assert generated.exit_code == 0, generated.stderr
    assert released.exit_code == 0, released.stderr
    report = json.loads(generated.stdout)
    samples = read(metrics.read_text())
    for change in ("created", "updated", "removed", "unchanged"):
        assert samples[("slotgen_generate_slots", (("change", change),))] == report[change]
    assert report["created"] == 7 * 6
    assert samples[("slotgen_generate_conflicts", ())] == 0
    assert samples[("slotgen_generate_bad_rows", ())] == 0
    assert samples[("slotgen_release_released", ())] == 2
    for of in ("generate", "release"):
        assert samples[job("last_exit_code", of)] == 0
        assert samples[job("last_run_timestamp_seconds", of)] >= before
        assert samples[job("last_success_timestamp_seconds", of)] >= before
        assert samples[job("last_duration_seconds", of)] >= 0
    assert oct(metrics.stat().st_mode & 0o777) == "0o644"  # the collector runs as another user
    assert [path.name for path in metrics.parent.iterdir()] == ["slotgen.prom"]


def test_a_run_with_bad_rows_and_then_bad_input_keep_the_last_success(
    clinic: DatabaseUnderTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = tmp_path / "slotgen.prom"
    monkeypatch.setenv("SLOTGEN_METRICS_FILE", str(metrics))
    good = run_cli("generate", "--database-url", clinic.url, "--days", "3")
    success = read(metrics.read_text())[job("last_success_timestamp_seconds", "generate")]
    broken = add_facility(clinic.engine, "Broken", "Mars/Olympus_Mons")
    add_rule(clinic.engine, broken, add_doctor(clinic.engine, "Dr. Ko"), day_of_week=1)

    bad_rows = run_cli("generate", "--database-url", clinic.url, "--days", "3")
    after_bad_rows = read(metrics.read_text())
    unknown = run_cli("generate", "--database-url", clinic.url, "--facility", "999")
    after_bad_input = read(metrics.read_text())

    assert good.exit_code == 0, good.stderr
    assert bad_rows.exit_code == 1
    assert after_bad_rows[job("last_exit_code", "generate")] == 1
    assert after_bad_rows[("slotgen_generate_bad_rows", ())] == 1
    assert after_bad_rows[job("last_success_timestamp_seconds", "generate")] > success
    assert unknown.exit_code == 2
    assert after_bad_input[job("last_exit_code", "generate")] == 2
    assert (
        after_bad_input[job("last_success_timestamp_seconds", "generate")]
        == (after_bad_rows[job("last_success_timestamp_seconds", "generate")])
    )
    assert ("slotgen_generate_slots", (("change", "created"),)) not in after_bad_input


@pytest.mark.parametrize("command", [["generate"], ["release"], ["retry", "--all-failed"]])
def test_an_unwritable_metrics_path_is_one_line_and_records_nothing(
    clinic: DatabaseUnderTest, tmp_path: Path, command: list[str]
) -> None:
    result = run_cli(
        *command, "--database-url", clinic.url, "--metrics-file", str(tmp_path / "no" / "m.prom")
    )

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --metrics-file: the folder {tmp_path / 'no'} does not exist; create it first\n"
    )
    assert run_rows(clinic.engine) == []


def test_a_folder_given_as_the_metrics_file_is_refused(
    clinic: DatabaseUnderTest, tmp_path: Path
) -> None:
    result = run_cli("release", "--database-url", clinic.url, "--metrics-file", str(tmp_path))

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --metrics-file: {tmp_path} is a folder")
    assert run_rows(clinic.engine) == []


def test_a_dry_run_writes_no_metrics(clinic: DatabaseUnderTest, tmp_path: Path) -> None:
    metrics = tmp_path / "slotgen.prom"

    result = run_cli(
        "generate", "--database-url", clinic.url, "--dry-run", "--metrics-file", str(metrics)
    )

    assert result.exit_code == 0, result.stderr
    assert not metrics.exists()


def test_import_writes_its_counts(clinic: DatabaseUnderTest, tmp_path: Path) -> None:
    metrics = tmp_path / "slotgen.prom"
    schedule = tmp_path / "clinic.toml"
    lee = add_doctor(clinic.engine, "Dr. Lee")
    schedule.write_text(
        f'[[doctors]]\nname = "Dr. New"\n\n[[doctors]]\nid = {lee}\nname = "Dr. Li"\n'
    )
    broken = tmp_path / "broken.toml"
    broken.write_text('[[doctors]]\nid = "x"\n')

    imported = run_cli(
        "import", "--database-url", clinic.url, "--metrics-file", str(metrics), str(schedule)
    )
    good = read(metrics.read_text())
    refused = run_cli(
        "import", "--database-url", clinic.url, "--metrics-file", str(metrics), str(broken)
    )
    bad = read(metrics.read_text())

    assert imported.exit_code == 0, imported.stderr
    assert good[("slotgen_import_rows", (("change", "inserted"),))] == 1
    assert good[("slotgen_import_rows", (("change", "updated"),))] == 1
    assert good[job("last_exit_code", "import")] == 0
    assert refused.exit_code == 2
    assert bad[job("last_exit_code", "import")] == 2
    assert (
        bad[job("last_success_timestamp_seconds", "import")]
        == (good[job("last_success_timestamp_seconds", "import")])
    )


def test_check_prints_the_same_metrics_from_job_runs(
    clinic: DatabaseUnderTest, tmp_path: Path
) -> None:
    metrics = tmp_path / "slotgen.prom"
    for command in ("generate", "release"):
        result = run_cli(command, "--database-url", clinic.url, "--metrics-file", str(metrics))
        assert result.exit_code == 0, result.stderr

    printed = run_cli("check", "--database-url", clinic.url, "--format", "prometheus")

    assert printed.exit_code == 0, printed.stderr
    from_runs, from_file = read(printed.stdout), read(metrics.read_text())
    assert set(from_runs) == set(from_file)
    for key, value in from_file.items():
        if key[0].endswith("_seconds"):
            assert from_runs[key] == pytest.approx(value, abs=5), key
        else:
            assert from_runs[key] == value, key


def test_check_prints_nothing_for_a_database_without_runs(database: DatabaseUnderTest) -> None:
    printed = run_cli("check", "--database-url", database.url, "--format", "prometheus")

    assert printed.exit_code == 0, printed.stderr
    assert printed.stdout == ""


def test_a_run_that_cannot_reach_its_database_still_says_so(tmp_path: Path) -> None:
    metrics = tmp_path / "slotgen.prom"
    url = "postgresql+psycopg://slotgen@127.0.0.1:1/clinic"

    result = run_cli("release", "--database-url", url, "--metrics-file", str(metrics))

    assert result.exit_code == 3
    samples = read(metrics.read_text())
    assert samples[job("last_exit_code", "release")] == 3
    assert job("last_success_timestamp_seconds", "release") not in samples


def test_a_bad_metrics_path_wins_over_an_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql+psycopg://slotgen@127.0.0.1:1/clinic"

    result = run_cli("generate", "--database-url", url, "--metrics-file", str(tmp_path / "x" / "m"))

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --metrics-file: the folder")
