"""Tell a cron monitor (healthchecks.io style) about every run: start, success, failure.

A monitor that is down or slow must never hold up the job: each ping has a short
timeout and a failure is only logged, naming the monitor's host, never the credentials
a URL like `https://user:secret@host/...` carries.
"""

import logging
from urllib.parse import urlsplit

from slotgen.logs import hide

log = logging.getLogger("slotgen.ping")

TIMEOUT_SECONDS = 3.0


def ping(base_url: str | None, event: str, run_id: int) -> None:
    """`event` is "start", "" (success) or an exit code; the run id goes as `rid`."""
    if not base_url:
        return
    from urllib.error import URLError  # urllib.request costs 5 ms: only runs that ping pay it
    from urllib.request import Request, urlopen

    url = base_url.rstrip("/") + (f"/{event}" if event else "") + f"?rid={run_id}"
    parts = urlsplit(url)
    if parts.password:
        hide((parts.password,))
    where = parts.hostname or "?"
    if parts.port:
        where += f":{parts.port}"
    try:
        with urlopen(Request(url, method="POST", data=b""), timeout=TIMEOUT_SECONDS):
            pass
    except (URLError, OSError, ValueError) as exc:
        log.warning("Could not ping the monitor at %s: %s", where, exc)
