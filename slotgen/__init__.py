"""slotgen keeps a clinic booking app's bookable slots in step with its availability rules."""

__version__ = "0.1.0"
