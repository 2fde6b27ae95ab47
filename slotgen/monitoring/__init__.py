"""Pure job monitoring: run records, durations, and the health rules behind `check`.

What `slotgen check`, `slotgen runs` and the dashboard decide about the jobs is decided
here, from plain values and a `now` given by the caller, so every rule is tested without a
database. May import the standard library, `slotgen.vocabulary` and `slotgen.errors`;
never the database, the CLI, the web page or a third-party package (`ruff.toml` fences it).
"""
