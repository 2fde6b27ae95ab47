"""The dashboard's page: its model (decided from plain values), rendering, and HTTP serving.

The model is computed from records the dashboard service reads, with `now` and the page's
zone given, so what a page says is tested without a browser or a database. May import
the standard library, `slotgen.monitoring`, `slotgen.vocabulary` and `slotgen.errors`;
never the database, the services, the CLI or a third-party package (`ruff.toml`).
"""
