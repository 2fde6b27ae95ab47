"""The dashboard server's log: one line per request, nothing a client sends can forge or
colour it, and a client that hangs up early is a line at INFO, not a traceback."""

import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from slotgen.web.server import DashboardServer, make_server, printable


@contextmanager
def serving(render: Callable[[], str]) -> Iterator[DashboardServer]:
    server = make_server("127.0.0.1", 0, render)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def raw_request(server: DashboardServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.server_port)) as client:
        client.sendall(data)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


def test_control_characters_in_a_request_line_are_logged_escaped_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="slotgen.dashboard"), serving(lambda: "") as server:
        answer = raw_request(server, b"GET /\x1b[31mred\x00 HTTP/1.1 junk\r\n\r\n")

    assert b"400" in answer
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(shown) == 1, shown
    assert "\x1b" not in shown[0]
    assert "\x00" not in shown[0]
    assert "\\x1b[31mred\\x00" in shown[0]


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("GET /\x1b]0;owned\x07 HTTP/1.1\n") == "GET /\\x1b]0;owned\\x07 HTTP/1.1\\n"
    assert printable("GET /Zürich HTTP/1.1") == "GET /Zürich HTTP/1.1"


def test_a_client_that_hangs_up_early_is_one_line_and_no_traceback(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    closed = threading.Event()

    def slow_page() -> str:
        closed.wait(30)  # the page is built only after the client has gone
        return "x" * 4_000_000

    with caplog.at_level(logging.INFO, logger="slotgen.dashboard"), serving(slow_page) as server:
        client = socket.create_connection(("127.0.0.1", server.server_port))
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        # Close with a reset, as a browser tab that is shut mid-load does.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        closed.set()
        for _ in range(200):
            if any("went away" in r.getMessage() for r in caplog.records):
                break
            threading.Event().wait(0.05)

    messages = [r.getMessage() for r in caplog.records]
    assert any("127.0.0.1 went away before the answer was sent" in m for m in messages)
    _, err = capfd.readouterr()
    assert "Traceback" not in err
