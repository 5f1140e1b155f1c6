"""Sharing with a requester (variant Plus): open a request, show it, and carry out the citizen's decision.

A requester's link (or its short code) names a signed request object (OpenID4VP, docs/plus.md §1). The
portal fetches it only from the requester's own address in the scheme document, verifies it, and keeps
it for this session (``OpenedRequest``): the citizen decides on exactly what was shown. The same link
opened again finds what this session opened before; a citizen keeps at most :data:`KEEP_OPEN` undecided.
A yes asks every holder of each asked document type for a fresh copy bound to a key made for this consent,
presents only the approved fields to the requester and records the delivery; a no tells the requester so.
A decision is taken once, however often the form is sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from blauweknop import display, document_types, i18n, signing
from blauweknop.capped import TooLarge, aread_at_most
from blauweknop.db import release_before_waiting
from blauweknop.document_types import DocumentType
from blauweknop.portal import consents, presenting
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import Consent, OpenedRequest
from blauweknop.portal.verification import tls_context
from blauweknop.protocol import check_code, client_assertion, openid4vp, sdjwt
from blauweknop.protocol.encoding import json_loads
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import SigningKey
from blauweknop.protocol.scheme_document import REQUESTER, Participant, SchemeDocument
from blauweknop.protocol.session_assertion import Sharing
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)

MAX_REQUEST_OBJECT = 64 * 1024  # a request object is a few kB; more is not read
MAX_URI = 2048  # characters of a request_uri worth reading
FETCH_TIMEOUT = httpx.Timeout(5.0)  # fetching the request object: the citizen waits for it
ANSWER_TIMEOUT = httpx.Timeout(10.0, connect=3.0)  # posting the answer to the requester
# The timeouts above are per read: a server that trickles a byte at a time would hold the citizen for
# minutes. These bound each exchange as a whole (seconds); past them, the requester counts as unreachable.
FETCH_DEADLINE = 10.0
ANSWER_DEADLINE = 20.0
MAX_ANSWER_READ = 64 * 1024  # the requester's reply to our answer is only looked at for its status and code
PROBLEM_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")  # a code from another party counts only if it looks like one
CODE_LENGTH = 8  # a share code: 8 Crockford base32 characters (40 bits), shown as XXXX-XXXX
CODE_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,64}")  # the last part of a request_uri: a requester's code
# Undecided requests one citizen keeps: more opened drop the oldest (attacker review A10).
KEEP_OPEN = 20


class NotOpened(Exception):
    """Why a request cannot be opened or decided on: a stable ``code``, plain words, and whom to ask."""

    def __init__(self, code: str, message: str, *, requester: Participant | None = None, status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.requester, self.status = code, message, requester, status


def normalise_code(typed: str) -> str | None:
    """A share code as typed (any case, spaces, dashes, look-alikes), normalised; ``None`` if it cannot be one."""
    return check_code.normalise(typed, CODE_LENGTH)


def requesters(scheme: SchemeDocument) -> list[Participant]:
    """The requesters that may ask for data now, by name: the organisations a code can be typed for."""
    return sorted(
        (
            p
            for p in scheme.organisations.values()
            if scheme.is_certified(p.oin, REQUESTER) and "requester" in p.endpoints
        ),
        key=lambda p: p.name,
    )


def request_uri(requester: Participant, code: str) -> str:
    """Where ``requester`` serves the request object with short code ``code``."""
    return f"{requester.endpoints['requester'].rstrip('/')}/verzoekobjecten/{quote(code, safe='')}"


def _served_by(requester: Participant, uri: str) -> bool:
    """Whether ``uri`` is a request object's address at ``requester``'s own registered address, and nothing else.

    Compared as text: ``<endpoints.requester>/verzoekobjecten/<code>``, so no other host, port, user
    part, path (``..``), escape, query or fragment can slip through.
    """
    prefix = requester.endpoints["requester"].rstrip("/") + "/verzoekobjecten/"
    return uri.startswith(prefix) and CODE_SEGMENT.fullmatch(uri[len(prefix) :]) is not None


def contact(requester: Participant) -> dict[str, str]:
    """Where the citizen gets help from the requester: its phone number and website, as the scheme lists them."""
    found = requester.info.get("contact")
    if not isinstance(found, dict):
        return {}
    shown = {k: v for k in ("telefoon", "website") if isinstance(v := found.get(k), str) and v}
    if not shown.get("website", "").startswith(("https://", "http://")):  # a link people can follow, nothing else
        shown.pop("website", None)
    return shown


def _requester(scheme: SchemeDocument, client_id: str) -> Participant:
    """The requester ``client_id``, certified as requester now; else :class:`NotOpened` in plain words."""
    participant = scheme.organisations.get(client_id)
    if participant is None or REQUESTER not in participant.roles or "requester" not in participant.endpoints:
        raise NotOpened(
            "unknown_requester",
            _(
                "Deze organisatie kennen we niet. Zij kan via de Blauwe Knop geen gegevens vragen. "
                "Er is niets gedeeld. Vertrouwt u het niet? Deel dan niets en bel de organisatie die u de link gaf."
            ),
            status=404,
        )
    if not scheme.is_certified(client_id, REQUESTER):
        raise _suspended(participant)
    return participant


def _suspended(requester: Participant) -> NotOpened:
    return NotOpened(
        "not_certified",
        _(
            "%(name)s mag nu geen gegevens vragen via de Blauwe Knop. Er is niets gedeeld. "
            "Heeft u vragen? Neem contact op met %(name)s."
        )
        % {"name": requester.name},
        requester=requester,
        status=403,
    )


async def _download(scheme: SchemeDocument, requester: Participant, uri: str) -> str:
    """The request object at ``uri``, read with a size cap and a time limit; :class:`NotOpened` if not.

    Asked with a client assertion of this app manager for exactly ``uri``: the requester then counts our wrong
    codes apart from anyone else's at our address, and never refuses a right one because of them.
    """
    unreachable = NotOpened(
        "unreachable",
        _("We konden het verzoek van %(name)s nu niet ophalen. Er is niets gedeeld. Probeer het later nog eens.")
        % {"name": requester.name},
        requester=requester,
        status=502,
    )
    token = client_assertion.sign(
        signing.key_in(scheme, settings.PORTAL_OIN), client_id=settings.PORTAL_OIN, audience=uri
    )
    headers = {
        "Accept": openid4vp.REQUEST_MEDIA_TYPE,
        "Accept-Encoding": "identity",
        "Authorization": f"Bearer {token}",
    }
    await release_before_waiting()
    try:
        async with (
            asyncio.timeout(FETCH_DEADLINE),
            httpx.AsyncClient(timeout=FETCH_TIMEOUT, verify=tls_context(), follow_redirects=False) as client,
            client.stream("GET", uri, headers=headers) as response,
        ):
            body = await aread_at_most(response, MAX_REQUEST_OBJECT)
    except (httpx.HTTPError, TooLarge, TimeoutError) as exc:
        logger.warning("request object of %s not fetched: %s", requester.oin, type(exc).__name__)
        raise unreachable from None
    if response.status_code in (404, 410):
        raise NotOpened(
            "not_found",
            _(
                "Dit verzoek kennen we niet bij %(name)s. Misschien is het al beantwoord of verlopen. "
                "Er is niets gedeeld. Vraag %(name)s om een nieuw verzoek."
            )
            % {"name": requester.name},
            requester=requester,
            status=404,
        )
    if response.status_code != 200:
        logger.warning("request object of %s not fetched: HTTP %d", requester.oin, response.status_code)
        raise unreachable
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise _unverified(requester) from None


def _unverified(requester: Participant) -> NotOpened:
    return NotOpened(
        "invalid_request",
        _(
            "We konden niet controleren dat dit verzoek echt van %(name)s komt. Er is niets gedeeld. "
            "Deel uw gegevens niet op een andere manier. Neem contact op met %(name)s."
        )
        % {"name": requester.name},
        requester=requester,
    )


def _expired(requester: Participant) -> NotOpened:
    return NotOpened(
        "expired",
        _("Dit verzoek is verlopen. Er is niets gedeeld. Wilt u toch delen? Vraag %(name)s om een nieuw verzoek.")
        % {"name": requester.name},
        requester=requester,
        status=410,
    )


def verified(scheme: SchemeDocument, client_id: str, request_object: str) -> openid4vp.AuthorizationRequest:
    """The request object verified now against the scheme: signed by a certified requester, not expired,
    asking only for document types and fields the catalogue knows; else :class:`NotOpened`."""
    requester = _requester(scheme, client_id)
    try:
        asked = openid4vp.verify_request(request_object, scheme, client_id=client_id)
    except ProtocolError as exc:
        logger.info("request object of %s refused: %s", requester.oin, exc.code)
        if exc.code == "expired":
            raise _expired(requester) from None
        if exc.code == "not_certified":
            raise _suspended(requester) from None
        raise _unverified(requester) from None
    catalogue = document_types.of(scheme)
    for query in asked.query.credentials:
        document_type = catalogue.by_vct(query.vct)
        if document_type is None or any(document_type.field(claim.path) is None for claim in query.claims):
            logger.warning("request object of %s asks for data the catalogue does not know", requester.oin)
            raise NotOpened(
                "unknown_data",
                _(
                    "%(name)s vraagt om gegevens die de Blauwe Knop niet kent. Daarom kunt u dit verzoek niet "
                    "beantwoorden. Er is niets gedeeld. Neem contact op met %(name)s."
                )
                % {"name": requester.name},
                requester=requester,
            )
    return asked


def link_key(client_id: str, uri: str) -> str:
    """What names one link (or code) of one requester, short and of one length, however long the link."""
    return hashlib.sha256(f"{client_id}\n{uri}".encode()).hexdigest()[:32]


async def opened_before(request: HttpRequest, client_id: str, uri: str) -> OpenedRequest | None:
    """The request this session opened last from this link: decided, or undecided and not expired; else ``None``."""
    if not request.session.session_key:
        return None
    found = (
        await OpenedRequest.objects.filter(session_id=request.session.session_key, link=link_key(client_id, uri))
        .order_by("-opened_at")
        .afirst()
    )
    if found is None or (found.decided_at is None and found.expires_at <= timezone.now()):
        return None
    return found


async def open(request: HttpRequest, client_id: str, uri: str, citizen: str) -> OpenedRequest:
    """Fetch and verify the request object at ``uri`` of requester ``client_id`` and keep it for this session.

    The object is fetched only from under the requester's own address in the scheme document.
    :class:`NotOpened` says why not, in plain words. ``citizen`` (a pseudonym) keeps at most
    :data:`KEEP_OPEN` undecided requests: opening another drops the oldest.
    """
    scheme = await scheme_client.current()
    requester = _requester(scheme, client_id[:40])
    if len(uri) > MAX_URI or not _served_by(requester, uri):
        logger.warning("request_uri for %s is not under its registered address", requester.oin)
        raise NotOpened(
            "wrong_origin",
            _(
                "Deze link komt niet van %(name)s. Daarom openen we hem niet. Er is niets gedeeld. "
                "Gebruik alleen een link of code die u van %(name)s zelf kreeg. Twijfelt u? Bel %(name)s."
            )
            % {"name": requester.name},
            requester=requester,
        )
    request_object = await _download(scheme, requester, uri)
    asked = verified(scheme, client_id, request_object)
    opened = await OpenedRequest.objects.acreate(
        session_id=request.session.session_key,
        citizen=citizen,
        link=link_key(client_id, uri),
        client_id=client_id,
        request_object=request_object,
        expires_at=datetime.fromtimestamp(asked.expires_at, UTC),
    )
    undecided = OpenedRequest.objects.filter(citizen=citizen, decided_at__isnull=True)
    kept = [pk async for pk in undecided.order_by("-opened_at", "-pk").values_list("pk", flat=True)[:KEEP_OPEN]]
    await undecided.exclude(pk__in=kept).adelete()
    return opened


async def mine(request: HttpRequest, opened_id: str) -> OpenedRequest | None:
    """The opened request ``opened_id`` if this session opened it; ``None`` for anyone else's."""
    if not request.session.session_key or len(opened_id) > 32:
        return None
    return await OpenedRequest.objects.filter(pk=opened_id, session_id=request.session.session_key).afirst()


@dataclass(frozen=True)
class AskedField:
    """One asked field in plain words: required (always shared) or optional (the citizen chooses)."""

    path: str
    label: str
    help: str
    required: bool


@dataclass(frozen=True)
class AskedType:
    """One credential query as the citizen reads it: a document type, its fields, and from whom it comes."""

    query_id: str
    type: DocumentType
    name: str
    required: bool
    multiple: bool
    fields: tuple[AskedField, ...]


def asked_types(scheme: SchemeDocument, asked: openid4vp.AuthorizationRequest) -> list[AskedType]:
    """The document types and fields of a verified request, with the catalogue's words in the page's language."""
    language, catalogue, shown = i18n.language(), document_types.of(scheme), []
    for query in asked.query.credentials:
        document_type = catalogue.by_vct(query.vct)
        if document_type is None:  # :func:`verified` refused it; a scheme that changed since shows nothing unknown
            continue
        fields = []
        for claim in query.claims:
            field = document_type.field(claim.path)
            label, help_text = (field.label[language], field.help[language]) if field else (claim.path, "")
            fields.append(AskedField(claim.path, label, help_text, claim.required))
        shown.append(
            AskedType(
                query.id, document_type, document_type.name[language], query.required, query.multiple, tuple(fields)
            )
        )
    return shown


def legal_basis(scheme: SchemeDocument, basis_id: str) -> dict[str, str]:
    """The name and explanation of a legal basis in the page's language (Dutch when the other is missing)."""
    entry = next((b for b in scheme.legal_bases if isinstance(b, dict) and b.get("id") == basis_id), {})
    language = i18n.language()

    def words(key: str) -> str:
        value = entry.get(key)
        return (value.get(language) or value.get("nl") or "") if isinstance(value, dict) else ""

    return {"name": words("name") or basis_id, "explanation": words("explanation"), "kind": entry.get("kind", "")}


def purpose(asked: openid4vp.AuthorizationRequest) -> str:
    """Why the requester asks, in the page's language; in Dutch when the requester gave no words in it."""
    return asked.terms.purpose.get(i18n.language()) or asked.terms.purpose.get("nl", "")


@dataclass(frozen=True)
class Choice:
    """What the citizen approved: per credential query the fields, and for standing access the last day."""

    approved: dict[str, list[str]]
    until: date | None


def _day(typed: str) -> date | None:
    """A date as a date field sends it (2027-12-31), or as people type it (31-12-2027, 31 12 2027)."""
    typed = typed.strip()[:20]
    try:
        return date.fromisoformat(typed)
    except ValueError:
        pass
    parts = typed.replace("/", "-").replace(".", "-").replace(" ", "-").split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return None
    return None


def choose(asked: openid4vp.AuthorizationRequest, form: QueryDict) -> tuple[Choice | None, dict[str, str]]:
    """Read the review form: the choice, or the errors by field name (``tot``, ``keuze``).

    Required fields are always in (whatever the form says); an optional field is in only when ticked; a
    field that was not asked for is never in. An optional document type is left out when its box is unticked.
    """
    approved, errors = {}, {}
    chosen_types = set(form.getlist("soort"))
    for query in asked.query.credentials:
        if not query.required and query.id not in chosen_types:
            continue
        ticked = set(form.getlist(f"veld-{query.id}"))
        approved[query.id] = [c.path for c in query.claims if c.required or c.path in ticked]
    if not any(approved.values()):
        errors["keuze"] = _("U koos niets om te delen. Zet een vinkje bij wat u wilt delen, of kies 'Nee, niet delen'.")
    until = None
    if asked.terms.access == openid4vp.STANDING:
        asked_until = date.fromisoformat(asked.terms.access_until) if asked.terms.access_until else None
        typed = form.get("tot", "")
        until = _day(typed) if typed.strip() else asked_until
        today = timezone.localdate()
        if until is None:
            errors["tot"] = _("Vul een datum in, bijvoorbeeld %(example)s.") % {
                "example": (asked_until or today).strftime("%d-%m-%Y")
            }
        elif until < today:
            errors["tot"] = _("Deze datum is al voorbij. Kies vandaag of een latere dag.")
        elif asked_until is not None and until > asked_until:
            errors["tot"] = _("Zo lang vraagt de organisatie het niet. Kies %(date)s of eerder.") % {
                "date": asked_until.strftime("%d-%m-%Y")
            }
    return (None if errors else Choice(approved, until)), errors


async def claim(opened: OpenedRequest) -> bool:
    """Take the decision on ``opened`` now; ``False`` if it was taken already (a second POST, another tab)."""
    taken = await OpenedRequest.objects.filter(pk=opened.pk, decided_at__isnull=True).aupdate(decided_at=timezone.now())
    return taken == 1


def _end_of(day: date) -> datetime:
    """The end of ``day`` in the portal's time zone: standing access lasts that whole day."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _authenticated(scheme: SchemeDocument, uri: str, data: dict[str, str]) -> dict[str, str]:
    """``data`` with a client assertion of this app manager for exactly ``uri``, signed with the key its entry in
    ``scheme`` names: the requester takes a refusal, a consent id and an end date only from the certified app
    manager, not from anyone who knows the state."""
    token = client_assertion.sign(
        signing.key_in(scheme, settings.PORTAL_OIN), client_id=settings.PORTAL_OIN, audience=uri
    )
    return {**data, "client_assertion_type": client_assertion.ASSERTION_TYPE, "client_assertion": token}


@dataclass(frozen=True)
class Reply:
    """The requester's reply to our answer: its HTTP status, and the problem code a refusal names, if any."""

    status: int
    code: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _problem_code(response: httpx.Response, body: bytes) -> str | None:
    """The ``code`` of a problem+json refusal; the requester's words never reach a page, only a code we know."""
    if response.status_code < 400 or "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        problem = json_loads(body)
    except ProtocolError:
        return None
    code = problem.get("code") if isinstance(problem, dict) else None
    return code if isinstance(code, str) and PROBLEM_CODE.fullmatch(code) else None


async def _post(scheme: SchemeDocument, uri: str, data: dict[str, str]) -> Reply | None:
    """POST ``data`` form-encoded and authenticated to the requester; its reply, or ``None`` when it could not
    be reached."""
    data = _authenticated(scheme, uri, data)
    await release_before_waiting()
    try:
        async with (
            asyncio.timeout(ANSWER_DEADLINE),
            httpx.AsyncClient(timeout=ANSWER_TIMEOUT, verify=tls_context(), follow_redirects=False) as client,
            client.stream("POST", uri, data=data, headers={"Accept-Encoding": "identity"}) as response,
        ):
            body = await aread_at_most(response, MAX_ANSWER_READ)
    except TooLarge:
        return Reply(response.status_code)
    except (httpx.HTTPError, TimeoutError) as exc:
        logger.warning("answer not delivered to %s: %s", urlsplit(uri).hostname, type(exc).__name__)
        return None
    return Reply(response.status_code, _problem_code(response, body))


def _outcome(kind: str, consent: Consent | None = None, **detail: Any) -> dict[str, Any]:
    """What the done page tells: ``kind`` (shared, refused, or why nothing was shared) and the details."""
    return {"uitkomst": kind, "toestemming": consent.pk if consent else "", **detail}


async def _deliver(
    scheme: SchemeDocument,
    asked: openid4vp.AuthorizationRequest,
    consent: Consent,
    wallet_key: SigningKey,
    citizen: Citizen,
    approved: dict[str, list[str]],
    until: date | None,
) -> dict[str, Any]:
    """Fetch fresh copies for the approved queries, present the approved fields, and POST them to the requester.

    ``until``: the last day of standing access the citizen approved, told to the requester as ``toegangTot``.
    """
    sharing = Sharing(asked.client_id, asked.terms.purpose.get("nl", ""), asked.terms.legal_basis, consent.pk)
    bound = dataclasses.replace(citizen, wallet_jwk=wallet_key.public_jwk)  # copies for this consent's key only
    try:
        presented = await presenting.gather_and_present(
            scheme, bound, wallet_key, consent.asked, approved, sharing=sharing, aud=asked.client_id, nonce=asked.nonce
        )
    except ProtocolError as exc:
        logger.error("share under consent %s: presenting failed: %s", consent.pk, exc.code)
        await sync_to_async(consents.not_delivered)(consent, "niet_gelukt")
        return _outcome("niet_gelukt", consent)
    names = {oin: p.name for oin, p in scheme.organisations.items()}
    unreachable = sorted(names.get(oin, oin) for oin in set(presented.unreachable))
    if presented.missing or not presented.vp_token:  # a required type nobody has: nothing goes
        missing = presented.missing
        logger.warning("share under consent %s not delivered: no copy of %s", consent.pk, ",".join(missing) or "-")
        await sync_to_async(consents.not_delivered)(consent, "ontbreekt")
        return _outcome("ontbreekt", consent, ontbreekt=missing, onbereikbaar=unreachable)
    # Which holders gave no answer now, as a standing fetch says (fetch_api): the requester knows the data are
    # not whole. An extra parameter, which OpenID4VP lets a verifier that does not know it ignore.
    answer = {
        "vp_token": json.dumps(presented.vp_token),
        "state": asked.state,
        "toestemming": consent.pk,
        "nietBereikt": json.dumps(sorted(set(presented.unreachable))),
    }
    if until is not None:
        answer["toegangTot"] = until.isoformat()
    reply = await _post(scheme, asked.response_uri, answer)
    if reply is None:  # it may have arrived: the requester takes the same answer again as the one it has
        reply = await _post(scheme, asked.response_uri, answer)
    if reply is None:
        # Perhaps stored, perhaps not: the consent stays, for the citizen to see and withdraw if they want.
        logger.warning("share under consent %s: not known whether the requester received it", consent.pk)
        return _outcome("onbekend", consent)
    if not reply.ok:
        logger.warning(
            "share under consent %s not delivered: the requester answered %s %s",
            consent.pk,
            reply.status,
            reply.code or "-",
        )
        # The request was made for one person, and the copies show another BSN: the citizen is told plainly.
        reason = "ander_persoon" if reply.code == "wrong_subject" else "niet_afgeleverd"
        await sync_to_async(consents.not_delivered)(consent, reason)
        return _outcome(reason, consent)
    detail = presented.detail(_given(scheme, consent, presented.vp_token, approved))
    await sync_to_async(consents.delivered)(consent, detail)
    return _outcome(
        "gedeeld",
        consent,
        bronnen={q: [names.get(oin, oin) for oin in oins] for q, oins in presented.holders.items()},
        velden=detail["velden"],
        onbereikbaar=unreachable,
    )


def _given(
    scheme: SchemeDocument, consent: Consent, vp_token: dict[str, list[str]], approved: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Per query the approved fields the presentations carry a value of: what the requester got (no values kept)."""
    catalogue, vcts = document_types.of(scheme), {q["id"]: q.get("vct") for q in consent.asked}
    given = {}
    for query_id, presentations in vp_token.items():
        document_type, paths = catalogue.by_vct(vcts.get(query_id)), list(approved.get(query_id, ()))
        if document_type is not None:
            claims = [sdjwt.unverified_claims(shown) for shown in presentations]
            found = {path for each in claims for path in display.given(document_type, each, paths)}
            paths = [path for path in paths if path in found]
        given[query_id] = paths
    return given


async def decide(
    opened: OpenedRequest,
    scheme: SchemeDocument,
    asked: openid4vp.AuthorizationRequest,
    citizen: Citizen,
    choice: Choice | None,
) -> dict[str, Any] | None:
    """Carry out the citizen's decision on ``opened``: ``choice`` to share, ``None`` to refuse.

    The decision is taken once: ``None`` when it was taken already (the form sent twice). Otherwise the
    outcome, also kept with ``opened`` for the done page.
    """
    if not await claim(opened):
        return None
    requester = scheme.organisations[asked.client_id]
    if choice is None:
        consent = await sync_to_async(consents.refuse)(
            citizen, asked, requester_name=requester.name, request_object=opened.request_object
        )
        reply = await _post(scheme, asked.response_uri, {"error": "access_denied", "state": asked.state})
        await OpenedRequest.objects.filter(pk=opened.pk).aupdate(consent=consent)
        result = _outcome("geweigerd", consent, verteld=reply is not None and reply.ok)
    else:
        consent, wallet_key = await sync_to_async(consents.give)(
            citizen,
            asked,
            requester_name=requester.name,
            request_object=opened.request_object,
            approved=choice.approved,
            valid_until=_end_of(choice.until) if choice.until else None,
        )
        await OpenedRequest.objects.filter(pk=opened.pk).aupdate(consent=consent)
        result = await _deliver(scheme, asked, consent, wallet_key, citizen, choice.approved, choice.until)
        if choice.until:
            result["tot"] = choice.until.isoformat()
    await OpenedRequest.objects.filter(pk=opened.pk).aupdate(outcome=result)
    return result
