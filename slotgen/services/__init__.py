"""Units of work: open a transaction, load, call the pure core, write, report."""
