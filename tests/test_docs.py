"""The README tells the truth about the command line: every command, option and setting.

A command or option without help text, or missing from the README, is a feature nobody
can find; a `SLOTGEN_*` variable the code reads but the README never names is a setting
nobody knows about; a table whose separator row has the wrong number of cells is shown by
GitHub as plain text.
"""

import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import typer.main

from slotgen.cli.app import app

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
NOT_OURS = {"--help", "--install-completion", "--show-completion"}
"""Options Typer adds to every application."""


def commands() -> Iterator[tuple[str, Any]]:
    """Every command and command group, by its full name (`slotgen runs prune`)."""

    def walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        yield path, command
        context = typer.Context(command)
        for name in sorted(getattr(command, "list_commands", lambda _: [])(context)):
            yield from walk(command.get_command(context, name), f"{path} {name}")

    yield from walk(typer.main.get_command(app), "slotgen")


COMMANDS = dict(commands())


def options() -> Iterator[tuple[str, str, Any]]:
    for path, command in COMMANDS.items():
        for param in command.params:
            names = [name for name in param.opts if name.startswith("--")]
            if names and names[0] not in NOT_OURS:
                yield path, names[0], param


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_has_help_and_is_in_the_readme(path: str) -> None:
    assert (COMMANDS[path].help or "").strip(), f"{path} has no help text"
    words = path.removeprefix("slotgen ")
    assert path == "slotgen" or re.search(rf"slotgen (-\S+ )*{re.escape(words)}\b", README), (
        f"the README never shows `{path}`"
    )


@pytest.mark.parametrize(("path", "option"), [(path, name) for path, name, _ in options()])
def test_every_option_has_help_and_is_in_the_readme(path: str, option: str) -> None:
    (param,) = [param for where, name, param in options() if (where, name) == (path, option)]
    assert (param.help or "").strip(), f"{path} {option} has no help text"
    assert re.search(rf"{re.escape(option)}\b", README), f"the README never mentions {option}"


def settings_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for source in (REPO / "slotgen").rglob("*.py"):
        found |= set(re.findall(r"SLOTGEN_[A-Z0-9_]*[A-Z0-9]", source.read_text()))
    for source in (REPO / "tests").rglob("*.py"):
        found |= set(re.findall(r"SLOTGEN_TEST_[A-Z0-9_]*[A-Z0-9]", source.read_text()))
    return found


def test_settings_are_found_at_all() -> None:
    assert {"SLOTGEN_DATABASE_URL", "SLOTGEN_LEASE_SECONDS"} <= settings_read_by_the_code()


@pytest.mark.parametrize("setting", sorted(settings_read_by_the_code()))
def test_every_setting_the_code_reads_is_documented(setting: str) -> None:
    if setting.endswith("_PING_URL") and setting.count("_") == 3:
        return  # SLOTGEN_{JOB}_PING_URL: the pattern is named, each job's name checked below
    assert f"`{setting}`" in README, f"the README never documents {setting}"


@pytest.mark.parametrize("job", ["GENERATE", "RELEASE"])
def test_each_jobs_ping_url_variable_is_documented(job: str) -> None:
    assert f"SLOTGEN_{job}_PING_URL" in README


def tables(text: str) -> Iterator[tuple[int, str, str]]:
    """Each Markdown table's header line and separator line, with the header's line number."""
    lines = text.splitlines()
    for number, (header, separator) in enumerate(pairwise(lines), start=1):
        if header.startswith("|") and re.fullmatch(r"\|( *:?-+:? *\|)+", separator.strip()):
            yield number, header, separator


def cells(row: str) -> int:
    return len(re.split(r"(?<!\\)\|", row.strip().strip("|")))


def test_the_readme_has_tables_to_check() -> None:
    assert len(list(tables(README))) >= 5


@pytest.mark.parametrize(("line", "header", "separator"), list(tables(README)))
def test_every_table_separator_has_as_many_cells_as_its_header(
    line: int, header: str, separator: str
) -> None:
    assert cells(separator) == cells(header), f"README.md:{line}: {header}"
