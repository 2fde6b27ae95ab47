"""The FHIR feed served read-only under /fhir/: the right types, a max-age, nothing else."""

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from slotgen.web.server import DashboardServer, make_server


@contextmanager
def serving(feed: Path) -> Iterator[DashboardServer]:
    server = make_server("127.0.0.1", 0, lambda: "<p>page</p>", feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(server: DashboardServer, path: str, method: str = "GET") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    connection.request(method, path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    folder = tmp_path / "feed"
    (folder / "slots").mkdir(parents=True)
    (folder / "$bulk-publish").write_text('{"output": []}\n')
    (folder / "locations.ndjson").write_text('{"resourceType":"Location"}\n')
    (folder / "slots" / "facility-1-2027-W09.ndjson").write_text('{"resourceType":"Slot"}\n')
    (folder / "slots" / ".facility-1-2027-W09.ndjson.x.tmp").write_text("half")
    (folder / ".publish.lock").write_text("")
    (tmp_path / "secret.ndjson").write_text("not in the feed")
    return folder


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/fhir/$bulk-publish", "application/json; charset=utf-8"),
        ("/fhir/%24bulk-publish", "application/json; charset=utf-8"),
        ("/fhir/locations.ndjson", "application/fhir+ndjson; charset=utf-8"),
        ("/fhir/slots/facility-1-2027-W09.ndjson", "application/fhir+ndjson; charset=utf-8"),
    ],
)
def test_feed_files_are_served_with_their_type_and_a_max_age(
    feed: Path, path: str, kind: str
) -> None:
    with serving(feed) as server:
        answer = get(server, path)
        head = get(server, path, "HEAD")

    assert answer.status == 200
    assert answer.headers["Content-Type"] == kind
    assert answer.headers["Cache-Control"] == "public, max-age=60"
    assert answer.headers["Last-Modified"]
    assert head.status == 200
    assert head.headers["Content-Length"] == answer.headers["Content-Length"]


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/../secret.ndjson",
        "/fhir/%2e%2e/secret.ndjson",
        "/fhir/.publish.lock",
        "/fhir/slots/.facility-1-2027-W09.ndjson.x.tmp",
        "/fhir/slots/",
        "/fhir/",
        "/fhir/slots//facility-1-2027-W09.ndjson",
    ],
)
def test_nothing_but_the_feeds_files_is_served(feed: Path, path: str) -> None:
    with serving(feed) as server:
        assert get(server, path).status == 404


def test_the_feed_is_read_only(feed: Path) -> None:
    with serving(feed) as server:
        answer = get(server, "/fhir/$bulk-publish", "PUT")

    assert answer.status == 405
    assert (feed / "$bulk-publish").read_text() == '{"output": []}\n'


def test_without_a_feed_folder_fhir_is_not_found(feed: Path) -> None:
    server = make_server("127.0.0.1", 0, lambda: "<p>page</p>")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert get(server, "/fhir/$bulk-publish").status == 404
        assert get(server, "/").status == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
