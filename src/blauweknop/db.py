"""Database connections, waiting on other services, and SQLite's writers taking turns.

A request holds its database connection until it ends. If it waits on another service while
holding it (a holder, the scheme operator, a status list), a few slow calls can take every
connection of the pool, and when that service is this same process (the demo, or roles that
share a deployment) the inner request can never get one: a deadlock until the pool times out.
So a view gives its connection back before it waits; the next query simply takes one again.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from asgiref.sync import sync_to_async
from django.db import connections, transaction

# SQLite has one writer at a time. A writer that finds the lock taken sleeps in SQLite's busy
# handler in growing steps (up to 100 ms) and may lose to a newcomer, so under load one request
# waits hundreds of milliseconds while the lock is mostly free. Writers of one process queue here
# instead, first come first served; other processes still meet SQLite's own lock.
_sqlite_writer = threading.Lock()


def release() -> None:
    """Give this thread's database connections back (to the pool) before it waits on another party. Blocking.

    Inside a transaction they stay: it needs its connection until it ends.
    """
    if not any(connection.in_atomic_block for connection in connections.all(initialized_only=True)):
        connections.close_all()


async def release_before_waiting() -> None:
    """Return this request's database connections (to the pool) before an outbound call."""
    await sync_to_async(release)()


@contextmanager
def write_transaction(using: str = "default") -> Iterator[None]:
    """``transaction.atomic()`` for a short transaction that writes; on SQLite, in turn with this process's writers.

    Inside a transaction already begun it only nests: that one may hold SQLite's lock already.
    """
    if connections[using].vendor != "sqlite" or connections[using].in_atomic_block:
        with transaction.atomic(using=using):
            yield
        return
    with _sqlite_writer, transaction.atomic(using=using):
        yield


def lock_name(name: str, using: str = "default") -> None:
    """Inside a writing transaction: wait until no other transaction holds ``name``, then hold it until this one ends.

    For a read, then a write that depends on it. On PostgreSQL an advisory lock; SQLite's writing
    transaction already lets one writer in at a time.
    """
    if connections[using].vendor == "postgresql":
        number = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def erase_deleted(using: str = "default") -> None:
    """After a delete that must really delete (a citizen's vault): no old copy of the rows stays on disk.

    SQLite overwrites a deleted row in place (``secure_delete``), but in WAL mode the main file keeps the
    page as it was until a checkpoint, and the WAL keeps the row's earlier frames. A truncating checkpoint
    writes the overwritten pages home and empties the WAL; if a reader holds the WAL meanwhile it does what it
    can, and SQLite's next automatic checkpoint does the rest. PostgreSQL reuses the space at (auto)vacuum.
    """
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
