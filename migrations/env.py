"""Alembic environment: run on the connection slotgen hands over, or on SLOTGEN_DATABASE_URL."""

import os

from alembic import context
from sqlalchemy import Connection

from slotgen.db.engine import open_engine
from slotgen.db.schema import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ["SLOTGEN_DATABASE_URL"]
    engine = open_engine(url)
    try:
        with engine.begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("slotgen migrations run online only: use `slotgen db upgrade`")
run_online()
