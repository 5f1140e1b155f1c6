"""Calls to another party (a holder, the portal, a status list's publisher): timed, and read with a cap.

Whoever answers may be slow or hostile: every call has a deadline for the whole exchange, connecting,
headers and body (a server that sends a byte a second must not hold a thread for long; only a cancelled
coroutine stops in the middle of reading headers), and no answer is read beyond what it can sensibly hold.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import httpx
from django.conf import settings

from blauweknop import db
from blauweknop.capped import aread_at_most
from blauweknop.protocol.status_list import MAX_TOKEN_BYTES

CONNECT_TIMEOUT = 3.0


class NotServed(Exception):
    """The other party answered, but not with what was asked for (an HTTP status other than 200)."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every outgoing call: loading the CA bundle anew took ~30 ms a call."""
    return httpx.create_ssl_context()


async def exchange(method: str, url: str, *, limit: int, deadline: float, **kwargs: Any) -> tuple[int, str, bytes]:
    """One HTTP call within ``deadline`` seconds in all: its status, content type and at most ``limit`` raw bytes.

    Raises what the transport raises, ``TimeoutError`` at the deadline and :class:`capped.TooLarge`.
    """
    # Raw bytes, no content coding: the cap is then what the answer costs in memory.
    headers = {"Accept-Encoding": "identity", **kwargs.pop("headers", {})}
    timeout = httpx.Timeout(deadline, connect=min(deadline, CONNECT_TIMEOUT))
    async with (
        asyncio.timeout(deadline),
        httpx.AsyncClient(timeout=timeout, verify=tls_context()) as client,
        client.stream(method, url, headers=headers, **kwargs) as response,
    ):
        return response.status_code, response.headers.get("Content-Type", ""), await aread_at_most(response, limit)


def exchange_from_thread(
    method: str, url: str, *, limit: int, deadline: float, **kwargs: Any
) -> tuple[int, str, bytes]:
    """:func:`exchange` from a thread of its own. Blocking; raises as :func:`exchange` does.

    The thread's database connections go back to the pool first (:func:`blauweknop.db.release`): the other party
    may be this very process, and ten calls each holding one while they waited once took a whole pool of ten
    from the portal they waited on.
    """
    db.release()
    return asyncio.run(exchange(method, url, limit=limit, deadline=deadline, **kwargs))


def download_status_list(uri: str) -> str:
    """A status list token from its publisher, unverified, within ``STATUS_LIST_DEADLINE`` seconds. Blocking.

    Raises as :func:`exchange` does, and :class:`NotServed` when the publisher does not answer 200.
    """
    headers = {"Accept": "application/statuslist+jwt"}
    deadline = settings.STATUS_LIST_DEADLINE
    status, _, raw = exchange_from_thread("GET", uri, headers=headers, limit=MAX_TOKEN_BYTES, deadline=deadline)
    if status != 200:
        raise NotServed(f"HTTP {status}")
    return raw.decode("utf-8")
