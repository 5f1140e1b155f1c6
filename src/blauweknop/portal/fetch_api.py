"""The app manager's API for requesters: fetches under standing access, ``/appbeheerder/api/v1/``.

A requester the citizen gave standing access fetches fresh data without the citizen (docs/plus.md §4):
it names the consent and a nonce, and proves who it is with a client assertion (private_key_jwt).
The portal checks the consent in the same database the citizen withdraws it in, so a withdrawal
holds from the very next fetch; then it asks the holders anew and presents only the approved fields,
bound to the requester and its nonce. Every fetch and every refusal is an event of the consent.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja import Schema
from pydantic import Field

from blauweknop.api import ApiProblem, make_api
from blauweknop.db import lock_name, write_transaction
from blauweknop.portal import consents as register
from blauweknop.portal import figures_api, notices_api, presenting
from blauweknop.portal.models import Consent, ConsentEvent, UsedClientAssertion
from blauweknop.protocol import client_assertion, jws
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.scheme_document import CERTIFIED, REQUESTER, SchemeDocument
from blauweknop.protocol.session_assertion import Sharing
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)

api = make_api(
    title="Appbeheerder API",
    namespace="app-manager",
    description="Doorlopende toegang: een gegevensvrager haalt verse gegevens op onder de toestemming van de burger.",
)
api.add_router("", figures_api.router)  # the counts the scheme operator's monitoring reads
api.add_router("", notices_api.router)  # holders tell of news about correction requests

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
# Standing access is for fresh data now and then, not for following a citizen: each fetch is a new copy at every
# holder and a line in the citizen's records. A debt counsellor checking daily stays far below this.
FETCHES_PER_DAY = 24
TOO_OFTEN = ApiProblem(
    429, "too_many_fetches", f"This consent allows at most {FETCHES_PER_DAY} fetches in 24 hours. Try again later."
)
# One fetch per consent at a time: fetches sent at once would each ask every holder (a copy and a line in the
# citizen's records each) before any of them counts as a delivery.
ONE_AT_A_TIME = ApiProblem(
    429, "fetch_in_progress", "Another fetch under this consent is running. Wait for its answer before you fetch again."
)


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
    nietBereikt: list[str] = Field(
        description="The OINs of holders of an asked type that gave no answer now: what they hold is missing. "
        "Empty when every holder answered. Fetch again later for a whole overview."
    )


def audience(scheme: SchemeDocument) -> str:
    """The exact URL a fetch's client assertion must name: our published ``fetch`` endpoint + ``/ophalingen``."""
    manager = scheme.app_managers.get(settings.PORTAL_OIN)
    if manager is None or "fetch" not in manager.endpoints:
        raise ApiProblem(503, "unavailable", "This app manager is not in the scheme document now.")
    return manager.endpoints["fetch"] + "/ophalingen"


def _authenticated(token: str, scheme: SchemeDocument) -> tuple[client_assertion.ClientAssertion, bool]:
    """Who sends the fetch, and whether the scheme certifies them as a requester now.

    A genuine assertion of a suspended requester is still told apart from a forged one, so that its
    refusal is recorded on the consent it named (the citizen sees who tried).
    """
    try:
        return client_assertion.verify(token, scheme, audience=audience(scheme), role=REQUESTER), True
    except VerificationError as exc:
        logger.warning("standing fetch refused: code %s", exc.code)
        if exc.code != "not_certified":
            raise ApiProblem(401, exc.code, exc.message) from None
    suspended = _as_if_certified(token, scheme)
    if suspended is None:
        raise NOT_CERTIFIED
    return suspended, False


def _as_if_certified(token: str, scheme: SchemeDocument) -> client_assertion.ClientAssertion | None:
    """The assertion of a requester the scheme suspended or revoked, verified with all other checks; else ``None``."""
    try:
        oin = jws.unverified_parts(token)[1].get("iss")
        participant = scheme.organisations.get(oin) if isinstance(oin, str) else None
        if participant is None or REQUESTER not in participant.roles:
            return None
        restored = {**scheme.organisations, oin: dataclasses.replace(participant, certification=CERTIFIED)}
        return client_assertion.verify(
            token, dataclasses.replace(scheme, organisations=restored), audience=audience(scheme), role=REQUESTER
        )
    except ProtocolError:
        return None


def admit(assertion: client_assertion.ClientAssertion, consent_id: str, *, certified: bool = True) -> Consent:
    """The consent a verified requester may fetch under now; every refusal of its own consent is recorded.

    Another requester's consent and an unknown id are refused alike: nobody learns which ids exist.
    The assertion is used up even when the fetch is refused.
    """
    with write_transaction():
        fresh = UsedClientAssertion.use(assertion)
        lock_name(f"toestemming:{consent_id}")
        consent = Consent.objects.filter(pk=consent_id, requester_oin=assertion.client_id).first() if fresh else None
        refusal = _refusal(consent, certified) if consent is not None else None
        if refusal is not None:
            register.fetch_refused(consent, refusal.code)
        too_often = consent is not None and refusal is None and _fetched_enough(consent)
        running = consent is not None and refusal is None and not too_often and not _start(consent)
    if not fresh:
        logger.warning("standing fetch refused: client assertion replayed by %s", assertion.client_id)
        raise ApiProblem(401, "assertion_replayed", "This client assertion was used before; make a new one.")
    if consent is None:
        raise NOT_YOURS
    if refusal is not None:
        logger.info("standing fetch under consent %s refused: %s", consent.pk, refusal.code)
        raise refusal
    if too_often:
        # Not an event of the consent: a requester polling must not grow the citizen's record without end.
        logger.warning("standing fetch under consent %s refused: more than %d a day", consent.pk, FETCHES_PER_DAY)
        raise TOO_OFTEN
    if running:
        logger.warning("standing fetch under consent %s refused: another one is running", consent.pk)
        raise ONE_AT_A_TIME
    return consent


def _running(consent: Consent) -> str:
    return f"blauweknop:ophaling:{consent.pk}"


def _start(consent: Consent) -> bool:
    """Mark a fetch under ``consent`` as running, unless one is; shared by every web process (the cache).

    The mark lapses by itself after the longest a fetch can take, should its process die before :func:`_done`.
    """
    return cache.add(_running(consent), True, timeout=int(settings.OVERVIEW_TIMEOUT) + 60)


def _done(consent: Consent) -> None:
    cache.delete(_running(consent))


def _fetched_enough(consent: Consent) -> bool:
    """Whether ``consent`` already had its :data:`FETCHES_PER_DAY` deliveries in the last 24 hours."""
    since = timezone.now() - timedelta(days=1)
    delivered = ConsentEvent.objects.filter(consent=consent, kind=ConsentEvent.Kind.DELIVERED, at__gt=since)
    return delivered.count() >= FETCHES_PER_DAY


def _refusal(consent: Consent, certified: bool) -> ApiProblem | None:
    """Why the consent allows no fetch now by its requester (``certified`` now or not); ``None`` if it does."""
    if consent.state in REFUSALS:
        return REFUSALS[consent.state]
    if consent.access != Consent.Access.STANDING:
        return ONCE_ONLY
    if consent.valid_until is None or timezone.now() >= consent.valid_until:
        return REFUSALS[Consent.State.EXPIRED]
    if not certified:
        return NOT_CERTIFIED
    return None


@api.post("/ophalingen", response={200: Opgehaald}, summary="Haal gegevens op onder een doorlopende toestemming")
async def fetch(request: HttpRequest, body: Ophaling) -> dict:
    scheme = await scheme_client.current()
    assertion, certified = _authenticated(body.client_assertion, scheme)
    consent = await sync_to_async(admit)(assertion, body.toestemming, certified=certified)
    try:
        return await _fetch(scheme, consent, certified, body.nonce)
    finally:
        await sync_to_async(_done)(consent)


async def _fetch(scheme: SchemeDocument, consent: Consent, certified: bool, nonce: str) -> dict:
    """Ask the holders for ``consent``'s data anew and hand it over, if the consent still allows it then."""
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
            nonce=nonce,
        )
    except ProtocolError as exc:
        logger.error("standing fetch under consent %s: presenting failed: %s", consent.pk, exc.code)
        presented = None
    if presented is None or presented.missing or not presented.vp_token:
        await sync_to_async(register.fetch_refused)(consent, HOLDERS_SILENT.code)
        raise HOLDERS_SILENT
    await sync_to_async(hand_over)(consent, certified, presented.detail(consent.approved))
    if presented.unreachable:
        logger.warning("standing fetch under consent %s: holders not reached: %s", consent.pk, presented.unreachable)
    return {"vp_token": presented.vp_token, "nietBereikt": sorted(set(presented.unreachable))}


def hand_over(consent: Consent, certified: bool, detail: dict) -> None:
    """Record the delivery, if the consent still allows it now that the holders answered; refuse it otherwise.

    Asking the holders takes seconds: a withdrawal (or the end date) in the meantime must stop this fetch
    too, not only the next one. Under the lock :func:`blauweknop.portal.consents.withdraw` takes.
    """
    with write_transaction():
        lock_name(f"toestemming:{consent.pk}")
        now = Consent.objects.get(pk=consent.pk)
        refusal = _refusal(now, certified)
        if refusal is None and _fetched_enough(now):
            refusal = TOO_OFTEN  # fetches sent at once each passed admit(); only so many are handed over
        elif refusal is None:
            register.delivered(now, detail)
        else:
            register.fetch_refused(now, refusal.code)
    if refusal is not None:
        logger.info("standing fetch under consent %s refused once the holders answered: %s", consent.pk, refusal.code)
        raise refusal
