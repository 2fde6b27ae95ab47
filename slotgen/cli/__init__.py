"""The `slotgen` command line: parse options, call one service, render its result.

One module per command (or command group), none importing another; what they share is
in `options` (the options declared once, the database they name) and `output`/`views`
(consoles, tables, times, shared renderings). Services are imported inside each command,
so `slotgen --help` and a command that never touches the database load no database code.
May import `slotgen.services`, the pure packages, Typer and rich; never `slotgen.db`,
SQLAlchemy or Alembic (`ruff.toml` fences it).
"""
