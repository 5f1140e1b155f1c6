"""A limit on wrong check codes per client address, so the verify page cannot be used to guess codes.

A code has 60 random bits, so guessing one is hopeless anyway; the limit also keeps anyone from
using the page to make the server look up codes by the thousand. Counted in the deployment's
shared cache, so every process counts together. If the cache cannot be reached the page keeps
working (a lost count, not a lost page), which the 60 bits make safe.
"""

from __future__ import annotations

import ipaddress

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from blauweknop import shared_cache

WRONG_CODES = 20  # wrong codes per address before the page stops looking codes up
WINDOW = 15 * 60  # seconds after the last wrong code that the count is kept


def _address(request: HttpRequest) -> str:
    """The client's address; an IPv6 client is counted by its /64 network, which one household gets."""
    raw = request.META.get("REMOTE_ADDR") or "-"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(request: HttpRequest) -> str:
    return shared_cache.key("controlecode-pogingen", _address(request))


async def blocked(request: HttpRequest) -> bool:
    """Whether this client typed too many wrong codes lately."""
    count = await sync_to_async(shared_cache.read)(_key(request))
    return isinstance(count, int) and count >= WRONG_CODES


async def count_wrong(request: HttpRequest) -> None:
    """Count one wrong code for this client; the count lasts :data:`WINDOW` after the last one."""
    key = _key(request)
    count = await sync_to_async(shared_cache.read)(key)
    await sync_to_async(shared_cache.write)(key, (count if isinstance(count, int) else 0) + 1, WINDOW)
