"""The one error boundary: every failure is one line and a documented exit code.

Bad input is refused before anything is recorded; an unexpected error is named in one
line with its type, never a traceback; a deliberate exit passes through untouched.
"""

import pytest
import typer

from slotgen.errors import ExitCode
from tests.conftest import DatabaseUnderTest
from tests.factories import add_doctor, add_facility, add_rule, run_rows
from tests.helpers import run_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--days", "400"), "--days 400: a range may span at most 366 days"),
        (
            ("--start-date", "2083-01-01", "--end-date", "2084-03-01"),
            "is 425 days; a range may span at most 366",
        ),
        (("--start-date", "+10d", "--end-date", "+2d"), "is before --start-date"),
        (("--start-date", "someday"), "--start-date: bad date 'someday'"),
        (("--end-date", "+3d", "--days", "3"), "give --end-date or --days, not both"),
        (("--facility", "42", "--tries", "3"), "unknown facility id 42"),
    ],
)
def test_bad_generate_input_is_refused_before_any_run_is_recorded(
    database: DatabaseUnderTest, args: tuple[str, ...], message: str
) -> None:
    add_rule(database.engine, add_facility(database.engine), add_doctor(database.engine), 1)

    result = run_cli("generate", *args, "--database-url", database.url)

    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert run_rows(database.engine) == [], "nothing recorded, so nothing to warn about"
    retried = run_cli("retry", "--all-failed", "--database-url", database.url)
    assert (retried.exit_code, retried.stdout.strip()) == (0, "No failed runs to retry.")


def test_a_bad_release_batch_size_writes_no_row(database: DatabaseUnderTest) -> None:
    result = run_cli("release", "--batch-size", "0", "--database-url", database.url)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert run_rows(database.engine) == []


def test_an_unexpected_error_is_one_line_naming_its_type(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'facility_id'")

    monkeypatch.setattr("slotgen.services.schedule.check_schedule", broken)

    quiet = run_cli("rules", "check", "--database-url", database.url)
    verbose = run_cli("-v", "rules", "check", "--database-url", database.url)

    assert quiet.exit_code == verbose.exit_code == ExitCode.FAILED
    assert quiet.stderr == (
        "Error: unexpected AttributeError: 'NoneType' object has no attribute 'facility_id' "
        "(run with -v for the traceback)\n"
    )
    assert "Traceback" not in quiet.stderr + quiet.stdout
    assert "Traceback (most recent call last)" in verbose.stderr, "-v logs it at DEBUG"
    assert verbose.stderr.strip().splitlines()[-1].startswith("Error: unexpected AttributeError")


def test_a_deliberate_abort_or_exit_passes_through(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def aborted(*_: object) -> None:
        raise typer.Abort

    def exits(*_: object) -> None:
        raise typer.Exit(4)

    monkeypatch.setattr("slotgen.services.schedule.check_schedule", aborted)
    abort = run_cli("rules", "check", "--database-url", database.url)
    monkeypatch.setattr("slotgen.services.schedule.check_schedule", exits)
    exit_ = run_cli("rules", "check", "--database-url", database.url)

    assert abort.exit_code == 1
    assert "Error:" not in abort.stderr
    assert "Abort" in abort.stderr
    assert (exit_.exit_code, exit_.stderr) == (4, "")


@pytest.mark.parametrize("zone", ["America", "Mars/Olympus", "../etc/passwd", ""])
def test_an_unknown_dashboard_zone_is_bad_input(zone: str, tmp_path: object) -> None:
    result = run_cli("dashboard", "--zone", zone, "--output", "/tmp/never-written.html")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr == (
        f"Error: --zone: unknown time zone {zone!r}: use an IANA name such as Europe/Berlin "
        "or UTC\n"
    )
