"""The database layer: the only part of slotgen that speaks SQL."""
