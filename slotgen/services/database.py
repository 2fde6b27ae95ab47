"""Opening the database a use case works on, with its secrets hidden from every log line."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from slotgen.db.database import Database, connect
from slotgen.db.engine import parse_url, url_secrets
from slotgen.errors import BadInput
from slotgen.logs import hide

__all__ = ["Database", "open_database"]


@contextmanager
def open_database(
    url: str | None, data_dir: Path, *, require_current: bool = True, create: bool = False
) -> Iterator[Database]:
    """The database at `url`, or the embedded default in `data_dir`, checked and closed after.

    With `require_current` (every command but `db upgrade`, `db current` and `db info`) a
    server schema that is not at this slotgen's revision is refused; the embedded default
    is brought up to date by itself. An empty URL is an error, never a silent fallback to
    the embedded default; `create` lets `db upgrade` create a named SQLite file.
    """
    if url == "":
        raise BadInput(
            "the database URL is empty: give one, or leave SLOTGEN_DATABASE_URL and "
            "--database-url out to use the embedded default"
        )
    if url:
        hide(url_secrets(parse_url(url)))
    with connect(url, data_dir, require_current=require_current, create=create) as database:
        yield database
