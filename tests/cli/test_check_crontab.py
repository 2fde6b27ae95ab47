"""`slotgen check` as a monitoring plugin, and `slotgen crontab` as cron would run it."""

import json
import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DatabaseUnderTest
from tests.factories import add_run
from tests.helpers import CliResult, run_cli, run_installed

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def now() -> datetime:
    """The test's moment: the command's own clock is read a moment later."""
    return datetime.now(UTC)


def check(database: DatabaseUnderTest, *args: str) -> CliResult:
    return run_cli("check", "--database-url", database.url, *args)


def healthy(database: DatabaseUnderTest, now: datetime) -> None:
    """Both jobs succeeded recently: what a working installation looks like."""
    add_run(database.engine, started_at=now - 5 * HOUR, finished_at=now - 5 * HOUR + MINUTE)
    add_run(
        database.engine, job="release", started_at=now - 4 * MINUTE, finished_at=now - 4 * MINUTE
    )


def failed(database: DatabaseUnderTest, now: datetime, ago: timedelta, **values: Any) -> int:
    return add_run(
        database.engine,
        status="failed",
        started_at=now - ago,
        finished_at=now - ago + MINUTE,
        error="database error: connection refused\nTraceback (most recent call last):",
        **values,
    )


def lines(result: CliResult) -> list[str]:
    return result.stdout.splitlines()


def test_recent_successes_are_ok(database: DatabaseUnderTest, now: datetime) -> None:
    healthy(database, now)

    result = check(database)

    assert result.exit_code == 0, result.stderr
    assert re.fullmatch(
        r"OK - generate succeeded 4h5\dm ago; release succeeded 4m0\ds ago\n", result.stdout
    )


def test_a_job_that_never_ran_warns(database: DatabaseUnderTest) -> None:
    result = check(database)

    assert result.exit_code == 1
    assert lines(result) == [
        "WARNING - generate: never ran (max age 26h) (and 1 more)",
        "WARNING: generate: never ran (max age 26h)",
        "WARNING: release: never ran (max age 15m)",
    ]


def test_an_old_last_success_warns_then_turns_critical(
    database: DatabaseUnderTest, now: datetime
) -> None:
    healthy(database, now)
    add_run(database.engine, job="report", started_at=now - 30 * HOUR, finished_at=now - 30 * HOUR)

    within = check(database, "--max-age", "generate=26h,release=15m,report=31h")
    warning = check(database, "--max-age", "report=26h")
    critical = check(database, "--max-age", "report=12h")

    assert within.exit_code == 0
    assert warning.exit_code == 1
    assert lines(warning)[0].startswith("WARNING - report: last success 1d06h ago")
    assert "older than max age 26h" in lines(warning)[0]
    assert critical.exit_code == 2
    assert lines(critical)[0].startswith("CRITICAL - report: last success 1d06h ago")
    assert "older than twice the max age 12h" in lines(critical)[0]


def test_runs_without_any_success_are_critical_but_a_first_run_in_progress_is_not(
    database: DatabaseUnderTest, now: datetime
) -> None:
    add_run(database.engine, status="running", started_at=now - MINUTE, heartbeat_at=now)
    in_progress = check(database, "--max-age", "generate=26h")
    failed(database, now, 2 * DAY)
    never = check(database, "--max-age", "generate=26h")

    assert in_progress.exit_code == 0, in_progress.stdout
    assert never.exit_code == 2
    assert "CRITICAL: generate: never succeeded in 1 finished run (max age 26h)" in lines(never)


def test_last_run_failed_warns_and_three_failures_in_a_row_are_critical(
    database: DatabaseUnderTest, now: datetime
) -> None:
    healthy(database, now)
    failed(database, now, 3 * HOUR)
    add_run(database.engine, status="skipped", started_at=now - HOUR, finished_at=now - HOUR)
    one = check(database)
    failed(database, now, 2 * HOUR)
    two = check(database)
    failed(database, now, HOUR, job="generate")
    three = check(database, "--json")

    assert one.exit_code == 1
    assert re.fullmatch(
        r"WARNING - generate: last run \d+ failed 2h5\dm ago: database error: connection refused",
        lines(one)[0],
    )
    assert two.exit_code == 1
    assert three.exit_code == 2
    verdict = json.loads(three.stdout)
    assert verdict["status"] == "critical"
    assert verdict["exit_code"] == 2
    assert verdict["jobs"]["generate"]["status"] == "critical"
    assert verdict["jobs"]["generate"]["problems"][0].startswith("the last 3 runs failed")
    assert verdict["jobs"]["release"] == {
        "status": "ok",
        "problems": [],
        "last_success_at": (now - 4 * MINUTE).isoformat(),
        "max_age": "15m",
    }


def test_one_nights_attempts_are_one_failure_not_three(
    database: DatabaseUnderTest, now: datetime
) -> None:
    healthy(database, now)
    first = failed(database, now, 3 * HOUR, trigger="cron")
    second = failed(database, now, 2 * HOUR, trigger="cron", attempt=2, retry_of=first)
    failed(database, now, HOUR, trigger="cron", attempt=3, retry_of=second)

    result = check(database)

    assert result.exit_code == 1
    assert lines(result)[0].startswith("WARNING - generate: last run")


def test_a_retry_in_progress_hides_nothing_but_a_later_success_clears_the_failure(
    database: DatabaseUnderTest, now: datetime
) -> None:
    healthy(database, now)
    first = failed(database, now, 3 * HOUR)
    add_run(
        database.engine, status="running", retry_of=first, started_at=now - MINUTE, heartbeat_at=now
    )
    retrying = check(database)
    add_run(database.engine, started_at=now - 30 * MINUTE, finished_at=now - 29 * MINUTE)
    recovered = check(database)

    assert retrying.exit_code == 0, retrying.stdout
    assert recovered.exit_code == 0, recovered.stdout


def test_a_run_without_a_heartbeat_for_two_leases_is_stuck(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    healthy(database, now)
    stuck = add_run(
        database.engine,
        job="release",
        status="running",
        host="web1",
        pid=4242,
        started_at=now - 20 * MINUTE,
        heartbeat_at=now - 10 * MINUTE,
    )
    silent = add_run(database.engine, job="report", status="running", started_at=now - HOUR)

    default_lease = check(database)
    monkeypatch.setenv("SLOTGEN_LEASE_SECONDS", "400")
    longer_lease = check(database)
    monkeypatch.setenv("SLOTGEN_LEASE_SECONDS", "soon")
    bad_lease = check(database)

    assert default_lease.exit_code == 2
    assert re.search(
        rf"^CRITICAL: release: run {stuck} on web1 pid 4242 looks stuck: "
        r"no heartbeat for 10m0\ds \(limit 4m00s\)$",
        default_lease.stdout,
        re.MULTILINE,
    )
    assert any(
        line.startswith(
            f"CRITICAL: report: run {silent} looks stuck: no heartbeat since it started"
        )
        for line in lines(default_lease)
    )
    assert longer_lease.exit_code == 2
    assert not any(f"run {stuck} " in line for line in lines(longer_lease))
    assert bad_lease.exit_code == 2
    assert bad_lease.stderr.startswith("Error: SLOTGEN_LEASE_SECONDS")


@pytest.mark.parametrize(
    ("max_age", "message"),
    [
        ("generate", "Error: --max-age: bad max age 'generate': use JOB=DURATION"),
        ("generate=soon", "Error: --max-age: bad max age for 'generate': bad duration 'soon'"),
        ("generate=1h,generate=2h", "Error: --max-age: max age for 'generate' given twice"),
    ],
)
def test_bad_max_age_is_one_line_and_exit_2(
    database: DatabaseUnderTest, max_age: str, message: str
) -> None:
    result = check(database, "--max-age", max_age)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_max_age_comes_from_the_environment_too(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOTGEN_CHECK_MAX_AGE", "none")

    result = check(database)

    assert result.exit_code == 0
    assert lines(result) == ["OK - no runs recorded and no max age to check"]


def test_an_unreachable_database_is_unknown() -> None:
    result = run_cli("check", "--database-url", "postgresql+psycopg://slotgen@127.0.0.1:1/clinic")
    as_json = run_cli(
        "check", "--json", "--database-url", "postgresql+psycopg://slotgen@127.0.0.1:1/clinic"
    )

    assert result.exit_code == 3
    assert result.stdout.startswith("UNKNOWN - cannot use the database")
    assert result.stderr.startswith("Error: cannot use the database")
    assert as_json.exit_code == 3
    assert json.loads(as_json.stdout)["status"] == "unknown"


# crontab

CRON_FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def cron_field_ok(field: str, low: int, high: int) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return False
        if base == "*":
            continue
        numbers = base.split("-")
        if len(numbers) > 2 or not all(n.isdigit() and low <= int(n) <= high for n in numbers):
            return False
    return True


def job_lines(text: str) -> list[tuple[str, str]]:
    """(schedule, command) of each job line; comments, blanks and VAR=value lines skipped."""
    jobs = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or ASSIGNMENT.match(line):
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"not a 5-field cron line: {line!r}"
        for field, (low, high) in zip(fields[:5], CRON_FIELDS, strict=True):
            assert cron_field_ok(field, low, high), f"bad cron field {field!r} in {line!r}"
        jobs.append((" ".join(fields[:5]), fields[5]))
    return jobs


def slotgen_call(command: str) -> tuple[str, list[str]]:
    """The slotgen executable a job line runs, and the arguments after its global options."""
    match = re.search(r"(?:^|[\s(])(/\S*/slotgen) -q --log-file \S+ (.*?)(?: >>| 2>&1\))", command)
    assert match is not None, command
    return match[1], shlex.split(match[2])


def assignments(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if ASSIGNMENT.match(line):
            name, _, value = line.partition("=")
            found[name] = value
    return found


def test_crontab_runs_this_installation_on_a_utc_schedule(tmp_path: Path) -> None:
    result = run_cli(
        "crontab", "--env-file", str(tmp_path / "slotgen env"), "--log-file", "/srv/log/s.log"
    )

    assert result.exit_code == 0, result.stderr
    assert assignments(result.stdout)["CRON_TZ"] == "UTC"
    first_setting = next(line for line in result.stdout.splitlines() if ASSIGNMENT.match(line))
    assert first_setting == "CRON_TZ=UTC"
    assert "daylight saving" in result.stdout
    assert "# MAILTO=" in result.stdout
    jobs = job_lines(result.stdout)
    schedules = {shlex.join(slotgen_call(command)[1]): when for when, command in jobs}
    assert schedules == {
        "generate --days 30 --tries 3 --trigger cron": "0 1 * * *",
        "release --trigger cron": "*/5 * * * *",
        "runs prune --older-than 90d": "0 3 * * 0",
        "holidays sync --tries 3 --trigger cron": "0 2 1 * *",
        "check": "30 * * * *",
        "dashboard --output /var/www/slotgen/index.html": "*/5 * * * *",
        "publish --output /var/www/slotgen/fhir": "1-59/5 * * * *",
    }
    for _, command in jobs:
        executable = Path(slotgen_call(command)[0])
        assert executable.is_absolute()
        assert executable.is_file()
        assert os.access(executable, os.X_OK)
        assert f"set -a; . {shlex.quote(str(tmp_path / 'slotgen env'))}; set +a;" in command
        assert ">>/srv/log/s.log" in command


def test_crontab_from_the_installed_command_names_that_command() -> None:
    installed = Path(sys.executable).parent / "slotgen"

    result = run_installed("crontab")

    assert result.exit_code == 0, result.stderr
    for _, command in job_lines(result.stdout):
        assert slotgen_call(command)[0] == str(installed.resolve())
        assert ". /etc/slotgen/env;" in command
        assert ">>/var/log/slotgen/slotgen.log" in command


def test_crontab_example_names_real_commands_and_options() -> None:
    example = (REPO / "crontab.example").read_text()
    top_level = run_cli("--help").stdout

    jobs = job_lines(example)

    assert assignments(example)["CRON_TZ"] == "UTC"
    assert len(jobs) == 7
    for _, command in jobs:
        executable, args = slotgen_call(command)
        assert executable == "/opt/slotgen/.venv/bin/slotgen"
        path = [args[0]] + ([args[1]] if args[0] in ("runs", "holidays") else [])
        assert re.search(rf"^  {path[0]} ", top_level, re.MULTILINE), path
        command_help = run_cli(*path, "--help")
        assert command_help.exit_code == 0, path
        for option in (arg for arg in args if arg.startswith("--")):
            assert option in command_help.stdout, (path, option)


def test_crontab_example_matches_what_slotgen_crontab_prints() -> None:
    example = job_lines((REPO / "crontab.example").read_text())
    printed = job_lines(run_cli("crontab").stdout)

    installed = slotgen_call(printed[0][1])[0]
    assert [
        (when, command.replace(installed, "/opt/slotgen/.venv/bin/slotgen"))
        for when, command in printed
    ] == example


def test_crontab_lines_work_under_sh_with_crons_bare_environment(
    database: DatabaseUnderTest, tmp_path: Path, now: datetime
) -> None:
    env_file = tmp_path / "env"
    env_file.write_text(f"SLOTGEN_DATABASE_URL={shlex.quote(database.url)}\n")
    env_file.chmod(0o600)
    log_file = tmp_path / "slotgen.log"
    printed = run_installed("crontab", "--env-file", str(env_file), "--log-file", str(log_file))
    commands = {slotgen_call(command)[1][0]: command for _, command in job_lines(printed.stdout)}
    cron_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh"}

    def cron(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/sh", "-c", command], env=cron_env, capture_output=True, text=True, check=False
        )

    unhealthy = cron(commands["check"])
    healthy(database, now)
    fine = cron(commands["check"])
    pruned = cron(commands["runs"])

    assert unhealthy.stdout.startswith("WARNING - generate: never ran")  # cron mails this
    assert fine.stdout == ""  # and nothing at all when all is well
    assert pruned.stdout == ""
    log = log_file.read_text()
    assert "WARNING - generate: never ran" in log
    assert "OK - generate succeeded" in log
    assert "Deleted 0 finished runs" in log
