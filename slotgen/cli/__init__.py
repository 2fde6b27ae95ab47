"""The `slotgen` command line: thin Typer commands over the services in slotgen."""
