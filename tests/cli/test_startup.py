"""Start-up: what each kind of command imports, since cron pays for it every few minutes.

The import log of a real `slotgen` process (`PYTHONPROFILEIMPORTTIME`) says which
packages it loaded; no timing is asserted, only which libraries a command needs.
"""

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from slotgen.cli.app import main
from tests.helpers import INSTALLED, cron_environment

MIGRATING = {"alembic", "mako"}
"""Loaded only by a command that migrates a schema."""
DATABASE = {"sqlalchemy"}
RENDERERS = {"rich", "markdown_it", "pygments", "pydantic"}
"""Typer's rich help (Markdown, syntax highlighting) and Typer 0.29's option models: the
help is Click's plain text, and no command needs them."""


def imported_modules(*args: str, home: Path) -> set[str]:
    """The modules a `slotgen ARGS` process imported, by their full names."""
    env = cron_environment(PYTHONPROFILEIMPORTTIME="1", XDG_CONFIG_HOME=str(home))
    done = subprocess.run(
        [INSTALLED, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    } - {"imported package"}


def imported(*args: str, home: Path) -> set[str]:
    """The top-level packages a `slotgen ARGS` process imported."""
    return {module.split(".")[0] for module in imported_modules(*args, home=home)}


def test_help_imports_no_database_library(tmp_path: Path) -> None:
    for args in (["--help"], ["generate", "--help"], ["release", "--help"], ["--version"]):
        modules = imported(*args, home=tmp_path)
        assert "typer" in modules, "the import log was read"
        assert not modules & (DATABASE | MIGRATING), (args, modules & (DATABASE | MIGRATING))
        assert not modules & RENDERERS, (args, modules & RENDERERS)


def test_only_a_command_that_migrates_imports_alembic(tmp_path: Path) -> None:
    first_use = imported("-q", "release", home=tmp_path)  # creates the embedded default
    assert first_use >= MIGRATING, "the first use migrates, so this test can see Alembic"
    for args in (["-q", "release"], ["-q", "generate", "--days", "1"], ["runs"], ["check"]):
        modules = imported(*args, home=tmp_path)
        assert "sqlalchemy" in modules, args
        assert not modules & (MIGRATING | {"pygments"}), (args, modules & MIGRATING)
    assert os.path.exists(tmp_path / "slotgen" / "slotgen.db")


def test_a_cron_job_loads_its_own_command_and_no_renderer(tmp_path: Path) -> None:
    """`release` every five minutes: its command module alone, no rich (it prints one
    line), no Pydantic, no other database's dialect, no HTTP client unless it pings and
    no metrics writer without --metrics-file."""
    imported("-q", "release", home=tmp_path)  # the first use migrates; measure the next
    modules = imported_modules("-q", "release", home=tmp_path)
    commands = {module for module in modules if module.startswith("slotgen.cli.")}
    shared = {"slotgen.cli.app", "slotgen.cli.options", "slotgen.cli.output", "slotgen.cli.views"}
    assert shared <= commands  # the log names what the command module imported
    assert commands <= shared | {"slotgen.cli.release"}, commands - shared
    packages = {module.split(".")[0] for module in modules}
    assert "sqlalchemy" in packages
    assert not packages & {"rich", "pydantic", "alembic", "mako"}, packages
    assert not {m for m in modules if m.startswith("sqlalchemy.dialects.mysql")}
    unused = ("urllib.request", "slotgen.web", "slotgen.monitoring.metrics")
    assert not {m for m in modules if m.startswith(unused)}


def test_a_command_loads_what_it_renders_with(tmp_path: Path) -> None:
    """The lazy loading above still gives each command its tables: `runs` draws one."""
    imported("-q", "release", home=tmp_path)
    modules = imported_modules("runs", home=tmp_path)
    assert "rich.table" in modules
    assert not {"slotgen.cli.generate", "slotgen.cli.demo"} & modules


def test_a_finished_process_leaves_nothing_for_the_exit_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's exit runs the collector over every module and class still loaded (0.12 s
    of a no-op release): `main` freezes them out of it once the app is done, whatever way
    it ends. The benchmark measures the time; this holds the freeze."""
    thresholds = gc.get_threshold()
    monkeypatch.setattr(sys, "argv", ["slotgen", "--version"])
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit):
            main()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
