"""A small threaded HTTP proxy in front of the live server, that can break exactly one thing.

The demo is seeded with the proxy's address as its base URL, so that the scheme document, the issuer URLs
and the status list URIs all point at the proxy: whatever a participant would say or serve, the proxy can
change on its way out. ``proxy.handler(request, upstream)`` answers each request; ``upstream()`` asks the
live server. The default hands every answer on unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass(frozen=True)
class Request:
    """A request as the proxy received it."""

    method: str
    path: str  # with the query
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """An answer as the proxy sends it on."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    trickle: float = 0.0  # seconds between the body's bytes: a slow-loris participant; 0 sends it at once

    def with_body(self, body: bytes, content_type: str | None = None) -> Answer:
        """This answer with another body (and Content-Type)."""
        headers = dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        return replace(self, headers=headers, body=body)

    def without(self, header: str) -> Answer:
        """This answer without ``header``."""
        return replace(self, headers={k: v for k, v in self.headers.items() if k.lower() != header.lower()})


Handler = Callable[[Request, Callable[[], Answer]], Answer]


def passthrough(request: Request, upstream: Callable[[], Answer]) -> Answer:
    """Hand the live server's answer on unchanged."""
    return upstream()


class Proxy:
    """The proxy; ``url`` is where it listens, ``handler`` what it does."""

    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url.rstrip("/")
        self.handler: Handler = passthrough
        self._client = httpx.Client(timeout=30)
        proxy = self

        class _Served(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                answer = proxy.handler(request, lambda: proxy.forward(request))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if not answer.trickle:
                    self.wfile.write(answer.body)
                    return
                for byte in answer.body:
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:  # the kit gave up waiting
                        return
                    time.sleep(answer.trickle)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _any

            def log_message(self, *args: object) -> None:  # the live server logs what matters
                pass

        self._server = ThreadingHTTPServer(("localhost", 0), _Served)
        self._server.daemon_threads = True
        self.url = f"http://localhost:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def forward(self, request: Request) -> Answer:
        """Ask the live server, as the proxy's caller asked the proxy."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Accept-Encoding"] = "identity"
        response = self._client.request(
            request.method, self.upstream_url + request.path, headers=headers, content=request.body
        )
        return Answer(response.status_code, dict(response.headers.items()), response.content)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
