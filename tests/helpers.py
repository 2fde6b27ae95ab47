"""Small tools the tests share: running the CLI in-process and as cron would."""

import os
import subprocess
import sys
from dataclasses import dataclass

from typer.testing import CliRunner

from slotgen.cli.app import app


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Run `slotgen ARGS` in this process, stdout and stderr kept apart."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def run_installed(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    """Run the installed `slotgen` command in a subprocess, the way cron runs it."""
    command = [os.path.join(os.path.dirname(sys.executable), "slotgen"), *args]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)
