"""The scheme operator being down does not take the scheme down (issue 6, item 5).

The last verified scheme document stays in use until its own ``exp``; after that, pages say so in
plain words (503) and APIs answer problem+json 503. A hanging operator never stalls requests.
"""

import asyncio
import logging
import socket
import threading
import time

import httpx
import pytest

from blauweknop.holder.models import SourceRecord
from blauweknop.scheme import client, publication
from blauweknop.scheme.client import scheme_client
from tests.holder.test_issue_credential import BELASTING, _assertion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def closed_port():
    """An address where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/stelsel"


@pytest.fixture
def hanging_operator():
    """An operator that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/stelsel"


def _issue(server, wallet):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "documentsoort": "inkomen"}
    return httpx.post(f"{server.url}/belastingkantoor/api/v1/verklaringen", json=body, timeout=30)


def test_it_keeps_working_on_the_last_document_while_the_operator_is_down(
    demo_world, wallet, settings, monkeypatch, closed_port, caplog
):
    assert httpx.get(demo_world.url + "/", timeout=30).status_code == 200  # the document is in hand
    settings.SCHEME_URL = closed_port
    monkeypatch.setattr(client, "REFRESH_AFTER", 0)  # as if five minutes had passed
    monkeypatch.setattr(client, "RETRY_AFTER", 0)
    assert httpx.get(demo_world.url + "/", timeout=30).status_code == 200
    assert _issue(demo_world, wallet).status_code == 201
    deadline = time.monotonic() + 5
    while "scheme document refresh failed" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "scheme document refresh failed" in caplog.text


def test_a_hanging_operator_stalls_no_request(demo_world, settings, monkeypatch, hanging_operator):
    assert httpx.get(demo_world.url + "/", timeout=30).status_code == 200
    settings.SCHEME_URL = hanging_operator
    monkeypatch.setattr(client, "REFRESH_AFTER", 0)

    async def many() -> list[tuple[int, float]]:
        async with httpx.AsyncClient(timeout=30) as http:

            async def one() -> tuple[int, float]:
                started = time.monotonic()
                response = await http.get(demo_world.url + "/")
                return response.status_code, time.monotonic() - started

            return await asyncio.gather(*(one() for _ in range(20)))

    answers = asyncio.run(many())
    assert [status for status, _ in answers] == [200] * 20
    assert max(seconds for _, seconds in answers) < 3  # the fetch hangs for 10 s; nobody waits for it


def test_after_the_last_document_expires_pages_and_apis_say_503(demo_world, wallet, settings, monkeypatch, closed_port):
    monkeypatch.setattr(publication, "VALID_FOR", 2)
    publication.publish()
    scheme_client.forget()
    assert httpx.get(demo_world.url + "/", timeout=30).status_code == 200
    settings.SCHEME_URL = closed_port
    time.sleep(2.5)
    page = httpx.get(demo_world.url + "/", timeout=30)
    assert page.status_code == 503
    assert "werkt nu even niet" in page.text and "Traceback" not in page.text
    api = _issue(demo_world, wallet)
    assert api.status_code == 503
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json()["code"] == "scheme_unavailable"


def test_without_any_document_the_first_request_says_503_not_500(deployment, settings, closed_port, caplog):
    settings.SCHEME_URL = closed_port
    with caplog.at_level(logging.ERROR):
        page = httpx.get(deployment.url + "/", timeout=30)
    assert page.status_code == 503
    assert "no valid scheme document" in caplog.text


@pytest.fixture
def endless_operator():
    """An operator that answers with a body twice the cap, and counts the bytes it got out before the reader hung up."""
    sent = {"bytes": 0, "accept_encoding": None}
    size = 2 * client.MAX_DOCUMENT_BYTES
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)

        def serve() -> None:
            connection, _ = sock.accept()
            with connection:
                request = connection.recv(65536).decode("latin-1").lower()
                sent["accept_encoding"] = request.partition("accept-encoding:")[2].partition("\r\n")[0].strip()
                connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
                chunk = b"A" * 65536
                try:
                    while sent["bytes"] < size:
                        sent["bytes"] += connection.send(chunk)
                except OSError:
                    pass  # the reader stopped: what it was sent so far is the figure

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/stelsel", sent, thread


def test_it_refuses_a_scheme_document_larger_than_the_limit(
    demo_world, settings, monkeypatch, endless_operator, caplog
):
    url, sent, thread = endless_operator
    assert httpx.get(demo_world.url + "/", timeout=30).status_code == 200  # the document is in hand
    in_hand = asyncio.run(scheme_client.current())
    settings.SCHEME_URL = url
    monkeypatch.setattr(client, "REFRESH_AFTER", 0)  # the shared copy is too old: go to the operator

    scheme_client.refresh()
    thread.join(timeout=30)

    assert "scheme document refresh failed" in caplog.text and "scheme_too_large" in caplog.text
    assert sent["accept_encoding"] == "identity"  # no content coding: no gzip bomb either
    # The reader hung up at the cap: far less than the body went out (the rest is socket buffers).
    assert sent["bytes"] < 1.5 * client.MAX_DOCUMENT_BYTES
    assert asyncio.run(scheme_client.current()) is in_hand
