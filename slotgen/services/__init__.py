"""Every use case of slotgen, as `fn(database, request, now) -> result`.

Each service owns its unit of work: it opens the transactions, reads through
`slotgen.db`, decides with the pure packages (`core`, `monitoring`, `importing`, `web`'s
model) and returns a typed, frozen result that the CLI only renders. Requests are
checked here, so bad input is refused before anything is written. May import every
slotgen package but `slotgen.cli`, and SQLAlchemy for its types and errors; never Typer
or rich (`ruff.toml` fences it). SQL itself lives in `slotgen.db`.
"""
