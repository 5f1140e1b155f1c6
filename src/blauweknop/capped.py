"""Reading another party's answer with a cap, so a hostile or broken server cannot fill this process's memory."""

from __future__ import annotations

import httpx


class TooLarge(Exception):
    """The answer is longer than what was asked for can be: reading stopped at the cap."""

    code = "too_large"


def read_at_most(response: httpx.Response, limit: int, too_large: type[TooLarge] = TooLarge) -> bytes:
    """The raw body of a streamed ``response``; ``too_large`` as soon as more than ``limit`` bytes arrived.

    Ask for ``Accept-Encoding: identity``: the raw bytes are then what the cap counts (no gzip bomb).
    """
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > limit:
            raise too_large(f"the answer is larger than {limit} bytes")
    return bytes(body)


async def aread_at_most(response: httpx.Response, limit: int, too_large: type[TooLarge] = TooLarge) -> bytes:
    """:func:`read_at_most` for a response streamed by an async client."""
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > limit:
            raise too_large(f"the answer is larger than {limit} bytes")
    return bytes(body)
