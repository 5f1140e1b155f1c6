"""``POST /appbeheerder/api/v1/meldingen``: a holder tells this app manager that a correction request has news.

The holder sends only the kenmerk (and whether the request is now decided, and the portal's own ``verzoeksleutel``
when the request came with one), with a client assertion signed by its current key: only a holder the scheme
document certifies now is heard, each assertion once, and only about its own requests (the ticket is found by the
caller's OIN and the kenmerk, so another holder's kenmerk is as unknown as a made-up one: 404, nothing more said).
The portal marks the ticket (``news_at``) and, if the citizen asked to be told, queues the mail
(:mod:`blauweknop.portal.notifications`) in the same transaction.

A ticket may still lack its kenmerk: the holder's answer to the request was lost, so the portal kept it under a
temporary reference made from the key (:func:`blauweknop.portal.corrections.unsure_reference`) until Mijn
correctieverzoeken names it. A citizen who never opens that list would never be mailed, as the kenmerk is unknown
and a 404 is final for the holder. So when no ticket of the caller has the kenmerk, the caller's ticket kept under
the key's temporary reference gets the kenmerk here, and the notice is taken as usual.
What the news is, the portal does not learn here: the citizen sees it after logging in.
"""

from __future__ import annotations

import logging
from typing import Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from blauweknop import shared_cache
from blauweknop.api import ApiProblem
from blauweknop.db import lock_name, write_transaction
from blauweknop.portal.corrections import unsure_reference
from blauweknop.portal.models import CorrectionTicket, UsedClientAssertion
from blauweknop.portal.notifications import tell_citizen, untold
from blauweknop.protocol import client_assertion
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.scheme_document import HOLDER, SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)

router = Router(tags=["meldingen"])

# A holder tells of at most 50 requests a minute per run (blauweknop.holder.notices); room for a second worker.
MAX_PER_MINUTE = 120
UNKNOWN = ApiProblem(404, "not_found", "There is no correction request by this kenmerk from you.")
REPLAYED = ApiProblem(401, "assertion_replayed", "This client assertion was used before; make a new one.")


class Melding(Schema):
    """News about one correction request, from the holder it was sent to; the client assertion proves which."""

    kenmerk: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$", description="The holder's kenmerk.")
    afgerond: bool = Field(
        True,
        description="Whether the request is decided now; false for a longer term. Then a later decision is told too.",
    )
    verzoeksleutel: str | None = Field(
        None,
        min_length=16,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The key this app manager sent with the request, if it sent one: it names the request when "
        "this app manager did not learn the kenmerk (its answer was lost).",
    )
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    client_assertion: str = Field(min_length=20, max_length=8000)


def audience(scheme: SchemeDocument) -> str:
    """The exact URL a notice's client assertion must name: our published ``fetch`` endpoint + ``/meldingen``."""
    manager = scheme.app_managers.get(settings.PORTAL_OIN)
    if manager is None or "fetch" not in manager.endpoints:
        raise ApiProblem(503, "unavailable", "This app manager is not in the scheme document now.")
    return manager.endpoints["fetch"] + "/meldingen"


def holder_only(token: str, scheme: SchemeDocument) -> client_assertion.ClientAssertion:
    """The caller, if the assertion is a certified holder's made for this address; 401 or 403 otherwise."""
    try:
        return client_assertion.verify(token, scheme, audience=audience(scheme), role=HOLDER)
    except VerificationError as exc:
        logger.warning("notice refused: code %s", exc.code)
        if exc.code == "not_certified":
            raise ApiProblem(403, "not_certified", "Only a certified holder may tell of news.") from None
        raise ApiProblem(401, exc.code, exc.message) from None


def within_limit(holder_oin: str) -> None:
    """At most :data:`MAX_PER_MINUTE` notices a minute per holder (429). Blocking."""
    told = shared_cache.count(shared_cache.key("melding-houder", holder_oin), 1, 60)
    if told is None:
        raise ApiProblem(503, "unavailable", "Notices cannot be taken now. Try again in a few minutes.")
    if told > MAX_PER_MINUTE:
        raise ApiProblem(429, "too_many_requests", f"Send at most {MAX_PER_MINUTE} notices a minute.")


def record(assertion: client_assertion.ClientAssertion, reference: str, final: bool, key: str | None = None) -> None:
    """Use up the assertion, mark the caller's ticket ``reference`` and queue its mail; one transaction.

    The assertion is used up even when the kenmerk is unknown. A ticket of the caller kept under the temporary
    reference of ``key`` gets the kenmerk first (:func:`_named`). News is recorded once until it is told: a
    notice again before the mail went adds nothing, and once a longer term was told, only the decision is
    new (a holder extends once).
    """
    with write_transaction():
        fresh = UsedClientAssertion.use(assertion)
        ticket = _ticket(assertion.client_id, reference, key if fresh else None)
        if fresh and ticket is not None:
            _mark(ticket, final)
    if not fresh:
        logger.warning("notice refused: client assertion replayed by %s", assertion.client_id)
        raise REPLAYED
    if ticket is None:
        logger.info("notice of holder %s refused: unknown kenmerk", assertion.client_id)
        raise UNKNOWN
    logger.info("notice of holder %s about correction request %s taken", assertion.client_id, reference)


def _ticket(holder_oin: str, reference: str, key: str | None) -> CorrectionTicket | None:
    """The ticket of ``holder_oin`` with kenmerk ``reference``; else its ticket kept under ``key``, named now."""
    tickets = CorrectionTicket.objects.filter(holder_oin=holder_oin)
    ticket = tickets.filter(reference=reference).first()
    if ticket is not None or not key:
        return ticket
    try:
        with transaction.atomic():
            named = tickets.filter(reference=unsure_reference(key)).update(reference=reference)
    except IntegrityError:  # Mijn correctieverzoeken named it meanwhile (or kept the kenmerk's ticket)
        named = 0
    if named:
        logger.info("correction ticket of holder %s kept without kenmerk is now %s", holder_oin, reference)
    return tickets.filter(reference=reference).first()


def _mark(ticket: CorrectionTicket, final: bool) -> None:
    """Record the news on ``ticket`` unless it is known already, and queue the mail if the citizen asked for one."""
    lock_name(f"correctieticket:{ticket.pk}")
    ticket.refresh_from_db()
    if not final and ticket.told_at is not None:
        return
    if not untold(ticket):
        ticket.news_at = timezone.now()
        ticket.save(update_fields=["news_at"])
    if ticket.email:
        tell_citizen.enqueue(ticket.pk, final)


@router.post(
    "/meldingen",
    response={204: None},
    summary="Meld dat er nieuws is over een correctieverzoek (gegevenshouder)",
    description="Een gegevenshouder meldt met een client assertion dat een correctieverzoek een besluit of een "
    "langere termijn heeft. De burger krijgt een e-mail als die daarom vroeg; wat het nieuws is, ziet de burger "
    "na inloggen.",
)
async def notice(request: HttpRequest, body: Melding) -> Status:
    scheme = await scheme_client.current()
    assertion = holder_only(body.client_assertion, scheme)
    await sync_to_async(within_limit)(assertion.client_id)
    await sync_to_async(record)(assertion, body.kenmerk, body.afgerond, body.verzoeksleutel)
    return Status(204, None)
