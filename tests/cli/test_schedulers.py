"""`slotgen systemd` and `slotgen kubernetes`: units and manifests that their own tools
accept, on the schedule `slotgen crontab` prints.

The units are checked by `systemd-analyze verify` where it is installed (Debian's
`systemd` package) and read with configparser everywhere; the manifests are read with
PyYAML and checked field by field against what the CronJob API needs.
"""

import configparser
import getpass
import os
import pwd
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from slotgen.services.schedules import TASKS
from tests.helpers import INSTALLED, run_cli

ANALYZE = shutil.which("systemd-analyze")
USER = getpass.getuser()
HOME = Path(pwd.getpwnam(USER).pw_dir)


def unit_lines(*args: str) -> dict[str, list[str]]:
    """The printed units' lines, by file name."""
    result = run_cli("systemd", "--user", USER, *args)
    assert result.exit_code == 0, result.stderr
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"# (slotgen-[a-z]+\.(?:service|timer))", line)
        if match:
            current = found.setdefault(match[1], [])
        elif not line.startswith("#"):
            current.append(line)
    return found


def units(*args: str) -> dict[str, configparser.ConfigParser]:
    """The printed units, by file name, each read as systemd's ini syntax."""
    parsed = {}
    for name, lines in unit_lines(*args).items():
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string("\n".join(lines))
        parsed[name] = parser
    return parsed


def exec_starts(lines: list[str]) -> list[list[str]]:
    """Every ExecStart= of a unit, in order: a oneshot runs them in turn."""
    return [shlex.split(line.partition("=")[2]) for line in lines if line.startswith("ExecStart=")]


def writable(lines: list[str]) -> list[str]:
    """Every ReadWritePaths= of a unit, a key that repeats (configparser keeps the last)."""
    return [line.partition("=")[2] for line in lines if line.startswith("ReadWritePaths=")]


def crontab_schedule() -> dict[str, str]:
    """The crontab's schedule by slotgen command (`runs`, `check`, ...)."""
    schedule = {}
    for line in run_cli("crontab").stdout.splitlines():
        if line[:1].isdigit() or line.startswith("*"):
            fields = line.split(None, 5)
            command = re.search(r"slotgen -q --log-file \S+ (\w+)", fields[5])
            assert command is not None, line
            schedule[command[1]] = " ".join(fields[:5])
    return schedule


def test_every_scheduler_runs_every_task_at_the_same_utc_times() -> None:
    cron = crontab_schedule()
    timers = {
        name.removeprefix("slotgen-").removesuffix(".timer"): unit["Timer"]["OnCalendar"]
        for name, unit in units().items()
        if name.endswith(".timer")
    }
    manifests = list(yaml.safe_load_all(run_cli("kubernetes").stdout))
    cluster = {doc["metadata"]["name"].removeprefix("slotgen-"): doc for doc in manifests}

    assert timers == {
        "generate": "*-*-* 01:00:00 UTC",
        "release": "*-*-* *:00/5:00 UTC",
        "prune": "Sun *-*-* 03:00:00 UTC",
        "holidays": "*-*-01 02:00:00 UTC",
        "check": "*-*-* *:30:00 UTC",
        "dashboard": "*-*-* *:00/5:00 UTC",
        "publish": "*-*-* *:01/5:00 UTC",
    }
    assert set(cluster) == {"generate", "release", "prune", "holidays", "check"}
    for task in TASKS:
        assert cron[task.args[0]] == task.when.cron()
        if task.in_cluster:
            assert cluster[task.name]["spec"]["schedule"] == cron[task.args[0]]


def test_systemd_analyze_accepts_the_units(tmp_path: Path) -> None:
    if ANALYZE is None:
        reason = "systemd-analyze is not installed (apt-get install systemd)"
        if os.environ.get("SLOTGEN_TEST_REQUIRE"):  # CI: a check that did not run is no pass
            pytest.fail(f"{reason}; required because SLOTGEN_TEST_REQUIRE is set", pytrace=False)
        pytest.skip(reason)
    written = run_cli(
        "systemd", "--user", USER, "--output-dir", str(tmp_path),
        "--metrics-file", str(tmp_path / "node exporter" / "slotgen.prom"),
    )  # fmt: skip
    files = sorted(str(path) for path in tmp_path.iterdir())

    verified = subprocess.run(
        [str(ANALYZE), "verify", "--man=no", *files],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )

    assert written.exit_code == 0, written.stderr
    assert len(files) == 2 * len(TASKS)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == ""
    assert "systemctl daemon-reload" in written.stdout
    assert "systemctl enable --now slotgen-generate.timer slotgen-release.timer" in written.stdout


def test_timers_catch_up_and_daily_jobs_spread_out() -> None:
    found = units()

    for task in TASKS:
        timer = found[f"slotgen-{task.name}.timer"]
        assert timer["Timer"]["Persistent"] == "true"
        assert timer["Timer"]["Unit"] == f"slotgen-{task.name}.service"
        assert timer["Install"]["WantedBy"] == "timers.target"
        daily = task.name in {"generate", "prune", "holidays"}
        assert ("RandomizedDelaySec" in timer["Timer"]) == daily, task.name


def test_services_are_hardened_and_run_this_installation() -> None:
    found = units("--env-file", "/etc/slotgen/env")
    lines = unit_lines("--env-file", "/etc/slotgen/env")

    for task in TASKS:
        service = found[f"slotgen-{task.name}.service"]["Service"]
        assert service["Type"] == "oneshot"
        assert service["User"] == USER
        assert service["EnvironmentFile"] == "/etc/slotgen/env"
        assert service["NoNewPrivileges"] == "yes"
        assert service["ProtectSystem"] == "strict"
        commands = exec_starts(lines[f"slotgen-{task.name}.service"])
        page = ["/var/www/slotgen/index.html"] * task.writes_page
        page += ["/var/www/slotgen/fhir"] * task.writes_feed
        assert [command[1:] for command in commands] == [
            [*task.args, *page],
            *([list(task.then)] if task.then else []),
        ]
        for command in commands:
            assert Path(command[0]).resolve() == Path(INSTALLED).resolve()
            shown = [arg for arg in command[1:] if arg not in {"--output", *page}]
            assert run_cli(*shown, "--help").exit_code == 0


def test_a_holidays_sync_is_followed_by_a_generate_only_when_it_succeeded() -> None:
    holidays = next(task for task in TASKS if task.name == "holidays")
    cron = [line for line in run_cli("crontab").stdout.splitlines() if "holidays sync" in line]
    (line,) = [entry for entry in cron if not entry.startswith("#")]
    assert line.index("holidays sync") < line.index("&&") < line.index("generate --days 30")

    (manifest,) = [doc for doc in cron_jobs() if doc["metadata"]["name"] == "slotgen-holidays"]
    pod = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (first,) = pod["initContainers"]
    (then,) = pod["containers"]
    assert first["args"] == list(holidays.args)
    assert then["args"] == list(holidays.then)


def test_the_embedded_database_folder_alone_is_writable_by_default() -> None:
    found = unit_lines()

    for task in TASKS:
        expected = [f"-{HOME / '.config' / 'slotgen'}"]
        if task.writes_page:
            expected.append("-/var/www/slotgen")
        if task.writes_feed:
            expected.append("-/var/www/slotgen/fhir")
        assert writable(found[f"slotgen-{task.name}.service"]) == expected, task.name


def test_a_server_database_needs_no_writable_folder_and_a_sqlite_file_its_own() -> None:
    server = unit_lines("--database-url", "postgresql+psycopg://slotgen:secret@db/clinic")
    sqlite = unit_lines("--database-url", "sqlite:////srv/slotgen/slotgen.db")

    release = "slotgen-release.service"
    assert writable(server[release]) == []
    assert writable(sqlite[release]) == ["-/srv/slotgen"]
    assert "secret" not in "".join(line for lines in server.values() for line in lines)


def test_a_metrics_file_is_passed_to_the_jobs_and_its_folder_made_writable() -> None:
    args = ("--metrics-file", "/var/lib/prometheus/node-exporter/slotgen.prom")
    lines = unit_lines(*args)

    for task in TASKS:
        name = f"slotgen-{task.name}.service"
        command = exec_starts(lines[name])[0]
        metered = task.job is not None
        assert ("--metrics-file" in command) == metered, task.name
        for then in exec_starts(lines[name])[1:]:
            assert ("--metrics-file" in then) == (task.then_job is not None), task.name
        for command in exec_starts(lines[name]):  # each command that is given it takes it
            if "--metrics-file" in command:
                words = [arg for arg in command[1:] if not arg.startswith("-")][:2]
                shown = run_cli(*words, "--help").stdout
                assert "--metrics-file" in shown, (task.name, words)
        written = metered or task.then_job is not None
        assert ("-/var/lib/prometheus/node-exporter" in writable(lines[name])) == written


def test_systemd_for_an_unknown_user_on_the_embedded_database_is_one_line() -> None:
    result = run_cli("systemd", "--user", "nobody-here-xyz")

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --user: there is no user nobody-here-xyz")
    assert len(result.stderr.splitlines()) == 1


def cron_jobs(*args: str) -> list[dict[str, Any]]:
    result = run_cli("kubernetes", *args)
    assert result.exit_code == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


def test_cron_jobs_are_valid_batch_v1_manifests() -> None:
    image = "registry.example.org:5000/clinic/slotgen:0.1.0"
    manifests = cron_jobs("--image", image, "--secret", "clinic-db", "--namespace", "clinic")

    assert len(manifests) == 5
    for manifest in manifests:
        assert manifest["apiVersion"] == "batch/v1"
        assert manifest["kind"] == "CronJob"
        assert manifest["metadata"]["namespace"] == "clinic"
        spec = manifest["spec"]
        assert spec["timeZone"] == "Etc/UTC"
        assert "TZ" not in spec["schedule"]
        assert len(spec["schedule"].split()) == 5
        assert spec["concurrencyPolicy"] == "Forbid"
        assert isinstance(spec["startingDeadlineSeconds"], int)
        assert 0 < spec["startingDeadlineSeconds"] <= 3600
        job = spec["jobTemplate"]["spec"]
        assert job["backoffLimit"] == 0
        pod = job["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        (container,) = pod["containers"]
        assert container["image"] == image
        assert container["env"] == [
            {
                "name": "SLOTGEN_DATABASE_URL",
                "valueFrom": {"secretKeyRef": {"name": "clinic-db", "key": "database-url"}},
            }
        ]
        requests, limits = container["resources"]["requests"], container["resources"]["limits"]
        assert requests["memory"] == "96Mi"
        assert limits["memory"] == "256Mi"
        args = container["args"]
        assert (
            run_cli(*[arg for arg in args if not arg.startswith("-")][:2], "--help").exit_code == 0
        )


def test_the_startup_deadline_is_shorter_than_the_period() -> None:
    deadlines = {
        doc["metadata"]["name"]: doc["spec"]["startingDeadlineSeconds"] for doc in cron_jobs()
    }

    assert deadlines == {
        "slotgen-generate": 3600,
        "slotgen-release": 150,
        "slotgen-prune": 3600,
        "slotgen-holidays": 3600,
        "slotgen-check": 1800,
    }


def test_no_namespace_leaves_it_to_kubectl() -> None:
    assert all("namespace" not in doc["metadata"] for doc in cron_jobs())


@pytest.mark.parametrize(
    "image",
    [
        "slotgen",
        "slotgen:0.1.0",
        "ghcr.io/clinic/slotgen:latest",
        "localhost:5000/slotgen@sha256:" + "a" * 64,
        "registry.example.org/a/b/c:v1.2-rc_3",
    ],
)
def test_image_names_the_runtimes_accept_are_accepted(image: str) -> None:
    assert (
        cron_jobs("--image", image)[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
        == image
    )


@pytest.mark.parametrize(
    "image",
    ["Slotgen:1", "slotgen:", "slot gen", "slotgen:1.0\nkind: Pod", "-slotgen", "a" * 256, ""],
)
def test_an_invalid_image_name_is_one_line_and_exit_2(image: str) -> None:
    result = run_cli("kubernetes", "--image", image)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: --image: ")
    assert "is not an image name" in result.stderr


@pytest.mark.parametrize(("option", "value"), [("--secret", "Clinic_DB"), ("--namespace", "a.b")])
def test_an_invalid_secret_or_namespace_is_one_line(option: str, value: str) -> None:
    result = run_cli("kubernetes", option, value)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {option}: ")
