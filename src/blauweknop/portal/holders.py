"""The portal's side of the holder API: ask a holder for certified copies, over HTTP.

Build for failure: a document type that a holder cannot deliver never stops the others, and the
citizen is told in plain words which organisation could not answer and what to do.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from blauweknop import document_types, signing
from blauweknop.capped import TooLarge, aread_at_most
from blauweknop.db import release_before_waiting
from blauweknop.portal.addressed import mismatch
from blauweknop.portal.events import remember_wallet
from blauweknop.portal.verification import TIMEOUT, tls_context, verify_received
from blauweknop.protocol import sdjwt, session_assertion
from blauweknop.protocol.encoding import json_loads
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument
from blauweknop.protocol.sdjwt_vc import VerifiedCredential
from blauweknop.protocol.session_assertion import Sharing
from blauweknop.pseudonyms import pseudonym

logger = logging.getLogger(__name__)

# A copy or a page of access records is far smaller; a holder that sends more is not read further.
MAX_ANSWER_BYTES = 1024 * 1024
MAX_PDF_BYTES = 8 * 1024 * 1024  # a printed copy is a few pages
# A holder's error code goes into our log only if it looks like one: a hostile holder could put a BSN in it.
ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
RECORD_FIELDS = ("tijdstip", "kenmerk", "gevraagdDoor", "documentsoort", "activiteit")
KENMERK = re.compile(r"[0-9a-f]{16}")
# Worth asking once more: the connection failed or broke, or a proxy said the holder is busy or away.
TRANSIENT_ERRORS = (httpx.NetworkError, httpx.RemoteProtocolError, httpx.TimeoutException)
TRANSIENT_STATUSES = frozenset({502, 503, 504})
RETRY_PAUSE = (0.1, 0.3)  # seconds, drawn at random so that portals that failed together do not retry together
RETRY_NEEDS = 0.2  # seconds an answer takes at least: a retry with less time left is not made
# What the operator's log calls a copy that failed verification, by the protocol's error code (others: that code).
VERIFICATION_REASONS = {
    "not_certified": "suspended_participant",  # signed by a holder the scheme suspended or revoked
    "unknown_organisation": "unknown_issuer",
    "unknown_key": "unknown_issuer",  # a key the scheme does not list for that holder
    "suspended": "revoked",  # its status list says it is not valid now
}
_jitter = random.SystemRandom()


@dataclass(frozen=True)
class Citizen:
    """Who is logged in, as the holder must be told: never printed, never logged."""

    bsn: str
    assurance_level: str
    wallet_jwk: dict[str, Any]

    def __repr__(self) -> str:
        return "Citizen(...)"

    @property
    def pseudonym(self) -> str:
        """How logs and records name this citizen: the keyed pseudonym, never the BSN."""
        return pseudonym(self.bsn)


class Kind(StrEnum):
    """How a holder answered for one document type: the overview tells these apart, Basis shows their problem."""

    COPY = "copy"  # a copy the portal verified itself
    ABSENT = "absent"  # the holder has no data of this type about the citizen: information, not a problem
    UNREACHABLE = "unreachable"  # down, too slow, a 5xx, or its status list could not be had
    REFUSED = "refused"  # it answered with an error other than "no data"
    UNTRUSTED = "untrusted"  # it sent something that failed verification


@dataclass(frozen=True)
class Fetched:
    """What a holder answered for one document type: a verified credential, or why not.

    ``reason`` is the code the operator's log names the failure by (``timeout``, ``http_503``, ``bad_signature``...);
    ``transient``: asking once more soon may well work (a dropped connection, a 502/503/504).
    ``verified``: what verifying ``credential`` found, so that nobody parses the copy again.
    """

    type_id: str
    kind: Kind
    credential: str | None = None
    verified: VerifiedCredential | None = None
    problem: str | None = None
    reason: str = ""
    transient: bool = False

    def __repr__(self) -> str:  # the copy holds personal data
        return f"Fetched({self.type_id}, {self.kind})"

    @property
    def absent(self) -> bool:
        """The holder said it has no data of this type about the citizen."""
        return self.kind == Kind.ABSENT


def http_client(requests: int = 0) -> httpx.AsyncClient:
    """A client for one fan-out to holders; connections live as long as the fan-out, in its own event loop.

    ``requests``: how many may be under way at once, so that none waits for a free connection.
    """
    limits = httpx.Limits(max_connections=max(requests, 100), max_keepalive_connections=max(requests, 20))
    return httpx.AsyncClient(timeout=TIMEOUT, verify=tls_context(), limits=limits)


# The fan-out's clients: per event loop (a connection belongs to the loop that opened it), one per holder,
# so that connections to holders are kept alive from one overview to the next. One pool per holder: a pool
# checks each of its idle connections (a poll of its socket) for every request and every answer, so one
# pool for all holders would cost each request a check of every holder's connection.
_fan_out_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
CONNECTIONS_PER_HOLDER = 20  # at once: a request per document type, and a retry


def fan_out_client(holder: Participant) -> httpx.AsyncClient:
    """The running event loop's client for ``holder`` in fan-outs; its connections are kept alive between uses.

    Never closed by its users: :func:`close_fan_out_clients` closes them, when the loop's work is done.
    """
    clients = _fan_out_clients.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(holder.oin)
    if client is None or client.is_closed:
        limits = httpx.Limits(max_connections=CONNECTIONS_PER_HOLDER, max_keepalive_connections=CONNECTIONS_PER_HOLDER)
        # No cookies: the client serves every citizen, so a cookie a holder set for one must never reach it for another.
        cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
        client = clients[holder.oin] = httpx.AsyncClient(
            timeout=TIMEOUT, verify=tls_context(), limits=limits, cookies=cookies
        )
    return client


async def close_fan_out_clients() -> None:
    """Close the running event loop's fan-out clients and their connections (at shutdown, or after a test)."""
    clients = _fan_out_clients.pop(asyncio.get_running_loop(), {})
    await asyncio.gather(*(client.aclose() for client in clients.values()))


def _unreachable(holder: Participant) -> str:
    return _("%(name)s is nu niet bereikbaar. Probeer het later nog eens.") % {"name": holder.name}


def _untrusted(holder: Participant) -> str:
    return _(
        "%(name)s stuurde gegevens die we niet konden controleren. We laten ze daarom niet zien. "
        "Probeer het later nog eens of neem contact op met %(name)s."
    ) % {"name": holder.name}


def _assertion(scheme: SchemeDocument, holder: Participant, citizen: Citizen, sharing: Sharing | None = None) -> str:
    """A fresh assertion for one call to ``holder``, signed with the key the portal's entry in ``scheme`` names:
    each one can be used once.

    ``sharing``: the copy is for a requester the citizen just agreed to share with (variant Plus).
    """
    return session_assertion.sign(
        signing.key_in(scheme, settings.PORTAL_OIN),
        app_manager_oin=settings.PORTAL_OIN,
        holder_oin=holder.oin,
        bsn=citizen.bsn,
        assurance_level=citizen.assurance_level,
        wallet_jwk=citizen.wallet_jwk,
        sharing=sharing,
    )


@dataclass(frozen=True)
class Answer:
    """A holder's answer: the HTTP status, the content type, and the JSON body (``None`` if it was not JSON)."""

    status: int
    content_type: str
    body: Any
    raw: bytes = b""

    def error_code(self) -> str:
        """The ``code`` of a problem answer, if it looks like a code at all; for our logs."""
        code = self.body.get("code") if isinstance(self.body, dict) else None
        return code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else "-"


async def _post(
    client: httpx.AsyncClient, holder: Participant, path: str, payload: dict[str, Any], limit: int = MAX_ANSWER_BYTES
) -> Answer:
    """POST ``payload`` to the holder's API, reading at most ``limit`` bytes of the answer."""
    headers = {"Accept-Encoding": "identity"}  # raw bytes: the cap below is then the memory it costs
    async with client.stream("POST", f"{holder.endpoints['api']}/{path}", json=payload, headers=headers) as response:
        try:
            body = await aread_at_most(response, limit)
        except TooLarge:
            logger.warning("holder %s answered %s with more than %d bytes", holder.oin, path, limit)
            return Answer(response.status_code, "", None)
    content_type = response.headers.get("Content-Type", "")
    try:
        # As strict as the protocol core: no page can show a lone surrogate or a duplicate member.
        parsed = json_loads(body) if "json" in content_type else None
    except ProtocolError:
        parsed = None
    return Answer(response.status_code, content_type, parsed, body)


def _failure(
    holder: Participant,
    type_id: str,
    subject: str,
    kind: Kind,
    reason: str,
    *,
    problem: str,
    transient: bool = False,
    detail: str = "-",
) -> Fetched:
    """A failure to fetch ``type_id``, logged for the operator by ``reason`` (never with a value from the answer)."""
    logger.warning(
        "holder %s gave no copy of %s for citizen %s: reason %s (%s)", holder.oin, type_id, subject, reason, detail
    )
    return Fetched(type_id, kind, problem=problem, reason=reason, transient=transient)


def _refusal(answer: Answer, holder: Participant, type_id: str, subject: str) -> Fetched:
    code = answer.error_code() if answer.content_type.startswith("application/problem+json") else "-"
    if code == "no_data" and answer.status == 404:
        logger.info("holder %s has no %s for citizen %s", holder.oin, type_id, subject)
        return Fetched(type_id, Kind.ABSENT)
    return _failure(
        holder,
        type_id,
        subject,
        Kind.UNREACHABLE if answer.status >= 500 else Kind.REFUSED,
        f"http_{answer.status}",
        problem=_("%(name)s gaf nu geen gegevens. Probeer het later nog eens.") % {"name": holder.name},
        transient=answer.status in TRANSIENT_STATUSES,
        detail=f"code {code}",
    )


async def _attempt(
    client: httpx.AsyncClient,
    scheme: SchemeDocument,
    holder: Participant,
    type_id: str,
    citizen: Citizen,
    sharing: Sharing | None = None,
) -> Fetched:
    subject = citizen.pseudonym
    payload = {"appbeheerderverklaring": _assertion(scheme, holder, citizen, sharing), "documentsoort": type_id}
    try:
        answer = await _post(client, holder, "verklaringen", payload)
    except httpx.HTTPError as exc:
        return _failure(
            holder,
            type_id,
            subject,
            Kind.UNREACHABLE,
            "timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable",
            problem=_unreachable(holder),
            transient=isinstance(exc, TRANSIENT_ERRORS),
            detail=type(exc).__name__,
        )
    if answer.status != 201:
        return _refusal(answer, holder, type_id, subject)
    credential = answer.body.get("verklaring") if isinstance(answer.body, dict) else None
    try:
        if not isinstance(credential, str):
            raise ProtocolError("malformed", "The holder's answer holds no credential.")
        # The portal shows nothing it could not verify itself, with the checks any receiver makes.
        verified = await verify_received(credential, scheme)
    except ProtocolError as exc:
        if exc.code == "status_unavailable":  # genuine or not, its status list could not be had now: an outage
            return _failure(
                holder, type_id, subject, Kind.UNREACHABLE, exc.code, problem=_unreachable(holder), transient=True
            )
        reason = VERIFICATION_REASONS.get(exc.code, exc.code)
        return _failure(
            holder, type_id, subject, Kind.UNTRUSTED, reason, problem=_untrusted(holder), detail=f"code {exc.code}"
        )
    if wrong := _not_asked_for(verified, scheme, holder, type_id, citizen):
        return _failure(holder, type_id, subject, Kind.UNTRUSTED, wrong, problem=_untrusted(holder))
    return Fetched(type_id, Kind.COPY, credential=credential, verified=verified)


def _not_asked_for(
    verified: VerifiedCredential, scheme: SchemeDocument, holder: Participant, type_id: str, citizen: Citizen
) -> str | None:
    """Why a genuine copy is not the one asked for (another issuer, type, wallet or citizen); ``None`` if it is."""
    return mismatch(
        verified,
        issuer=holder.endpoints.get("issuer", ""),
        type_id=type_id if type_id in holder.document_types else None,
        catalogue=document_types.of(scheme),
        wallet_jwk=citizen.wallet_jwk,
        bsn=citizen.bsn,
    )


async def fetch(
    client: httpx.AsyncClient,
    scheme: SchemeDocument,
    holder: Participant,
    type_id: str,
    citizen: Citizen,
    *,
    deadline: float | None = None,
    sharing: Sharing | None = None,
) -> Fetched:
    """The holder's copy of ``type_id`` for the citizen, verified here; or why there is none.

    ``deadline`` (on the event loop's clock; ``None``: none): a fetch not done by then is cancelled
    and unreachable. A transient failure is asked again once, after a short pause, if the deadline
    leaves time for it. ``sharing``: the copy is for a requester (the holder records it so); the
    citizen's ``wallet_jwk`` is then the consent's wallet key.
    """
    try:
        async with asyncio.timeout_at(deadline):
            fetched = await _attempt(client, scheme, holder, type_id, citizen, sharing)
            pause = _jitter.uniform(*RETRY_PAUSE)
            if not fetched.transient or (
                deadline is not None and asyncio.get_running_loop().time() + pause + RETRY_NEEDS > deadline
            ):
                return fetched
            logger.info("asking holder %s again for %s in %d ms", holder.oin, type_id, pause * 1000)
            await asyncio.sleep(pause)
            return await _attempt(client, scheme, holder, type_id, citizen, sharing)
    except TimeoutError:
        return _failure(
            holder, type_id, citizen.pseudonym, Kind.UNREACHABLE, "timeout", problem=_unreachable(holder), detail="late"
        )


async def fetch_all(scheme: SchemeDocument, holder: Participant, citizen: Citizen) -> list[Fetched]:
    """Every document type the holder issues, asked for at the same time."""
    await release_before_waiting()
    async with http_client(len(holder.document_types)) as client:
        fetched = await asyncio.gather(*(fetch(client, scheme, holder, t, citizen) for t in holder.document_types))
    await remember_until(citizen, [f.verified.expires_at for f in fetched if f.verified])
    return list(fetched)


async def remember_copies(citizen: Citizen, credentials: list[str]) -> None:
    """A check of any of these verified copies, until the last expires, shows on the citizen's access page."""
    await remember_until(citizen, [sdjwt.unverified_claims(c)["exp"] for c in credentials])


async def remember_until(citizen: Citizen, expiries: list[int]) -> None:
    """A check of the citizen's copies that expire at ``expiries`` (epoch seconds) shows on their access page."""
    if expiries:
        await remember_wallet(citizen, datetime.fromtimestamp(max(expiries), UTC))


@dataclass(frozen=True)
class AccessReport:
    """The reads of the citizen's data every holder recorded, and the holders that could not say."""

    records: list[dict[str, Any]]
    silent: list[str]


def _is_record(record: Any) -> bool:
    if not isinstance(record, dict) or not all(isinstance(record.get(f), str) for f in RECORD_FIELDS):
        return False
    try:
        moment = parse_datetime(record["tijdstip"])
    except ValueError:  # well formed, but not a real moment (e.g. month 13)
        return False
    # A record without a moment in a time zone or a proper kenmerk cannot be put in order.
    return moment is not None and moment.tzinfo is not None and KENMERK.fullmatch(record["kenmerk"]) is not None


async def _records(
    client: httpx.AsyncClient,
    scheme: SchemeDocument,
    holder: Participant,
    citizen: Citizen,
    paging: dict[str, Any],
    deadline: float,
) -> list[dict[str, Any]] | None:
    try:
        payload = {"appbeheerderverklaring": _assertion(scheme, holder, citizen), **paging}
        async with asyncio.timeout_at(deadline):
            answer = await _post(client, holder, "inzage", payload)
    except (httpx.HTTPError, TimeoutError) as exc:
        logger.warning(
            "holder %s not reachable for access records: code %s (%s)",
            holder.oin,
            "timeout" if isinstance(exc, TimeoutError | httpx.TimeoutException) else "unreachable",
            type(exc).__name__,
        )
        return None
    records = answer.body.get("inzages") if answer.status == 200 and isinstance(answer.body, dict) else None
    if not isinstance(records, list) or not all(_is_record(r) for r in records):
        logger.warning(
            "holder %s gave no usable access records: HTTP %d, code %s", holder.oin, answer.status, answer.error_code()
        )
        return None
    return [{**record, "houder": holder.oin} for record in records]


async def access_report(
    scheme: SchemeDocument, citizen: Citizen, paging: Callable[[str], dict[str, Any]]
) -> AccessReport:
    """Ask every certified holder at once for a page of the reads of the citizen's data it recorded.

    ``paging`` gives, for a holder's OIN, which page to ask it for (see the holder API's ``inzage``).
    A holder that has not answered within ``settings.OVERVIEW_TIMEOUT`` is named as silent.
    """
    holders = [p for p in scheme.organisations.values() if scheme.is_certified(p.oin, HOLDER)]
    deadline = asyncio.get_running_loop().time() + settings.OVERVIEW_TIMEOUT
    await release_before_waiting()
    async with http_client(len(holders)) as client:
        answers = await asyncio.gather(
            *(_records(client, scheme, holder, citizen, paging(holder.oin), deadline) for holder in holders)
        )
    records = [r for answer in answers if answer for r in answer]
    silent = [holder.name for holder, answer in zip(holders, answers, strict=True) if answer is None]
    return AccessReport(records, silent)


async def print_copy(
    scheme: SchemeDocument,
    holder: Participant,
    citizen: Citizen,
    presentation: str,
    language: str,
    code: str | None = None,
) -> bytes | None:
    """A PDF of ``presentation``, signed by the holder that issued it; ``None`` if it cannot be made now.

    The holder prints only for a certified app manager, and only the logged-in citizen's own copy.
    ``code``: the check code this portal keeps the copy under, printed on the PDF.
    """
    payload = {
        "appbeheerderverklaring": _assertion(scheme, holder, citizen),
        "verklaring": presentation,
        "taal": language,
    }
    if code is not None:
        payload["controlecode"] = code
    await release_before_waiting()
    try:
        async with http_client() as client:
            answer = await _post(client, holder, "afdrukken", payload, limit=MAX_PDF_BYTES)
    except httpx.HTTPError as exc:
        logger.warning("holder %s not reachable for printing: code unreachable (%s)", holder.oin, type(exc).__name__)
        return None
    if answer.status != 200 or answer.content_type != "application/pdf":
        logger.warning("holder %s refused to print: HTTP %d, code %s", holder.oin, answer.status, answer.error_code())
        return None
    return answer.raw
