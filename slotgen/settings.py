"""Settings that ops people tune through the environment rather than per command."""

import os

from slotgen.errors import BadInput

DEFAULT_LEASE_SECONDS = 120


def lease_seconds() -> int:
    """How long a run's heartbeat stays fresh (SLOTGEN_LEASE_SECONDS).

    On SQLite the fresh heartbeat of a 'running' row is the job's lock: a run killed with
    SIGKILL holds it until the lease runs out. On every backend a 'running' row whose
    heartbeat is older than this is reported as stuck by `slotgen check`.
    """
    text = os.environ.get("SLOTGEN_LEASE_SECONDS", "")
    if not text:
        return DEFAULT_LEASE_SECONDS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise BadInput(f"SLOTGEN_LEASE_SECONDS must be a whole number of seconds, got {text!r}")
    return value
