"""The command line behaves as ops people expect: options where they type them, one-line
errors that name the fix, private files whatever the umask, secrets never in a log."""

import json
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import text

from slotgen.cli.app import app, normalize_argv
from slotgen.db import migrate
from tests.conftest import DatabaseUnderTest
from tests.factories import add_run
from tests.helpers import INSTALLED, cron_environment, run_cli, run_installed


@pytest.mark.parametrize(
    "args",
    [
        ("-q", "--database-url", "URL", "runs", "--json"),
        ("runs", "-q", "--json", "--database-url", "URL"),
        ("--database-url=URL", "runs", "--json", "-q"),
    ],
)
def test_database_url_and_logging_options_work_before_or_after_the_command(
    database: DatabaseUnderTest, args: tuple[str, ...]
) -> None:
    add_run(database.engine)
    argv = [arg.replace("URL", database.url) for arg in args]

    result = run_cli(*argv)

    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["runs"]) == 1
    assert result.stderr == "", "-q took effect"


def test_a_commands_own_option_of_the_same_name_stays_with_it() -> None:
    """`crontab --log-file` is crontab's option, not the root's."""
    leaf = frozenset({"--log-file", "--env-file"})
    assert normalize_argv(["crontab", "--log-file", "x.log", "-q"], leaf) == [
        "-q",
        "crontab",
        "--log-file",
        "x.log",
    ]
    assert normalize_argv(["-v", "generate", "--", "-q"], frozenset()) == [
        "-v",
        "generate",
        "--",
        "-q",
    ]


def test_a_usage_error_is_one_error_line_and_the_usage() -> None:
    result = run_cli("generate", "--bogus")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: No such option: --bogus",
        "Usage: slotgen generate [OPTIONS]   (slotgen generate -h shows every option)",
    ]


def test_help_shows_no_type_for_flags_and_a_plain_id_for_ids() -> None:
    for args in (("--help",), ("generate", "--help"), ("retry", "--help"), ("runs", "--help")):
        shown = run_cli(*args).stdout
        assert "<bool>" not in shown, args
    assert "ID" in run_cli("retry", "--help").stdout
    assert re.search(r"--facility\s+ID\s", run_cli("generate", "--help").stdout)


def _command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    context = typer.Context(command)
    for name in sorted(getattr(command, "list_commands", lambda _: [])(context)):
        paths += _command_paths(command.get_command(context, name), (*path, name))
    return paths


@pytest.mark.parametrize("path", [(), ("exceptions",), ("rules",), ("holidays",)])
def test_a_command_group_given_nothing_to_do_prints_its_help(path: tuple[str, ...]) -> None:
    bare = run_cli(*path)
    assert bare.exit_code == 2
    assert bare.stdout.strip() == run_cli(*path, "--help").stdout.strip()
    assert "Commands:" in bare.stdout


def test_the_h_that_a_usage_error_points_to_shows_the_help_of_every_command() -> None:
    paths = _command_paths(typer.main.get_command(app))
    assert ("rules", "list") in paths
    assert ("generate",) in paths
    for path in paths:
        short, long = run_cli(*path, "-h"), run_cli(*path, "--help")
        assert short.exit_code == 0, (path, short.stderr)
        assert short.stdout == long.stdout, path
        assert f"Usage: slotgen {' '.join(path)}".rstrip() in short.stdout, path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql+psycopg://slotgen@db.example.org:five/clinic",
            "Error: the port in the database URL is not a number",
        ),
        ("mysql://slotgen@127.0.0.1/clinic", "slotgen works with mysql+pymysql://"),
    ],
)
def test_a_url_slotgen_cannot_use_names_the_fix(url: str, message: str) -> None:
    result = run_cli("runs", "--database-url", url)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_log_file_in_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("--log-file", str(tmp_path / "nope" / "slotgen.log"), "crontab")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --log-file: the folder {tmp_path / 'nope'} does not exist; create it first\n"
    )


def test_folders_and_log_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    log = tmp_path / "slotgen.log"
    env = {k: v for k, v in cron_environment(HOME=str(home)).items() if k != "XDG_CONFIG_HOME"}
    completed = subprocess.run(
        ["/bin/sh", "-c", f'umask 000; exec "{INSTALLED}" --log-file "{log}" db info'],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    for folder in (home / ".config", home / ".config" / "slotgen"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((home / ".config" / "slotgen" / "slotgen.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_an_empty_xdg_config_home_is_read_as_unset_not_as_the_current_folder(
    tmp_path: Path,
) -> None:
    """The embedded database must be the same file from every folder: an env file's empty
    XDG_CONFIG_HOME= must not put it in the folder the job happens to start in."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    env = cron_environment(HOME=str(home), XDG_CONFIG_HOME="")
    shown = subprocess.run(
        [INSTALLED, "db", "info"],
        env=env,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )

    assert shown.returncode == 0, shown.stderr
    assert str(home / ".config" / "slotgen" / "slotgen.db") in shown.stdout
    assert (home / ".config" / "slotgen" / "slotgen.db").exists()
    assert list(elsewhere.iterdir()) == []


def test_a_ping_urls_password_is_never_logged(database: DatabaseUnderTest, tmp_path: Path) -> None:
    log = tmp_path / "slotgen.log"
    secret = "Hush-41f7"
    result = run_installed(
        "-v",
        "--log-file",
        str(log),
        "release",
        "--ping-url",
        f"http://monitor:{secret}@127.0.0.1:9/ping/abc",
        "--database-url",
        database.url,
    )

    assert result.exit_code == 0, result.stderr
    written = log.read_text() + result.stdout + result.stderr
    assert "Could not ping the monitor at 127.0.0.1:9" in written
    assert secret not in written


def test_upgrading_a_schema_from_a_newer_slotgen_is_one_line(
    database: DatabaseUnderTest,
) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    try:
        result = run_installed("db", "upgrade", "--database-url", database.url)
    finally:  # the servers' test database is shared by the tests that follow
        with database.engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :head"),
                {"head": migrate.head_revision()},
            )

    assert result.exit_code == 3
    assert result.stderr == (
        "Error: the database schema is at revision f00dcafe9999, which this slotgen does not "
        "know: upgrade slotgen\n"
    )
