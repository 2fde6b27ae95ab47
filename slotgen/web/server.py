"""Serving the dashboard with the standard library, for a quick look without a web server.

With a feed folder it also serves the FHIR feed `slotgen publish` writes, read-only,
under `/fhir/`: the manifest as application/json, the NDJSON files as
application/fhir+ndjson, each with `Cache-Control: max-age` so polling apps and caches
in between do not fetch a file more often than it can change. Only files of the feed are
served: nothing outside the folder, no hidden or temporary file, no listing.

The page is built anew for every request, so a reload is always current. The server
only answers GET and HEAD: it changes nothing, and a method it does not know is refused
with 405 rather than guessed at. A page that cannot be built gets a one-line 500 (the
traceback goes to the debug log): a stack trace can show paths and SQL to anyone who
can reach the port.
"""

import logging
import socket
import sys
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from slotgen.errors import first_line

log = logging.getLogger("slotgen.dashboard")

PAGE_PATHS = ("/", "/index.html")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
ALLOWED = "GET, HEAD"
FEED_PREFIX = "/fhir/"
MANIFEST_NAME = "$bulk-publish"
FEED_MAX_AGE = 60
"""Seconds a client may keep a feed file: well under the 5 minutes between publishes."""


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], render: Callable[[], str], feed: Path | None = None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.render = render
        self.feed = None if feed is None else feed.resolve()
        super().__init__(address, DashboardHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line, not socketserver's traceback on stderr: a browser that hangs up
        before the page is sent is normal, anything else is logged as an error."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.info("%s went away before the answer was sent", client_address[0])
            return
        log.error("answering %s failed: %s", client_address[0], first_line(error))
        log.debug("answering %s failed", client_address[0], exc_info=True)


class DashboardHandler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "slotgen-dashboard"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def __getattr__(self, name: str) -> Any:
        # http.server answers 501 to any method without a do_ handler; a read-only
        # server says 405 with Allow, whatever the method is called.
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, "405 Method Not Allowed: GET or HEAD only.\n")

    def _answer(self, *, with_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if self.server.feed is not None and path.startswith(FEED_PREFIX):
            self._feed_file(unquote(path[len(FEED_PREFIX) :]), with_body)
            return
        if path not in PAGE_PATHS:
            self._send(HTTPStatus.NOT_FOUND, "404 Not Found: the dashboard is at /\n", with_body)
            return
        try:
            page = self.server.render()
        except Exception as exc:
            log.debug("building the dashboard failed", exc_info=True)
            log.error("building the dashboard failed: %s", type(exc).__name__)
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "500 Internal Server Error: the dashboard could not be built; "
                "see the slotgen log.\n",
                with_body,
            )
            return
        self._send(HTTPStatus.OK, page, with_body, content_type="text/html; charset=utf-8")

    def _feed_file(self, name: str, with_body: bool) -> None:
        found = feed_file(self.server.feed, name) if self.server.feed is not None else None
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, "404 Not Found: no such file in the feed\n", with_body)
            return
        try:
            body = found.read_bytes()
            modified = found.stat().st_mtime
        except OSError:  # replaced by a publish between the lookup and the read
            self._send(HTTPStatus.NOT_FOUND, "404 Not Found: no such file in the feed\n", with_body)
            return
        kind = "application/json" if found.name == MANIFEST_NAME else "application/fhir+ndjson"
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", f"public, max-age={FEED_MAX_AGE}")
        self.send_header("Last-Modified", formatdate(modified, usegmt=True))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def _send(
        self,
        status: HTTPStatus,
        text: str,
        with_body: bool = True,
        content_type: str = "text/plain; charset=utf-8",
    ) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", ALLOWED)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), printable(format % args))

    def log_error(self, format: str, *args: Any) -> None:
        """Said again by the request's own line (with its status): one line per request."""
        log.debug("%s %s", self.address_string(), printable(format % args))


def printable(text: str) -> str:
    """A request line as it may be logged: control characters (ESC, NUL, newlines) a
    client sent are written escaped, so the log stays one line per request and no
    terminal reading it obeys them."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def feed_file(folder: Path, name: str) -> Path | None:
    """The feed's file `name` (`$bulk-publish`, `locations.ndjson`, `slots/...ndjson`), or
    None for anything else: a path out of the folder, a hidden or temporary file."""
    parts = name.split("/")
    if not name or any(not part or part.startswith(".") for part in parts):
        return None
    if name != MANIFEST_NAME and not name.endswith(".ndjson"):
        return None
    candidate = (folder / name).resolve()
    if not candidate.is_relative_to(folder) or not candidate.is_file():
        return None
    return candidate


def make_server(
    host: str, port: int, render: Callable[[], str], feed: Path | None = None
) -> DashboardServer:
    """A bound server (port 0 picks a free one) that serves `render()`'s page, and the
    FHIR feed in `feed` under /fhir/ when given."""
    return DashboardServer((host, port), render, feed)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK
