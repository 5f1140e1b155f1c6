"""A limit on request bodies, enforced in front of Django.

Django's ASGI handler reads a whole request body (into a temporary file that spills to disk)
before it looks at the address or the login, so an unbounded upload to any address would fill
the disk. :class:`BodyLimit` refuses a body larger than its limit with 413 before reading it:
at once when ``Content-Length`` says so, and otherwise as soon as the bytes received (for
example in a chunked body) pass the limit. The verify page takes a larger upload than the rest.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

from blauweknop.api import generic_problem, is_api_path

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A correction request may carry an attachment of up to 4 MB (blauweknop.attachments): the portal's form takes
# it as a file, the holder API it goes on to as base64 (4/3 of that), each with a little room around it.
ATTACHMENT_PATH = re.compile(r"/organisaties/[0-9]{1,20}/correctie/|/[A-Za-z0-9_-]{1,100}/api/v1/correctieverzoeken")
ATTACHMENT_BODY = 6 * 1024 * 1024


def body_limit(path: str) -> int:
    """The largest request body, in bytes, that ``path`` accepts."""
    if ATTACHMENT_PATH.fullmatch(path):
        return ATTACHMENT_BODY
    return settings.MAX_UPLOAD_BODY if path in settings.UPLOAD_PATHS else settings.MAX_REQUEST_BODY


def declared_length(scope: Scope) -> int | None:
    """The body length the client announced, if it announced one that is a number."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length" and value.isdigit():
            return int(value)
    return None


def too_large(path: str) -> HttpResponse:
    """413: problem+json under an API, a plain-language page elsewhere."""
    page = "413_attachment.html" if ATTACHMENT_PATH.fullmatch(path) else "413.html"
    response = generic_problem(413) if is_api_path(path) else HttpResponse(render_to_string(page), status=413)
    response["Cache-Control"] = "no-store"
    response["Connection"] = "close"  # the rest of the body is never read
    return response


async def send_response(response: HttpResponse, send: Send) -> None:
    """Send a small, complete Django response over ASGI."""
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
    headers.append((b"content-length", str(len(response.content)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})


class BodyLimit:
    """ASGI middleware: refuse request bodies over :func:`body_limit` with 413, reading no further."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        announced = declared_length(scope)
        if announced is not None and announced > limit:
            await send_response(too_large(scope["path"]), send)
            return
        received = 0
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # To Django this looks like a client that left: it stops reading and answers nothing.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, send)
        if exceeded:
            await send_response(too_large(scope["path"]), send)
