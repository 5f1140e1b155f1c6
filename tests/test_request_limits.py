"""Oversized request bodies are refused before they are read, at any address, without login."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvicorn
from django.conf import settings

from blauweknop.asgi import application

CHUNK = 64 * 1024
UNKNOWN_API = "/bestaat-niet/api/v1/iets"


def call(path: str, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]) -> tuple[dict, int]:
    """Call the ASGI application as a server would; return the response and how many chunks it read."""
    read = 0
    ended = False
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read, ended
        if ended:  # like a server: the next message is a disconnect, which never comes here
            await asyncio.Future()
        try:
            body = next(chunks)
        except StopIteration:
            ended = True
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": body, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    # A thread of its own: Playwright's sync API may keep an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, application(scope, receive, send)).result()
    start, *bodies = sent
    response = {
        "status": start["status"],
        "headers": {name.decode(): value.decode() for name, value in start["headers"]},
        "body": b"".join(body.get("body", b"") for body in bodies),
    }
    return response, read


def endless() -> Iterator[bytes]:
    while True:
        yield b"x" * CHUNK


def must_not_be_read() -> Iterator[bytes]:
    raise AssertionError("the body was read")
    yield b""  # pragma: no cover


def test_it_refuses_an_announced_5_gb_body_without_reading_it():
    response, read = call(UNKNOWN_API, [(b"content-length", b"5000000000")], must_not_be_read())
    assert (response["status"], read) == (413, 0)
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert json.loads(response["body"])["code"] == "too_large"


def test_it_refuses_an_endless_chunked_body_once_it_passes_the_limit():
    response, read = call(UNKNOWN_API, [(b"transfer-encoding", b"chunked")], endless())
    assert response["status"] == 413
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert read == settings.MAX_REQUEST_BODY // CHUNK + 1, "it stops at the first chunk past the limit"


def test_it_refuses_an_oversized_page_post_with_a_plain_page():
    response, _ = call("/bestaat-niet/", [(b"transfer-encoding", b"chunked")], endless())
    assert response["status"] == 413
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "Dit is te groot" in response["body"].decode()


def test_the_verify_page_takes_a_2_mb_upload_and_no_more():
    upload = 2 * 1024 * 1024
    body = (
        b"--grens\r\nContent-Disposition: form-data; name=bestand; filename=kopie.sdjwt\r\n\r\n"
        + b"x" * upload
        + b"\r\n--grens--\r\n"
    )
    headers = [(b"content-type", b"multipart/form-data; boundary=grens"), (b"content-length", str(len(body)).encode())]
    taken, _ = call("/controleren/", headers, iter([body]))
    assert taken["status"] == 403, "past the limit: Django's CSRF check answers, the body was read"
    too_large, _ = call("/controleren/", [(b"transfer-encoding", b"chunked")], endless())
    assert too_large["status"] == 413


@pytest.fixture
def http_server() -> Iterator[tuple[str, int]]:
    """The ASGI application behind a real uvicorn on a free port, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)


def test_it_stops_a_chunked_upload_over_real_http(http_server):
    sent = 0
    with socket.create_connection(http_server, timeout=10) as connection:
        connection.sendall(
            f"POST {UNKNOWN_API} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
        try:
            while sent < 50 * 1024 * 1024:  # 50 MB at most; the server must answer long before
                connection.sendall(chunk)
                sent += CHUNK
        except OSError:  # the server closed the connection: what we sent was not read
            pass
        answer = connection.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413")
    assert "application/problem+json" in answer
    assert sent < 50 * 1024 * 1024, "the server read on instead of closing the connection"
