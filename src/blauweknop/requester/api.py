"""The requester API, one per requester under its own prefix: ``/vragers/<slug>/api/v1/``.

Public, for wallets: the request objects (``GET /verzoekobjecten/{code}``; an app manager may sign its GET, so
that other callers' wrong codes never refuse its right ones) and the answers (``POST /antwoorden``, OpenID4VP
``direct_post``). For app managers: a standing consent that ended
(``POST /beeindigde-toestemmingen``, :mod:`blauweknop.requester.endings`). For the requester's own back office: make a
request, see what it received, fetch under standing access, fetch on a legal basis. The back office
authenticates with a client assertion signed by the requester's own key (private_key_jwt,
docs/plus.md §6): in the JSON body, or on a GET as ``Authorization: Bearer <assertion>``; its
audience is the exact address called, under the requester's registered ``endpoints.requester``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Schema, Status
from pydantic import Field

from blauweknop import shared_cache
from blauweknop.api import ApiProblem, make_api, problem
from blauweknop.db import release_before_waiting, write_transaction
from blauweknop.protocol import client_assertion, openid4vp
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.scheme_document import APP_MANAGER, REQUESTER, SchemeDocument
from blauweknop.protocol.validity import DEFAULT_LEEWAY
from blauweknop.requester import answers, asking, copy_state, endings, fetching, outbound, tenants
from blauweknop.requester.fetching import FetchFailed, FetchRefused
from blauweknop.requester.models import ReceivedCredential, ShareRequest, UsedClientAssertion
from blauweknop.requester.tenants import RequesterTenant
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)
api = make_api(
    title="Gegevensvrager API",
    namespace="requester-api",
    description="Verzoeken om gegevens (OpenID4VP 1.0 met DCQL) en de ontvangen, gewaarmerkte gegevens.",
)
api.add_router("", endings.router)  # the app manager tells of standing consents that ended
T = TypeVar("T")
CODE = re.compile(asking.CODE_PATTERN)
BEARER = re.compile(r"Bearer ([A-Za-z0-9_.-]{20,8000})")
# How each verification failure of a client assertion is answered.
ASSERTION_STATUS = {"not_certified": 403}
NOT_FOUND = ApiProblem(404, "not_found", "This organisation has no request with this code.")
# A code has 40 bits: wrong ones are counted per requester and caller, in fixed windows, so codes cannot be
# walked. A caller is a client address, or a certified app manager that signs its GET (a client assertion as
# Bearer): a portal asks for all its citizens from one address, so the address alone would let one citizen's
# wrong codes shut out every other (attacker review A7). The app manager limits each citizen's wrong codes itself.
WRONG_CODES = 100  # per window from one client address
APP_MANAGER_WRONG_CODES = 2000  # per window from one app manager; it is told when it passes them
CODE_WINDOW = 15 * 60  # seconds; a window starts at a multiple of it, and nothing in it makes it longer
BUSY_RETRY = 5  # seconds, in the Retry-After of a back-office call turned away while many are under way


@api.exception_handler(FetchRefused)
def fetch_refused(request: HttpRequest, exc: FetchRefused) -> HttpResponse:
    return problem(403, exc.code, exc.detail)


@api.exception_handler(FetchFailed)
def fetch_failed(request: HttpRequest, exc: FetchFailed) -> HttpResponse:
    return problem(502, "upstream_failed", exc.detail)


@api.exception_handler(outbound.Busy)
def busy(request: HttpRequest, exc: outbound.Busy) -> HttpResponse:
    detail = "This organisation has too many fetches under way now. Try again in a few seconds."
    response = problem(503, "busy", detail)
    response["Retry-After"] = str(BUSY_RETRY)
    return response


def _in_own_thread(work: Callable[..., T]) -> Callable[..., Any]:
    """``work`` to await in one of the requester's own threads: it waits on others (status lists, the portal, a holder).

    Those may be served by this very process, whose thread for synchronous code must not be held
    meanwhile (as the portal verifies its copies), nor the event loop's default pool (:mod:`.outbound`).
    The worker's database connections close after it.
    """

    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return work(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run, thread_sensitive=False, executor=outbound.WAITING)


async def _for_back_office(
    tenant: RequesterTenant, token: str | None, path: str, work: Callable[..., T], *args: Any
) -> T:
    """``work(tenant, *args)`` in the requester's own threads, for its own back office only, if a place is free.

    The caller is authenticated first (:func:`_authenticate`: a signature and one row, no wait on others), and
    only then takes a place (:class:`outbound.Busy`): anonymous calls must not hold the back office's places.
    """
    await sync_to_async(_authenticate)(tenant, token, path)
    await release_before_waiting()  # this request's thread waits too, for as long as the work takes
    with outbound.slot(tenant.oin):
        return await _in_own_thread(work)(tenant, *args)


async def _tenant(slug: str) -> RequesterTenant:
    return await sync_to_async(tenants.at)(await scheme_client.current(), slug)


def _verified(tenant: RequesterTenant, token: str, path: str, role: str = REQUESTER) -> str:
    """The OIN of the client certified in ``role`` whose assertion ``token`` is for exactly this address, once."""
    try:
        assertion = client_assertion.verify(token, tenant.scheme, audience=f"{tenant.api_url}{path}", role=role)
    except VerificationError as exc:
        raise ApiProblem(ASSERTION_STATUS.get(exc.code, 401), exc.code, exc.message) from exc
    with write_transaction():
        # Verification accepts it until exp + leeway: its mark must last as long.
        kept_until = datetime.fromtimestamp(assertion.expires_at + DEFAULT_LEEWAY, UTC)
        if not UsedClientAssertion.use(assertion.replay_key(), kept_until):
            raise ApiProblem(401, "assertion_replayed", "This client assertion was used before. Make a new one.")
    return assertion.client_id


def _authenticate(tenant: RequesterTenant, token: str | None, path: str) -> None:
    """Only the requester's own back office: an assertion signed by its key, for exactly this address, once."""
    if not token:
        raise ApiProblem(401, "invalid_client", "Send a client assertion (private_key_jwt).")
    if _verified(tenant, token, path) != tenant.oin:
        raise ApiProblem(403, "forbidden", "Only this organisation itself may use its requests.")


def _bearer(request: HttpRequest) -> str | None:
    match = BEARER.fullmatch(request.headers.get("Authorization", ""))
    return match.group(1) if match else None


def _own_request(tenant: RequesterTenant, code: str) -> ShareRequest:
    found = ShareRequest.objects.filter(requester=tenant.requester, code=code).first() if CODE.fullmatch(code) else None
    if found is None:
        raise NOT_FOUND
    return found


# ---------------------------------------------------------------------------------------------
# Public: the wallet's side


def _caller(tenant: RequesterTenant, code: str, request: HttpRequest) -> str | None:
    """The certified app manager that signed this GET of a request object, or ``None`` when it came unsigned.

    A wrong or replayed assertion is refused (401, 403) rather than taken as no assertion at all.
    """
    token = _bearer(request)
    return _verified(tenant, token, f"/verzoekobjecten/{code}", APP_MANAGER) if token else None


def _window() -> int:
    """The number of the window of wrong codes we are in now."""
    return int(time.time()) // CODE_WINDOW


def _wrong_codes(tenant: RequesterTenant, caller: str) -> str:
    """The cache key of ``caller``'s wrong codes at ``tenant`` in this window."""
    return shared_cache.key("verzoekobject-pogingen", f"{tenant.oin} {caller} {_window()}")


def _request_object(tenant: RequesterTenant, code: str) -> str:
    share_request = _own_request(tenant, code)
    if share_request.status != ShareRequest.State.OPEN or share_request.expires_at <= datetime.now(UTC):
        raise ApiProblem(404, "not_found", "This request can no longer be answered.")
    return share_request.request_object


def _signed_request(tenant: RequesterTenant, code: str, request: HttpRequest) -> str:
    """The request object of ``code``, when the caller has not tried too many wrong codes. Blocking.

    Only a wrong code counts, and only in the window it was tried in. Past the limit an unsigned caller
    is refused for any code, so codes cannot be walked; an app manager that signs its GET still gets each
    right code: a citizen's wrong codes never shut out another (the app manager limits each citizen).
    """
    manager = _caller(tenant, code, request)
    if manager:
        tries, limit = _wrong_codes(tenant, f"app {manager}"), APP_MANAGER_WRONG_CODES
    else:
        tries, limit = _wrong_codes(tenant, f"adres {shared_cache.client_address(request)}"), WRONG_CODES
    tried = shared_cache.read(tries)
    over = isinstance(tried, int) and tried >= limit
    if over and manager is None:
        raise ApiProblem(429, "too_many_requests", "Too many unknown codes from this address. Try again later.")
    try:
        return _request_object(tenant, code)
    except ApiProblem as refused:
        if refused.status != 404:
            raise
        if over:
            logger.warning("app manager %s passed %d wrong codes at requester %s", manager, limit, tenant.oin)
            raise ApiProblem(429, "too_many_requests", "Too many unknown codes from this app manager.") from refused
        shared_cache.count(tries, 1, CODE_WINDOW)
        raise


@api.get(
    "/verzoekobjecten/{code}",
    summary="Het ondertekende verzoek (request object, OpenID4VP request_uri); een app-beheerder mag zijn "
    "client assertion meesturen (Authorization: Bearer)",
)
async def request_object(request: HttpRequest, code: str, requester: str = Path(...)) -> HttpResponse:
    tenant = await _tenant(requester)
    token = await sync_to_async(_signed_request)(tenant, code, request)
    response = HttpResponse(token, content_type=openid4vp.REQUEST_MEDIA_TYPE)
    response["Cache-Control"] = "no-store"
    return response


class Beantwoord(Schema):
    status: str = Field(description="goedgekeurd or geweigerd.")


def _answer(scheme: SchemeDocument, slug: str, form: dict[str, str]) -> ShareRequest:
    return answers.answer(tenants.at(scheme, slug), form)


@api.post(
    "/antwoorden",
    response=Beantwoord,
    summary="Het antwoord van de wallet (direct_post, application/x-www-form-urlencoded)",
    openapi_extra={
        "requestBody": {
            "content": {
                answers.FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "state": {"type": "string"},
                            "vp_token": {"type": "string", "description": "JSON: {query id: [presentation, ...]}"},
                            "error": {"type": "string", "enum": ["access_denied"]},
                            "toestemming": {"type": "string", "description": "The portal's consent record id."},
                            "toegangTot": {"type": "string", "format": "date"},
                            "nietBereikt": {
                                "type": "string",
                                "description": "JSON: [OIN, ...], the holders that gave the app manager no answer.",
                            },
                            "client_assertion_type": {"type": "string", "enum": [client_assertion.ASSERTION_TYPE]},
                            "client_assertion": {
                                "type": "string",
                                "description": "The app manager's private_key_jwt; needed for error, "
                                "toestemming, toegangTot and nietBereikt.",
                            },
                        },
                        "required": ["state"],
                    }
                }
            },
            "required": True,
        }
    },
)
async def answer(request: HttpRequest, requester: str = Path(...)) -> dict:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > answers.MAX_BODY:
        raise ApiProblem(413, "too_large", "The answer is too large.")
    form = answers.read_form(request.META.get("CONTENT_TYPE", ""), request.body)
    scheme = await scheme_client.current()
    await release_before_waiting()
    share_request = await _in_own_thread(_answer)(scheme, requester, form)
    return {"status": share_request.status}


# ---------------------------------------------------------------------------------------------
# The back office


class ClientAuthentication(Schema):
    """private_key_jwt (RFC 7523): an assertion signed by the requester's own key, for exactly this address."""

    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    client_assertion: str = Field(min_length=20, max_length=8000)


class Veld(Schema):
    pad: str = Field(min_length=1, max_length=200, description="Catalogue path, e.g. vorderingen.kenmerk.")
    verplicht: bool = True


class Gevraagd(Schema):
    documentsoort: str = Field(min_length=1, max_length=40, pattern=r"^[a-z]+$")
    verplicht: bool = True
    meerdere: bool = Field(False, description="From every holder that has it (e.g. every debt), not only one.")
    velden: list[Veld] = Field(min_length=1, max_length=asking.MAX_FIELDS)


class Doel(Schema):
    nl: str = Field(min_length=1, max_length=asking.MAX_PURPOSE)
    en: str = Field(min_length=1, max_length=asking.MAX_PURPOSE)


class VerzoekAanvraag(ClientAuthentication):
    kenmerk: str = Field("", max_length=asking.MAX_REFERENCE, description="Your own reference, e.g. a file number.")
    doel: Doel
    grondslag: str = Field(min_length=1, max_length=100, description="An id from the scheme's legal_bases.")
    bewaartermijnDagen: int = Field(ge=1, le=asking.MAX_RETENTION_DAYS)
    toegang: Literal["eenmalig", "doorlopend"] = "eenmalig"
    toegangTot: date | None = Field(None, description="Standing access: the last day (at most a year away).")
    gevraagd: list[Gevraagd] = Field(min_length=1, max_length=asking.MAX_TYPES)
    geldigDagen: int = Field(14, ge=1, le=asking.MAX_VALID_DAYS, description="Days the citizen has to answer.")
    burgerservicenummer: str | None = Field(
        None,
        pattern=r"^[0-9]{9}$",
        description="Whom the request is for. The citizen then shares their BSN, and an answer about anyone else "
        "is refused. Never shown again: kept only as a pseudonym.",
    )


class Verzoek(Schema):
    code: str
    weergaveCode: str = Field(description="The short code as people read it: XXXX-XXXX.")
    link: str = Field(description="Opens the request in the citizen's portal; also for a QR code.")
    requestUri: str
    status: str
    geldigTot: datetime


class Ontvangen(Schema):
    documentsoort: str
    uitgever: str = Field(description="OIN of the holder that issued the copy.")
    via: str = Field(description="antwoord, ophaling or wet.")
    ontvangenOp: datetime
    verwijderdNa: datetime
    gegevens: dict[str, Any] = Field(description="Only the disclosed fields.")
    stand: str = Field(
        description="Whether the copy still holds at its source, checked when asked: geldig, vervangen (the holder "
        "changed the data since: status INVALID), geschorst, verlopen, or onbekend (its status list is out of "
        "reach now, or the copy came before this was kept)."
    )
    geldigTot: datetime | None = Field(description="The copy's own end (exp).")


NOT_REACHED = (
    "The OINs of the holders that gave no answer to the last standing fetch: what they hold is missing from it, "
    "so the data are not whole. Empty when every holder answered. Fetch again later."
)


class VerzoekStand(Schema):
    code: str
    weergaveCode: str
    kenmerk: str
    status: str
    toegang: str
    toegangTot: date | None
    goedgekeurdTot: date | None = Field(description="Standing access: the last day the citizen approved.")
    toestemming: str = Field(description="The portal's consent record id, once answered.")
    geldigTot: datetime
    beantwoordOp: datetime | None
    beeindigdOp: datetime | None = Field(
        description="Standing access: when it ended (status ingetrokken or verlopen), as the app manager told at "
        "once, or as a fetch found out. Nothing is fetched under it any more."
    )
    ontvangen: list[Ontvangen]
    nietBereikt: list[str] = Field(description=NOT_REACHED)


class Opgehaald(Schema):
    ontvangen: list[Ontvangen]
    nietBereikt: list[str] = Field(description=NOT_REACHED)


def _received(rows: list[ReceivedCredential], states: list[copy_state.State] | None = None) -> list[dict[str, Any]]:
    """``rows`` as the API gives them, each with its state at its holder (``states``; all valid: just received)."""
    states = states or [copy_state.State.VALID] * len(rows)
    return [
        {
            "documentsoort": row.query_id,
            "uitgever": row.issuer_oin,
            "via": row.via,
            "ontvangenOp": row.received_at,
            "verwijderdNa": row.delete_after,
            "gegevens": row.claims,
            "stand": state.value,
            "geldigTot": row.expires_at,
        }
        for row, state in zip(rows, states, strict=True)
    ]


def _create(tenant: RequesterTenant, body: VerzoekAanvraag) -> dict[str, Any]:
    _authenticate(tenant, body.client_assertion, "/verzoeken")
    share_request = asking.create(
        tenant,
        purpose={"nl": body.doel.nl, "en": body.doel.en},
        legal_basis=body.grondslag,
        retention_days=body.bewaartermijnDagen,
        access=body.toegang,
        access_until=body.toegangTot,
        asked=[
            asking.Asked(g.documentsoort, g.verplicht, g.meerdere, tuple((v.pad, v.verplicht) for v in g.velden))
            for g in body.gevraagd
        ],
        reference=body.kenmerk,
        valid_days=body.geldigDagen,
        bsn=body.burgerservicenummer,
    )
    return {
        "code": share_request.code,
        "weergaveCode": asking.display_code(share_request.code),
        "link": asking.link(share_request, tenant.scheme),
        "requestUri": asking.request_uri(share_request, tenant.scheme),
        "status": share_request.status,
        "geldigTot": share_request.expires_at,
    }


@api.post("/verzoeken", response={201: Verzoek}, summary="Maak een verzoek om gegevens")
async def create_request(request: HttpRequest, body: VerzoekAanvraag, requester: str = Path(...)) -> Status:
    tenant = await _tenant(requester)
    return Status(201, await sync_to_async(_create)(tenant, body))


def _state(tenant: RequesterTenant, code: str) -> dict[str, Any]:
    share_request = _own_request(tenant, code)
    received = asking.received(share_request)
    return {
        "code": share_request.code,
        "weergaveCode": asking.display_code(share_request.code),
        "kenmerk": share_request.reference,
        "status": share_request.status,
        "toegang": share_request.access,
        "toegangTot": share_request.access_until,
        "goedgekeurdTot": share_request.approved_until,
        "toestemming": share_request.consent,
        "geldigTot": share_request.expires_at,
        "beantwoordOp": share_request.answered_at,
        "beeindigdOp": share_request.ended_at,
        "ontvangen": _received(received, copy_state.states(received, tenant.scheme, timezone.now())),
        "nietBereikt": share_request.not_reached,
    }


@api.get(
    "/verzoeken/{code}",
    response=VerzoekStand,
    summary="Hoe staat het verzoek, en wat is ontvangen (Authorization: Bearer <client assertion>)",
)
async def request_state(request: HttpRequest, code: str, requester: str = Path(...)) -> dict:
    tenant = await _tenant(requester)
    return await _for_back_office(tenant, _bearer(request), f"/verzoeken/{code}", _state, code)


def _fetch(tenant: RequesterTenant, code: str) -> dict[str, Any]:
    share_request = _own_request(tenant, code)
    stored = fetching.standing_fetch(tenant, share_request)
    return {"ontvangen": _received(stored), "nietBereikt": share_request.not_reached}


@api.post("/verzoeken/{code}/ophalen", response=Opgehaald, summary="Haal nu op onder doorlopende toegang")
async def standing_fetch(
    request: HttpRequest, code: str, body: ClientAuthentication, requester: str = Path(...)
) -> dict:
    tenant = await _tenant(requester)
    return await _for_back_office(tenant, body.client_assertion, f"/verzoeken/{code}/ophalen", _fetch, code)


class WettelijkeVerstrekking(ClientAuthentication):
    """A fetch on a legal basis: personal data travels only in this body, never in the URL."""

    houder: str = Field(pattern=r"^[0-9]{20}$", description="OIN of the holder to fetch from.")
    burgerservicenummer: str = Field(pattern=r"^[0-9]{9}$")
    documentsoort: str = Field(min_length=1, max_length=40, pattern=r"^[a-z]+$")
    velden: list[str] = Field(min_length=1, max_length=asking.MAX_FIELDS)
    grondslag: str = Field(min_length=1, max_length=100, description="The id of a law in the scheme's legal_bases.")
    doel: str = Field(pattern=r"^[a-z][a-z0-9-]{0,99}$", description="The code of the purpose the law entry names.")
    bewaartermijnDagen: int = Field(ge=1, le=asking.MAX_RETENTION_DAYS)


def _lawful(tenant: RequesterTenant, body: WettelijkeVerstrekking) -> dict[str, Any]:
    row = fetching.lawful_fetch(
        tenant,
        holder_oin=body.houder,
        bsn=body.burgerservicenummer,
        type_id=body.documentsoort,
        paths=body.velden,
        legal_basis=body.grondslag,
        purpose=body.doel,
        retention_days=body.bewaartermijnDagen,
    )
    (received,) = _received([row])
    return received


@api.post(
    "/wettelijke-verstrekkingen", response={201: Ontvangen}, summary="Haal gegevens op met een wettelijke grondslag"
)
async def lawful_fetch(request: HttpRequest, body: WettelijkeVerstrekking, requester: str = Path(...)) -> Status:
    tenant = await _tenant(requester)
    done = await _for_back_office(tenant, body.client_assertion, "/wettelijke-verstrekkingen", _lawful, body)
    return Status(201, done)
