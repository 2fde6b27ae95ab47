"""Start-up: what each kind of command imports, since cron pays for it every few minutes.

The import log of a real `slotgen` process (`PYTHONPROFILEIMPORTTIME`) says which
packages it loaded; no timing is asserted, only which libraries a command needs.
"""

import os
import subprocess
from pathlib import Path

from tests.helpers import INSTALLED, cron_environment

MIGRATING = {"alembic", "mako"}
"""Loaded only by a command that migrates a schema."""
DATABASE = {"sqlalchemy"}


def imported(*args: str, home: Path) -> set[str]:
    """The top-level packages a `slotgen ARGS` process imported."""
    env = cron_environment(PYTHONPROFILEIMPORTTIME="1", XDG_CONFIG_HOME=str(home))
    done = subprocess.run(
        [INSTALLED, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    } - {"package"}


def test_help_imports_no_database_library(tmp_path: Path) -> None:
    for args in (["--help"], ["generate", "--help"], ["release", "--help"], ["--version"]):
        modules = imported(*args, home=tmp_path)
        assert "typer" in modules, "the import log was read"
        assert not modules & (DATABASE | MIGRATING), (args, modules & (DATABASE | MIGRATING))


def test_only_a_command_that_migrates_imports_alembic(tmp_path: Path) -> None:
    first_use = imported("-q", "release", home=tmp_path)  # creates the embedded default
    assert first_use >= MIGRATING, "the first use migrates, so this test can see Alembic"
    for args in (["-q", "release"], ["-q", "generate", "--days", "1"], ["runs"], ["check"]):
        modules = imported(*args, home=tmp_path)
        assert "sqlalchemy" in modules, args
        assert not modules & (MIGRATING | {"pygments"}), (args, modules & MIGRATING)
    assert os.path.exists(tmp_path / "slotgen" / "slotgen.db")
