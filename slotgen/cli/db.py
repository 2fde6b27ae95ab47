"""`slotgen db`: the schema, its revision and where the database is."""

import typer

from slotgen.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    open_database,
    print_json,
    stderr,
    stdout,
)
from slotgen.db import migrate

app = typer.Typer(help="Create or upgrade the database schema and show where the database is.")


@app.command()
def upgrade(database_url: DatabaseUrlOption = None) -> None:
    """Bring the database schema to the newest revision (safe to run again)."""
    with open_database(database_url, require_current=False) as database:
        migrate.upgrade(database.engine)
        stderr.print(f"Database at {database.location} is at revision {migrate.head_revision()}.")


@app.command()
def current(database_url: DatabaseUrlOption = None) -> None:
    """Print the schema revision the database is at ("none" for an empty database)."""
    with (
        open_database(database_url, require_current=False) as database,
        database.engine.connect() as connection,
    ):
        stdout.print(migrate.current_revision(connection) or "none")


@app.command()
def info(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Show the backend, where the data lives, and the schema revision; never a password."""
    with (
        open_database(database_url, require_current=False) as database,
        database.engine.connect() as connection,
    ):
        facts = {
            "backend": database.backend,
            "driver": database.url.get_driver_name(),
            "location": database.location,
            "embedded_default": database.is_embedded_default,
            "revision": migrate.current_revision(connection),
            "head": migrate.head_revision(),
        }
    if as_json:
        print_json(facts)
        return
    for key, value in facts.items():
        stdout.print(f"{key + ':':<18}{value}")
