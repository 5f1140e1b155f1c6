"""Database connections and waiting on other services.

A request holds its database connection until it ends. If it waits on another service while
holding it (a holder, the scheme operator, a status list), a few slow calls can take every
connection of the pool, and when that service is this same process (the demo, or roles that
share a deployment) the inner request can never get one: a deadlock until the pool times out.
So a view gives its connection back before it waits; the next query simply takes one again.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db import connections


async def release_before_waiting() -> None:
    """Return this request's database connections (to the pool) before an outbound call."""
    await sync_to_async(connections.close_all)()
