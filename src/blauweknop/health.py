"""Health endpoints for load balancers and orchestrators, in every role and without login.

``/gezondheid/live``: the process answers (nothing else is touched, so a database outage never
gets healthy processes restarted). ``/gezondheid/klaar``: this process can serve requests now:
the database answers and, for a holder or a portal, a valid scheme document is in hand or can be
fetched. Each check gets a few seconds at most; the answer names each check and its outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from blauweknop.scheme.client import SchemeUnavailable, scheme_client

logger = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0  # seconds per check: a probe must get its answer before it gives up itself
SCHEME_ROLES = {"holder", "portal"}  # the roles that trust others only through the scheme document


@sync_to_async
def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _scheme() -> None:
    await scheme_client.current()


def checks() -> dict[str, Callable[[], Awaitable[None]]]:
    """The readiness checks this deployment's roles need, by name."""
    needed: dict[str, Callable[[], Awaitable[None]]] = {"database": _database}
    if SCHEME_ROLES & set(settings.BLAUWEKNOP_ROLES):
        needed["scheme"] = _scheme
    return needed


async def _outcome(name: str, check: Callable[[], Awaitable[None]]) -> str:
    """``ok``, or a short reason: never an exception's text (it may name hosts or users)."""
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception as exc:  # any failure of a check means: not ready
        logger.warning("not ready: the %s check failed (%s)", name, type(exc).__name__)
        if isinstance(exc, TimeoutError):
            return "timeout"
        return exc.code if isinstance(exc, SchemeUnavailable) else "unavailable"
    return "ok"


async def live(request: HttpRequest) -> JsonResponse:
    """200 while the process answers at all."""
    return JsonResponse({"status": "ok"})


async def ready(request: HttpRequest) -> JsonResponse:
    """200 when every check passes; 503 otherwise, with each check's outcome."""
    results = {name: await _outcome(name, check) for name, check in checks().items()}
    ok = all(outcome == "ok" for outcome in results.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": results}, status=200 if ok else 503)
