"""What every command renders with: the two consoles, JSON, tables, times and statuses.

stdout carries data (tables, JSON) for scripts; stderr carries messages for the person at
the terminal or in cron's mail.
"""

import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from slotgen.vocabulary import RunStatus

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text


@cache
def stdout() -> "Console":
    """Data: tables and JSON. Scripts read this.

    rich loads with the first table or bar: a job under cron prints lines, and its
    start-up is paid every few minutes."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@cache
def stderr() -> "Console":
    """Messages for the person at the terminal or in cron's mail, when they need rich."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


STATUS_STYLES: dict[str, str] = {
    RunStatus.RUNNING: "cyan",
    RunStatus.SUCCEEDED: "green",
    RunStatus.FAILED: "bold red",
    RunStatus.ABANDONED: "red",
    RunStatus.SKIPPED: "yellow",
    RunStatus.INTERRUPTED: "magenta",
}


def line(text: str) -> None:
    """One line of data, printed as it is: no markup, no highlighting, no wrapping."""
    print(text, file=sys.stdout)


def message(text: str) -> None:
    """One line for the person: stderr, printed as it is."""
    print(text, file=sys.stderr)


def print_json(value: Any) -> None:
    """Stable, machine-readable output: sorted keys, ISO dates, one object."""
    line(json.dumps(value, sort_keys=True, default=str, indent=2))


def print_json_streaming(
    key: str, items: Iterable[Any], rest: Callable[[], dict[str, Any]]
) -> None:
    """One JSON object like `print_json`'s: `key` holds a list written as it is read, then
    come the fields `rest` gives once the list is done.

    A long list then starts at once and never sits in memory: each item is a line.
    """
    line(f"{{\n  {json.dumps(key)}: [")
    held: str | None = None  # each item waits for the next, to know if a comma follows
    for item in items:
        if held is not None:
            line(f"{held},")
        held = f"    {json.dumps(item, sort_keys=True, default=str)}"
    if held is not None:
        line(held)
    tail = rest()
    fields = "".join(
        f",\n  {json.dumps(name)}: {json.dumps(tail[name], sort_keys=True, default=str)}"
        for name in sorted(tail)
    )
    line(f"  ]{fields}\n}}")


def table(title: str | None = None, *, compact: bool = False) -> "Table":
    """A plain table: rules but no boxes, so more of each row fits an 80-column terminal.

    `compact` also drops the outer padding, for tables of many short columns. rich's
    tables load here, when one is drawn: the jobs cron runs print a line, not a table.
    """
    from rich import box
    from rich.table import Table

    return Table(
        box=box.SIMPLE_HEAD,
        show_edge=not compact,
        pad_edge=False,
        collapse_padding=compact,
        title=title,
        title_justify="left",
    )


def status_text(status: str) -> "Text":
    """The status word itself, coloured: readable without colour, in a pipe or in mail."""
    from rich.text import Text

    return Text(status, style=STATUS_STYLES.get(status, ""))


def moment(instant: datetime | None, *, seconds: bool = True) -> str:
    """An instant in the operator's local zone, where they read every other clock."""
    if instant is None:
        return "-"
    return instant.astimezone().strftime("%Y-%m-%d %H:%M" + (":%S %Z" if seconds else ""))
