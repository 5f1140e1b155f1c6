"""The deployment's shared cache (Django's ``cache``) as a place where one process leaves signed tokens for others.

A hint, never a source of trust: whoever takes a token from it verifies it as if it came from the
network (signature against the trust anchor, times, rollback), so a forged or outdated entry costs
one HTTP request, not a wrong answer. A cache that is down, full or slow is not an error either:
reads then find nothing and writes are dropped. (Django's cache unpickles what it reads, so who
may write to it must still be kept out, as for the database.)

It also keeps counts of attempts per client address (:func:`count`), so limits hold across processes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections
from django.http import HttpRequest

from blauweknop.db import lock_name, write_transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")


def key(kind: str, address: str) -> str:
    """The cache key for the ``kind`` of token published at ``address``: one length, whatever the address."""
    return f"blauweknop:{kind}:{hashlib.sha256(address.encode()).hexdigest()}"


def _release() -> None:
    # The database cache took a connection in this thread, and the caller is about to wait on HTTP,
    # perhaps on this same deployment: give it back to the pool first (see blauweknop.db).
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


@contextmanager
def _reaching(failure: str) -> Iterator[None]:
    """Whatever the backend raises is logged as ``failure`` and passed over: without the cache, we fetch."""
    try:
        yield
    except Exception as exc:
        logger.warning("shared cache %s: %s", failure, type(exc).__name__)
    finally:
        _release()


def read(cache_key: str) -> Any:
    """What the cache holds under ``cache_key``, or ``None`` (also when it cannot be reached). Blocking."""
    with _reaching("not readable"):
        return cache.get(cache_key)
    return None


def read_many(cache_keys: list[str]) -> dict[str, Any]:
    """What the cache holds under each of ``cache_keys`` that it has, in one look-up. Blocking."""
    with _reaching("not readable"):
        return cache.get_many(cache_keys)
    return {}


def write(cache_key: str, value: Any, seconds: float) -> None:
    """Leave ``value`` for the other processes for ``seconds``; dropped if the cache cannot take it. Blocking."""
    with _reaching("not writable"):
        cache.set(cache_key, value, timeout=max(1, int(seconds)))


def remembered(cache_key: str, kind: type[T], make: Callable[[], T], seconds: float) -> T:
    """What the cache holds under ``cache_key`` if it is a ``kind``; else ``make()``, left there for ``seconds``.

    For figures that are dear to count and may be a few minutes old. Blocking.
    """
    found = read(cache_key)
    if isinstance(found, kind):
        return found
    made = make()
    write(cache_key, made, seconds)
    return made


def delete(cache_key: str) -> None:
    """Drop the entry under ``cache_key``, if the cache can be reached. Blocking."""
    with _reaching("not writable"):
        cache.delete(cache_key)


# Counting: attempts per client address, shared by every process (portal check codes, requester codes).


def client_address(request: HttpRequest) -> str:
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
