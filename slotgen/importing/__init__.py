"""Pure readers of schedule files (TOML, JSON, CSV): text in, checked rows and problems out.

Reading a file from disk and writing its rows are the import service's work; this package
only parses and checks, so every message a person sees is tested without a database. May
import the standard library, `slotgen.core` (the checks generate applies),
`slotgen.vocabulary` and `slotgen.errors`; never the database, the CLI or a third-party
package (`ruff.toml` fences it).
"""
