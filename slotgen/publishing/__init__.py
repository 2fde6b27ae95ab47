"""The FHIR R4 feed of SMART Scheduling Links: rows in, resources and file names out.

Pure: the publish service reads the rows and writes the files; this package decides what
each line says, so the mapping is tested without a database or a folder. May import the
standard library, `slotgen.core`, `slotgen.vocabulary` and `slotgen.errors`; never the
database, the services, the CLI, the web server or a third-party package (`ruff.toml`).
"""
