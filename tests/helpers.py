"""Small tools the tests share: running the CLI in-process, and as cron runs it."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from typer.testing import CliRunner

from slotgen.cli import output
from slotgen.cli.app import app

INSTALLED = os.path.join(os.path.dirname(sys.executable), "slotgen")
"""The `slotgen` script of the virtual environment running the tests."""


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Run `slotgen ARGS` in this process, stdout and stderr kept apart.

    The consoles are made anew, as in a new process: each reads the terminal's width
    (`COLUMNS`) when it is made."""
    output.stdout.cache_clear()
    output.stderr.cache_clear()
    result = CliRunner().invoke(app, list(args), catch_exceptions=False, prog_name="slotgen")
    return CliResult(result.exit_code, result.stdout, result.stderr)


def cron_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any SLOTGEN_* setting, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLOTGEN_")}
    return {**env, **extra}


def run_installed(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> CliResult:
    """Run the installed `slotgen` command in a subprocess, the way cron runs it."""
    completed = subprocess.run(
        [INSTALLED, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cron_environment(**(env or {})),
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def start_installed(*args: str, env: dict[str, str] | None = None) -> "subprocess.Popen[str]":
    """Start the installed `slotgen` command and leave it running; read it with communicate."""
    return subprocess.Popen(
        [INSTALLED, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cron_environment(**(env or {})),
    )


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    """Poll until `condition` holds; a generous deadline, so a slow machine only waits longer."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
