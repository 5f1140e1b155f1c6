"""The deployment's shared cache (Django's ``cache``) as a place where one process leaves signed tokens for others.

A hint, never a source of trust: whoever takes a token from it verifies it as if it came from the
network (signature against the trust anchor, times, rollback), so a forged or outdated entry costs
one HTTP request, not a wrong answer. A cache that is down, full or slow is not an error either:
reads then find nothing and writes are dropped. (Django's cache unpickles what it reads, so who
may write to it must still be kept out, as for the database.)
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)


def key(kind: str, address: str) -> str:
    """The cache key for the ``kind`` of token published at ``address``: one length, whatever the address."""
    return f"blauweknop:{kind}:{hashlib.sha256(address.encode()).hexdigest()}"


def _release() -> None:
    # The database cache took a connection in this thread, and the caller is about to wait on HTTP,
    # perhaps on this same deployment: give it back to the pool first (see blauweknop.db).
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def read(cache_key: str) -> Any:
    """What the cache holds under ``cache_key``, or ``None`` (also when it cannot be reached). Blocking."""
    try:
        return cache.get(cache_key)
    except Exception as exc:  # whatever the backend raises: without the cache we fetch, as before it
        logger.warning("shared cache not readable: %s", type(exc).__name__)
        return None
    finally:
        _release()


def write(cache_key: str, value: Any, seconds: float) -> None:
    """Leave ``value`` for the other processes for ``seconds``; dropped if the cache cannot take it. Blocking."""
    try:
        cache.set(cache_key, value, timeout=max(1, int(seconds)))
    except Exception as exc:  # the next process simply fetches for itself
        logger.warning("shared cache not writable: %s", type(exc).__name__)
    finally:
        _release()


def delete(cache_key: str) -> None:
    """Drop the entry under ``cache_key``, if the cache can be reached. Blocking."""
    try:
        cache.delete(cache_key)
    except Exception as exc:
        logger.warning("shared cache not writable: %s", type(exc).__name__)
    finally:
        _release()
