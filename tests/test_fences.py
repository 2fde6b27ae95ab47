"""The layers' import fences fire: lint fails on a forbidden import in each package.

Each package's `ruff.toml` bans what the package must not import. ruff is asked about a
probe file in the package (given on stdin, so nothing is written to the source tree);
an allowed import in the same place passes, so a failure means the fence, not the probe.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUFF = os.path.join(os.path.dirname(sys.executable), "ruff")

FORBIDDEN = [
    *[(package, "from slotgen.db import schema") for package in ("core", "monitoring")],
    *[(package, "from slotgen.db import schema") for package in ("importing", "web", "cli")],
    *[
        (package, "import sqlalchemy")
        for package in ("core", "monitoring", "importing", "web", "publishing")
    ],
    ("publishing", "from slotgen.db import publish"),
    ("publishing", "from slotgen.services import publish"),
    ("publishing", "import typer"),
    ("publishing", "from slotgen.web import server"),
    ("cli", "from sqlalchemy import select"),
    *[(package, "import typer") for package in ("core", "monitoring", "importing", "services")],
    *[(package, "from rich.table import Table") for package in ("core", "web", "services")],
    ("core", "from slotgen.services import generate"),
    ("core", "from slotgen.monitoring import health"),
    ("monitoring", "from slotgen.core import plan"),
    ("web", "from slotgen.services import dashboard"),
    ("services", "from slotgen.cli import output"),
    ("services", "from sqlalchemy import select"),
    ("cli", "from slotgen.cli.runs import app"),
]
ALLOWED = [
    ("core", "from slotgen.vocabulary import SlotStatus"),
    ("monitoring", "from slotgen.errors import first_line"),
    ("importing", "from slotgen.core.dates import load_zone"),
    ("web", "from slotgen.monitoring.health import Level"),
    ("services", "from slotgen.db import lookup"),
    ("cli", "from slotgen.cli.output import table"),
    ("publishing", "from slotgen.vocabulary import feed_status"),
]


def lint(package: str, statement: str) -> subprocess.CompletedProcess[str]:
    name = statement.rsplit(maxsplit=1)[-1]
    probe = f'"""A probe."""\n\n{statement}\n\nprint({name})\n'
    return subprocess.run(
        [RUFF, "check", "--no-cache", "--stdin-filename", f"slotgen/{package}/probe.py", "-"],
        input=probe,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


@pytest.mark.parametrize(("package", "statement"), FORBIDDEN)
def test_a_forbidden_import_fails_lint(package: str, statement: str) -> None:
    result = lint(package, statement)
    assert result.returncode == 1, result.stdout
    assert "TID251" in result.stdout


@pytest.mark.parametrize(("package", "statement"), ALLOWED)
def test_an_allowed_import_passes_lint(package: str, statement: str) -> None:
    result = lint(package, statement)
    assert result.returncode == 0, result.stdout
