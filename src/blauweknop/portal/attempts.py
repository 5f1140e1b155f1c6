"""Limits on the verify page's check codes: per client address, and per code.

Per address: a code has 60 random bits, so guessing one is hopeless anyway; the limit also keeps
anyone from using the page to make the server look up codes by the thousand. Per code: a valid
code costs an scrypt to open, so one code checked again and again is limited too.

Counted in the deployment's shared cache, so every process counts together, and counted at once
(an atomic increment) before the work it limits, so requests that come together cannot all slip
under the limit. If the cache cannot be reached the page keeps working (a lost count, not a lost
page), which the 60 bits make safe.
"""

from __future__ import annotations

import ipaddress
import logging

from asgiref.sync import sync_to_async
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections
from django.http import HttpRequest

from blauweknop import shared_cache
from blauweknop.db import lock_name, write_transaction

logger = logging.getLogger(__name__)

WRONG_CODES = 20  # wrong codes per address before the page stops looking codes up
WINDOW = 15 * 60  # seconds after the last wrong code that the count is kept
CHECKS_PER_CODE = 30  # checks of one code within CODE_WINDOW
CODE_WINDOW = 60 * 60  # seconds after the last check of a code that its count is kept


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


def _add(cache_key: str, delta: int, seconds: int) -> int:
    cache.add(cache_key, 0, seconds)
    try:
        count = cache.incr(cache_key, delta)
    except ValueError:  # it expired between add and incr
        cache.set(cache_key, delta, seconds)
        return delta
    cache.touch(cache_key, seconds)
    return count


def count(cache_key: str, delta: int, seconds: int) -> int | None:
    """Add ``delta`` to the count under ``cache_key``, kept ``seconds`` after this; the new count. Blocking.

    ``None`` when the cache cannot be reached.
    """
    try:
        if not isinstance(caches[DEFAULT_CACHE_ALIAS], DatabaseCache):
            return _add(cache_key, delta, seconds)  # Redis increments atomically
        # The database cache's incr reads, then writes: one writer at a time, in one transaction.
        with write_transaction():
            lock_name(cache_key)
            return _add(cache_key, delta, seconds)
    except Exception as exc:
        logger.warning("attempt count not kept: %s", type(exc).__name__)
        return None
    finally:
        for opened in connections.all(initialized_only=True):
            if not opened.in_atomic_block:  # give it back before the request waits on anything else
                opened.close()


def _address_key(request: HttpRequest) -> str:
    return shared_cache.key("controlecode-pogingen", _address(request))


async def take(request: HttpRequest) -> bool:
    """Count one try of a code for this client; whether it may try now (``False``: too many wrong ones).

    A try that turns out right is given back (:func:`give_back`): the count is of wrong and pending tries.
    """
    tries = await sync_to_async(count)(_address_key(request), 1, WINDOW)
    return tries is None or tries <= WRONG_CODES


async def give_back(request: HttpRequest) -> None:
    """Uncount the try of a code that was right."""
    await sync_to_async(count)(_address_key(request), -1, WINDOW)


def code_checked(lookup: str) -> bool:
    """Count one check of the code stored under ``lookup``; whether it may be opened now. Blocking."""
    checks = count(shared_cache.key("controlecode-controles", lookup), 1, CODE_WINDOW)
    return checks is None or checks <= CHECKS_PER_CODE
