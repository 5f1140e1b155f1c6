"""Health endpoints for load balancers and orchestrators, in every role and without login.

``/gezondheid/live``: the process answers (nothing else is touched, so a database outage never
gets healthy processes restarted). ``/gezondheid/klaar``: this process can serve requests now:
the database answers with every migration of this version applied (new pods wait for the migrate
job), for a holder, a requester or a portal a valid scheme document is in hand or can be fetched, and
each holder, requester and portal served here holds the key its scheme entry names to sign with (else
everything it signed would be refused). Each check gets a few seconds at most; the answer names each
check and its outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from blauweknop import keystore, signing
from blauweknop.api import ApiProblem
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import thumbprint
from blauweknop.protocol.scheme_document import Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0  # seconds per check: a probe must get its answer before it gives up itself
# The roles that trust others only through the scheme document, and sign with the key it names for them.
SCHEME_ROLES = {"holder", "requester", "portal"}


@sync_to_async
def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


class NotReady(Exception):
    """A check's own reason, as a short code for the answer."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


_migrated = False  # once every migration is applied, it stays so for this process's version


@sync_to_async
def _migrations() -> None:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise NotReady("pending")
        _migrated = True


def _signs_listed_key(participant: Participant) -> bool:
    """Whether this deployment holds the private key the entry says to sign with, and the entry lists that key."""
    try:
        key = signing.key_for(participant)
    except keystore.MissingKey:
        return False
    return thumbprint(key.public_jwk) in participant.keys.thumbprints()


def _signers() -> list[str]:
    """The OINs this deployment signs for, by its roles: its holders, its requesters and the portal (an app manager)."""
    roles = settings.BLAUWEKNOP_ROLES
    return [
        *(settings.HOLDER_OINS if "holder" in roles else []),
        *(settings.REQUESTER_OINS if "requester" in roles else []),
        *([settings.PORTAL_OIN] if "portal" in roles else []),
    ]


def keys_not_in_scheme(scheme: SchemeDocument) -> list[str]:
    """The OINs this deployment signs for that cannot sign with the key their scheme entry names. Blocking.

    During a rotation that is the entry's ``signing_kid``: its private key must be here once the new key
    takes over, or nothing signed would verify. An OIN the scheme does not list (not admitted yet) is left
    out: nothing is served under it.
    """
    mismatched = [
        oin
        for oin in _signers()
        if (participant := signing.participant_in(scheme, oin)) is not None and not _signs_listed_key(participant)
    ]
    for oin in mismatched:
        logger.warning("%s signs with a key the scheme document does not list for it, or does not hold it", oin)
    return mismatched


def _scheme_problem(scheme: SchemeDocument) -> str | None:
    """Why this deployment cannot serve what the scheme document says it serves, as a code; ``None`` if it can."""
    if keys_not_in_scheme(scheme):
        return "key_not_in_scheme"
    if "holder" not in settings.BLAUWEKNOP_ROLES:
        return None
    from blauweknop.holder.tenants import shared_slugs  # the holder role's own code, only where it runs

    if shared := shared_slugs(scheme):
        logger.warning("two tenants of this holder share the address %.60s: only one can be reached", min(shared))
        return "address_shared"
    return None


async def _scheme() -> None:
    scheme = await scheme_client.current()
    if problem := await sync_to_async(_scheme_problem)(scheme):
        raise NotReady(problem)


@sync_to_async
def _source() -> None:
    from blauweknop.holder.sources import source_adapter  # the holder role's own code, only where it runs

    source_adapter()  # a class that cannot be found or made fails here, not at the first press


def checks() -> dict[str, Callable[[], Awaitable[None]]]:
    """The readiness checks this deployment's roles need, by name."""
    needed: dict[str, Callable[[], Awaitable[None]]] = {"database": _database, "migrations": _migrations}
    if SCHEME_ROLES & set(settings.BLAUWEKNOP_ROLES):
        needed["scheme"] = _scheme
    if "holder" in settings.BLAUWEKNOP_ROLES:
        needed["source"] = _source
    return needed


async def _outcome(name: str, check: Callable[[], Awaitable[None]]) -> str:
    """``ok``, or a short reason: never an exception's text (it may name hosts or users)."""
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception as exc:  # any failure of a check means: not ready
        logger.warning("not ready: the %s check failed (%s)", name, type(exc).__name__)
        if isinstance(exc, TimeoutError):
            return "timeout"
        return exc.code if isinstance(exc, NotReady | ApiProblem | ProtocolError) else "unavailable"
    return "ok"


async def live(request: HttpRequest) -> JsonResponse:
    """200 while the process answers at all."""
    return JsonResponse({"status": "ok"})


async def ready(request: HttpRequest) -> JsonResponse:
    """200 when every check passes; 503 otherwise, with each check's outcome."""
    results = {name: await _outcome(name, check) for name, check in checks().items()}
    ok = all(outcome == "ok" for outcome in results.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": results}, status=200 if ok else 503)
