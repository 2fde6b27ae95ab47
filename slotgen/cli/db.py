"""`slotgen db`: the schema, its revision and where the database is."""

import typer

from slotgen.cli.options import DatabaseUrlOption, JsonOption, database
from slotgen.cli.output import line, message, print_json

app = typer.Typer(help="Create or upgrade the database schema and show where the database is.")


@app.command()
def upgrade(database_url: DatabaseUrlOption = None) -> None:
    """Bring the database schema to the newest revision (safe to run again).

    A SQLite file named by --database-url is created here if missing, in a folder that
    must exist; no other command creates one.
    """
    from slotgen.services import schema

    with database(database_url, require_current=False, create=True) as opened:
        revision = schema.upgrade(opened)
        message(f"Database at {opened.location} is at revision {revision}.")


@app.command()
def current(database_url: DatabaseUrlOption = None) -> None:
    """Print the schema revision the database is at ("none" for an empty database)."""
    from slotgen.services import schema

    with database(database_url, require_current=False) as opened:
        line(schema.current(opened) or "none")


@app.command()
def info(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Show the backend, where the data lives, and the schema revision; never a password."""
    from slotgen.services import schema

    with database(database_url, require_current=False) as opened:
        facts = schema.info(opened).json()
    if as_json:
        print_json(facts)
        return
    for key, value in facts.items():
        line(f"{key + ':':<18}{value}")
