"""The app manager's API for requesters: fetches under standing access, ``/appbeheerder/api/v1/``.

A requester the citizen gave standing access fetches fresh data without the citizen (docs/plus.md §4):
it names the consent and a nonce, and proves who it is with a client assertion (private_key_jwt).
The portal checks the consent in the same database the citizen withdraws it in, so a withdrawal
holds from the very next fetch; then it asks the holders anew and presents only the approved fields,
bound to the requester and its nonce. Every fetch and every refusal is an event of the consent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Schema
from pydantic import Field

from blauweknop.api import ApiProblem, make_api
from blauweknop.db import lock_name, write_transaction
from blauweknop.portal import consents as register
from blauweknop.portal import presenting
from blauweknop.portal.models import Consent, UsedClientAssertion
from blauweknop.protocol import client_assertion
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.scheme_document import REQUESTER, SchemeDocument
from blauweknop.protocol.session_assertion import Sharing
from blauweknop.protocol.validity import DEFAULT_LEEWAY
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)

api = make_api(
    title="Appbeheerder API",
    namespace="app-manager",
    description="Doorlopende toegang: een gegevensvrager haalt verse gegevens op onder de toestemming van de burger.",
)

# Each refusal of a consent: status, code, and a sentence for the requester's developers.
NOT_YOURS = ApiProblem(403, "not_your_consent", "There is no consent by this id for you.")
REFUSALS = {
    Consent.State.WITHDRAWN: ApiProblem(403, "consent_withdrawn", "The citizen withdrew this consent."),
    Consent.State.EXPIRED: ApiProblem(403, "consent_expired", "This consent has ended."),
    Consent.State.REFUSED: ApiProblem(403, "consent_refused", "The citizen refused this request."),
}
ONCE_ONLY = ApiProblem(403, "not_standing", "This consent was for one delivery only; ask the citizen again.")
NOT_CERTIFIED = ApiProblem(403, "not_certified", "You are not certified as a requester now.")
HOLDERS_SILENT = ApiProblem(503, "holders_unavailable", "Not every source could give the data now. Try again later.")


class Ophaling(Schema):
    """A fetch under a standing consent; the client assertion proves who asks (RFC 7523)."""

    toestemming: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="The consent id.")
    nonce: str = Field(
        min_length=16, max_length=128, pattern=r"^[\x21-\x7e]+$", description="Bound into every Key Binding JWT."
    )
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    client_assertion: str = Field(min_length=20, max_length=8000)


class Opgehaald(Schema):
    vp_token: dict[str, list[str]] = Field(description="Per credential query id, the presentations (SD-JWT VC + KB).")


def audience(scheme: SchemeDocument) -> str:
    """The exact URL a fetch's client assertion must name: our published ``fetch`` endpoint + ``/ophalingen``."""
    manager = scheme.app_managers.get(settings.PORTAL_OIN)
    if manager is None or "fetch" not in manager.endpoints:
        raise ApiProblem(503, "unavailable", "This app manager is not in the scheme document now.")
    return manager.endpoints["fetch"] + "/ophalingen"


def _authenticated(token: str, scheme: SchemeDocument) -> client_assertion.ClientAssertion:
    try:
        return client_assertion.verify(token, scheme, audience=audience(scheme), role=REQUESTER, leeway=DEFAULT_LEEWAY)
    except VerificationError as exc:
        logger.warning("standing fetch refused: code %s", exc.code)
        if exc.code == "not_certified":
            raise NOT_CERTIFIED from None
        raise ApiProblem(401, exc.code, exc.message) from None


def _use(assertion: client_assertion.ClientAssertion) -> bool:
    """Mark the assertion used; ``False`` if it was used before. Inside the caller's transaction."""
    key = assertion.replay_key()
    lock_name(f"client-assertion:{key}")
    if UsedClientAssertion.objects.filter(pk=key).exists():
        return False
    expires = datetime.fromtimestamp(assertion.expires_at + DEFAULT_LEEWAY, UTC)
    UsedClientAssertion.objects.create(key=key, expires_at=expires)
    return True


def admit(assertion: client_assertion.ClientAssertion, consent_id: str) -> Consent:
    """The consent a verified requester may fetch under now; every refusal of its own consent is recorded.

    Another requester's consent and an unknown id are refused alike: nobody learns which ids exist.
    The assertion is used up even when the fetch is refused.
    """
    with write_transaction():
        fresh = _use(assertion)
        consent = Consent.objects.filter(pk=consent_id, requester_oin=assertion.client_id).first() if fresh else None
        refusal = _refusal(consent) if consent is not None else None
        if refusal is not None:
            register.fetch_refused(consent, refusal.code)
    if not fresh:
        logger.warning("standing fetch refused: client assertion replayed by %s", assertion.client_id)
        raise ApiProblem(401, "assertion_replayed", "This client assertion was used before; make a new one.")
    if consent is None:
        raise NOT_YOURS
    if refusal is not None:
        logger.info("standing fetch under consent %s refused: %s", consent.pk, refusal.code)
        raise refusal
    return consent


def _refusal(consent: Consent) -> ApiProblem | None:
    """Why the consent allows no fetch now; ``None`` if it does. (A suspended requester never gets this far.)"""
    if consent.state in REFUSALS:
        return REFUSALS[consent.state]
    if consent.access != Consent.Access.STANDING:
        return ONCE_ONLY
    if consent.valid_until is None or timezone.now() >= consent.valid_until:
        return REFUSALS[Consent.State.EXPIRED]
    return None


@api.post("/ophalingen", response={200: Opgehaald}, summary="Haal gegevens op onder een doorlopende toestemming")
async def fetch(request: HttpRequest, body: Ophaling) -> dict:
    scheme = await scheme_client.current()
    assertion = _authenticated(body.client_assertion, scheme)
    consent = await sync_to_async(admit)(assertion, body.toestemming)
    try:
        standing = register.unseal(consent)
    except register.Unreadable:
        raise ApiProblem(503, "unavailable", "This consent cannot be used now. Try again later.") from None
    sharing = Sharing(consent.requester_oin, consent.purpose.get("nl", ""), consent.legal_basis, consent.pk)
    try:
        presented = await presenting.gather_and_present(
            scheme,
            standing.citizen,
            standing.wallet_key,
            consent.asked,
            consent.approved,
            sharing=sharing,
            aud=consent.requester_oin,
            nonce=body.nonce,
        )
    except ProtocolError as exc:
        logger.error("standing fetch under consent %s: presenting failed: %s", consent.pk, exc.code)
        presented = None
    if presented is None or presented.missing or not presented.vp_token:
        await sync_to_async(register.fetch_refused)(consent, HOLDERS_SILENT.code)
        raise HOLDERS_SILENT
    await sync_to_async(register.delivered)(consent, presented.detail(consent.approved))
    return {"vp_token": presented.vp_token}
