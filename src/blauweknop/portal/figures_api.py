"""``GET /appbeheerder/api/v1/cijfers``: the app manager's counts per requester, for the scheme operator's monitoring.

Counts only (:mod:`blauweknop.protocol.figures`): no personal data, no pseudonyms, no consent ids. Still,
an exact count of one day for one requester can tell that one citizen refused or withdrew, so only the
scheme operator reads them: it sends a client assertion signed with its current key, in the ``Authorization``
header (``Bearer``), checked against the trust anchor the scheme document is checked with. Each assertion
is used once, and the operator asks at most :data:`MAX_PER_HOUR` times an hour (each new period is counted
afresh). A period is whole days and at most :data:`MAX_DAYS` long; the counting is cached
(:func:`blauweknop.portal.figures.cached_requester_figures`).
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from blauweknop import shared_cache
from blauweknop.api import ApiProblem
from blauweknop.portal.figures import cached_requester_figures
from blauweknop.protocol import client_assertion, figures
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.validity import DEFAULT_LEEWAY
from blauweknop.scheme.client import scheme_client, trust_anchor

logger = logging.getLogger(__name__)

router = Router(tags=["cijfers"])

DEFAULT_DAYS = 30
MAX_DAYS = 366
OLDEST = timedelta(days=3 * 366)  # nothing older is kept: asking further back only costs counting
MAX_PER_HOUR = 60  # the monitoring page asks once per app manager every few minutes
MAX_ASSERTION = 8000  # characters: an assertion is a few hundred
BEARER = "Bearer "


class Vrager(Schema):
    oin: str = Field(description="OIN of the requester.")
    verzoekenBeantwoord: int = Field(description="Requests the citizen decided on: approvals plus refusals.")
    toestemmingen: int = Field(description="Requests the citizen approved.")
    weigeringen: int = Field(description="Requests the citizen refused.")
    intrekkingen: int = Field(description="Consents the citizen withdrew.")
    ophalingen: int = Field(description="Fetches under standing access that delivered data.")
    ophalingenGeweigerd: int = Field(description="Fetches the app manager refused.")
    ophalingenNaIntrekking: int = Field(
        description="Fetches refused because the citizen had withdrawn the consent, tried after the requester knew: "
        "after this app manager's notice of the withdrawal reached it, or after an earlier refusal under that consent."
    )


class Cijfers(Schema):
    appbeheerder: str = Field(description="OIN of this app manager.")
    vanaf: date = Field(description="First day counted.")
    tot: date = Field(description="The day after the last day counted.")
    vragers: list[Vrager]


def period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The period asked for: by default the last :data:`DEFAULT_DAYS` days including ``today``; checked."""
    end = end or today + timedelta(days=1)
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise ApiProblem(400, "invalid_period", "'vanaf' must be before 'tot'.")
    if (end - start).days > MAX_DAYS:
        raise ApiProblem(400, "invalid_period", f"A period is at most {MAX_DAYS} days.")
    if start < today - OLDEST or end > today + timedelta(days=MAX_DAYS):
        raise ApiProblem(400, "invalid_period", "Ask for days in the last three years.")
    return start, end


def audience(scheme: SchemeDocument) -> str:
    """The exact URL the operator's assertion must name: our published ``fetch`` endpoint + ``/cijfers``."""
    manager = scheme.app_managers.get(settings.PORTAL_OIN)
    if manager is None or "fetch" not in manager.endpoints:
        raise ApiProblem(503, "unavailable", "This app manager is not in the scheme document now.")
    return manager.endpoints["fetch"] + "/cijfers"


def operator_only(header: str, scheme: SchemeDocument) -> None:
    """Let only the scheme operator through: its assertion in ``header``, used once, within the hourly limit.

    Blocking (the trust anchor may be read from disk, the replay count is in the shared cache).
    """
    token = header[len(BEARER) :] if header.startswith(BEARER) else ""
    if not token or len(token) > MAX_ASSERTION:
        raise ApiProblem(401, "invalid_client", "Only the scheme operator may read these counts: send its assertion.")
    try:
        assertion = client_assertion.verify_operator(
            token, trust_anchor(scheme.operator_revoked_kids), audience=audience(scheme)
        )
    except VerificationError as exc:
        logger.warning("figures refused: code %s", exc.code)
        raise ApiProblem(401, exc.code, exc.message) from None
    seconds = max(1, assertion.expires_at + DEFAULT_LEEWAY - int(time.time()))
    uses = shared_cache.count(shared_cache.key("cijfers-bewering", assertion.replay_key()), 1, seconds)
    asked = shared_cache.count(shared_cache.key("cijfers-vrager", assertion.client_id), 1, 3600)
    if uses is None or asked is None:
        raise ApiProblem(503, "unavailable", "The counts cannot be read now. Try again in a few minutes.")
    if uses > 1:
        raise ApiProblem(401, "assertion_replayed", "This client assertion was used before; make a new one.")
    if asked > MAX_PER_HOUR:
        raise ApiProblem(429, "too_many_requests", f"Ask at most {MAX_PER_HOUR} times an hour.")


@router.get("/cijfers", response=Cijfers, summary="Aantallen per gegevensvrager, zonder persoonsgegevens (stelsel)")
async def requester_counts(request: HttpRequest, vanaf: date | None = None, tot: date | None = None) -> dict:
    scheme = await scheme_client.current()
    await sync_to_async(operator_only)(request.headers.get("Authorization", ""), scheme)
    start, end = period(vanaf, tot, timezone.localdate())
    return figures.as_json(await sync_to_async(cached_requester_figures)(start, end))
