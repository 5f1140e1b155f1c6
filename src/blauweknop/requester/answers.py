"""The answer to a share request (OpenID4VP ``direct_post`` to ``<endpoints.requester>/antwoorden``).

The wallet posts, form-encoded, ``state`` and either ``vp_token`` or ``error=access_denied``; the
portal adds ``toestemming`` (its consent record id), for standing access ``toegangTot`` (the last
day the citizen approved, never later than asked), and ``nietBereikt`` (a JSON list of the OINs of
the holders that gave it no answer: what they hold is missing; kept as ``ShareRequest.not_reached``).
Every presentation is verified first, off any transaction; then, in one transaction, the request is
answered once, each presentation is accepted once (a replay is refused) and only the disclosed claims
are stored, with their end date.

Anyone who fetched the request object knows its ``state``. So a refusal, and the consent id, the end
date of standing access and the holders not reached, count only with a client assertion of a certified
app manager for exactly this address (``client_assertion_type``, ``client_assertion``; each once). A
presentation proves itself: without an assertion (another OpenID4VP wallet) it is taken as a one-time answer.

A request the back office made for one citizen (``ShareRequest.subject``) takes only presentations
that show that citizen's BSN: anyone with the link can answer, and another citizen's data must not
end up in this citizen's file. Such an answer is refused and the request stays open; the BSN is
checked against the pseudonym and not kept, as the back office named it itself.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from django.utils import timezone

from blauweknop.api import ApiProblem
from blauweknop.db import write_transaction
from blauweknop.protocol import client_assertion, dcql, openid4vp, sdjwt
from blauweknop.protocol.client_assertion import ClientAssertion
from blauweknop.protocol.encoding import json_loads
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.scheme_document import APP_MANAGER, SchemeDocument
from blauweknop.protocol.validity import DEFAULT_LEEWAY
from blauweknop.pseudonyms import pseudonym
from blauweknop.requester import asking, copy_state, outbound
from blauweknop.requester.models import ReceivedCredential, ShareRequest, UsedClientAssertion, UsedPresentation
from blauweknop.requester.tenants import RequesterTenant

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # the whole form; the deployment's own limit (MAX_REQUEST_BODY) is not larger
MAX_FIELDS = 10
FORM = "application/x-www-form-urlencoded"
CONSENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Our states are 22 or more URL-safe characters; anything else is not looked up (PostgreSQL refuses a NUL).
STATE = re.compile(r"[\x20-\x7e]{22,128}")  # printable ASCII
MAX_NOT_REACHED = 200  # holders an answer may name as not reached: far more than issue any one type
OIN = re.compile(r"[0-9]{20}")
# A presentation's Key Binding JWT is accepted for this long: until then, the same one again is a replay.
PRESENTATION_KEPT = timedelta(seconds=sdjwt.DEFAULT_KB_MAX_AGE + 2 * DEFAULT_LEEWAY)


def _invalid(detail: str) -> ApiProblem:
    return ApiProblem(400, "invalid_request", detail)


def read_form(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a form-encoded answer; 400/413/415 problems for anything else. Each field once."""
    if content_type.split(";")[0].strip().lower() != FORM:
        raise ApiProblem(415, "unsupported_media_type", f"Send the answer as {FORM}.")
    if len(body) > MAX_BODY:
        raise ApiProblem(413, "too_large", "The answer is too large.")
    try:
        pairs = parse_qsl(
            body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid("The answer is not a valid form.") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        raise _invalid("A field of the answer appears more than once.")
    return form


def _named_request(tenant: RequesterTenant, state: str | None, now: datetime) -> ShareRequest:
    """The request of ``tenant`` named by ``state``, open or answered; the problem when there is none to answer."""
    known = state is not None and STATE.fullmatch(state) is not None
    share_request = ShareRequest.objects.filter(requester=tenant.requester, state=state).first() if known else None
    if share_request is None:
        raise _invalid("No request of this organisation has this state.")
    if share_request.status == ShareRequest.State.EXPIRED or (
        share_request.status == ShareRequest.State.OPEN and share_request.expires_at <= now
    ):
        raise ApiProblem(400, "request_expired", "This request can no longer be answered.")
    return share_request


ALREADY_ANSWERED = ApiProblem(409, "already_answered", "This request was answered already.")
WRONG_SUBJECT = ApiProblem(
    400,
    "wrong_subject",
    "These data are not about the person this request is for. Nothing was kept. "
    "The request stays open for that person to answer.",
)


def _repeated(
    tenant: RequesterTenant, share_request: ShareRequest, form: dict[str, str], consent: str, now: datetime
) -> bool:
    """Whether ``form`` is the answer ``share_request`` accepted, sent again because its reply was lost. Blocking.

    The same presentations (each bound to this request's nonce, each accepted once, so accepted for
    this request) and the same consent id: nothing new, so nothing is stored again.
    """
    if share_request.status != ShareRequest.State.APPROVED or share_request.consent != consent:
        return False
    request = asking.authorization_request(share_request, tenant)
    try:
        digests = {item.digest for item in verified(form["vp_token"], request, tenant.scheme, int(now.timestamp()))}
    except ProtocolError:
        return False
    answered = share_request.received.filter(via=ReceivedCredential.Via.ANSWER).count()
    return len(digests) == answered == UsedPresentation.objects.filter(digest__in=digests).count()


def _app_manager(tenant: RequesterTenant, form: dict[str, str], now: datetime) -> ClientAssertion | None:
    """The app manager's verified client assertion in the answer; ``None`` when it has none; 401/403 if it fails."""
    token = form.get("client_assertion")
    if token is None and "client_assertion_type" not in form:
        return None
    if form.get("client_assertion_type") != client_assertion.ASSERTION_TYPE or not token:
        raise ApiProblem(401, "invalid_client", f"Send client_assertion_type {client_assertion.ASSERTION_TYPE}.")
    return app_manager(tenant, token, asking.response_uri(tenant), now)


def app_manager(tenant: RequesterTenant, token: str, audience: str, now: datetime) -> ClientAssertion:
    """A certified app manager's client assertion for exactly ``audience``, verified; 401 (403 ``not_certified``)."""
    try:
        return client_assertion.verify(
            token, tenant.scheme, audience=audience, role=APP_MANAGER, now=int(now.timestamp())
        )
    except VerificationError as exc:
        raise ApiProblem(403 if exc.code == "not_certified" else 401, exc.code, exc.message) from exc


def used_once(assertion: ClientAssertion | None) -> None:
    """Mark ``assertion`` used, for as long as it verifies; 401 if it was used before. In the caller's transaction."""
    if assertion is None:
        return
    kept_until = datetime.fromtimestamp(assertion.expires_at + DEFAULT_LEEWAY, UTC)
    if not UsedClientAssertion.use(assertion.replay_key(), kept_until):
        raise ApiProblem(401, "assertion_replayed", "This client assertion was used before. Make a new one.")


def _consent_id(form: dict[str, str]) -> str:
    value = form.get("toestemming", "")
    if value and not CONSENT_ID.fullmatch(value):
        raise _invalid("toestemming is not a consent record id.")
    return value


def _approved_until(form: dict[str, str], share_request: ShareRequest, today: date) -> date | None:
    """The last day of standing access as the citizen approved it: the asked one, or earlier, not past."""
    if share_request.access != ShareRequest.Access.STANDING:
        return None
    typed = form.get("toegangTot")
    if not typed:
        return share_request.access_until
    try:
        until = date.fromisoformat(typed) if ISO_DATE.fullmatch(typed) else None
    except ValueError:
        until = None
    if until is None or not today <= until <= share_request.access_until:
        raise _invalid("toegangTot must be a date from today up to the end date asked for.")
    return until


def not_reached(body: Any) -> list[str]:
    """The OINs of the holders the app manager's answer names as not reached (``nietBereikt``).

    What it sends is read with care: at most :data:`MAX_NOT_REACHED`, and only what looks like an OIN.
    """
    named = body.get("nietBereikt") if isinstance(body, dict) else None
    if not isinstance(named, list):
        return []
    return sorted({oin for oin in named[:MAX_NOT_REACHED] if isinstance(oin, str) and OIN.fullmatch(oin)})


def _not_reached_in(form: dict[str, str]) -> list[str]:
    """``nietBereikt`` of a form-encoded answer: a JSON list of OINs (none when it is left out)."""
    if "nietBereikt" not in form:
        return []
    try:
        return not_reached({"nietBereikt": json_loads(form["nietBereikt"])})
    except ProtocolError as exc:
        raise _invalid("nietBereikt is not a JSON list of OINs.") from exc


def verified(
    vp_token: Any, request: openid4vp.AuthorizationRequest, scheme: SchemeDocument, now: int
) -> list[openid4vp.Received]:
    """Every presentation in ``vp_token`` verified against ``request``; a :class:`ProtocolError` if any fails.

    Blocking: it fetches the status lists of the copies from their holders.
    """
    return openid4vp.verify_response(vp_token, request, scheme, status_lists=outbound.status_lists(), now=now)


def about_subject(share_request: ShareRequest, query: dcql.Query, received: Iterable[openid4vp.Received]) -> bool:
    """Whether ``received`` is about the citizen ``share_request`` is for; always, for a request for nobody.

    Each presentation of a type asked the BSN (every type that has one, requester.asking) must show the
    very BSN named, and at least one must: constant-time, against the pseudonym the request keeps.
    """
    if not share_request.subject:
        return True
    bound = {credential.id for credential in query.credentials if asking.SUBJECT in credential.paths()}
    shown = [item.claims.get(asking.SUBJECT) for item in received if item.query_id in bound]
    return bool(shown) and all(
        isinstance(bsn, str) and hmac.compare_digest(pseudonym(bsn).encode(), share_request.subject.encode())
        for bsn in shown
    )


def _kept(share_request: ShareRequest, claims: dict[str, Any]) -> dict[str, Any]:
    """The claims to keep: without the BSN of a request for one citizen (checked, and the back office has it)."""
    if not share_request.subject:
        return claims
    return {name: value for name, value in claims.items() if name != asking.SUBJECT}


def _refused(exc: ProtocolError) -> ApiProblem:
    """The problem for a presentation that failed verification."""
    if exc.code == "status_unavailable":  # genuine or not, this cannot be told now: the wallet may try again
        return ApiProblem(503, exc.code, "The status of a copy could not be checked now. Try again later.")
    return ApiProblem(400, "invalid_request" if exc.code == "invalid_request" else "invalid_presentation", exc.message)


def store(
    tenant: RequesterTenant,
    share_request: ShareRequest,
    received: Iterable[openid4vp.Received],
    via: str,
    now: datetime,
) -> list[ReceivedCredential]:
    """Accept each presentation once and keep only its disclosed claims, until the retention term ends.

    Call inside the caller's transaction: a replayed presentation refuses the whole answer.
    """
    rows = []
    for item in received:
        if not UsedPresentation.use(item.digest, now + PRESENTATION_KEPT):
            raise ApiProblem(400, "invalid_presentation", "A presentation in this answer was received before.")
        rows.append(
            ReceivedCredential(
                request=share_request,
                requester=tenant.requester,
                via=via,
                query_id=item.query_id,
                issuer_oin=tenant.scheme.issuer(item.iss).oin,
                vct=item.vct,
                claims=_kept(share_request, item.claims),
                received_at=now,
                delete_after=now + timedelta(days=share_request.retention_days),
                **copy_state.reference(item.status, item.expires_at),
            )
        )
    return ReceivedCredential.objects.bulk_create(rows)


def answer(tenant: RequesterTenant, form: dict[str, str], *, now: datetime | None = None) -> ShareRequest:
    """Take the wallet's answer to one of ``tenant``'s open requests; the request as it now stands. Blocking.

    The accepted answer sent again is taken as it was (its reply may have been lost); any other answer to
    an answered request is refused. Problems: 400 ``invalid_request`` (unknown state, bad fields), 400
    ``request_expired``, 401 ``invalid_client`` / ``assertion_replayed``, 409 ``already_answered``, 400
    ``invalid_presentation``, 400 ``wrong_subject`` (the request stays open), 503 ``status_unavailable``.
    """
    now = now or timezone.now()
    share_request = _named_request(tenant, form.get("state"), now)
    consent = _consent_id(form)
    app_manager = _app_manager(tenant, form, now)
    if share_request.status != ShareRequest.State.OPEN:
        if not form.get("vp_token") or not _repeated(tenant, share_request, form, consent if app_manager else "", now):
            raise ALREADY_ANSWERED
        with write_transaction():
            used_once(app_manager)
        return share_request
    error = form.get("error")
    if error is not None:
        if error != "access_denied" or "vp_token" in form:
            raise _invalid("The only error this endpoint takes is access_denied, without a vp_token.")
        if app_manager is None:  # anyone with the request object knows its state
            raise ApiProblem(401, "invalid_client", "A refusal counts only with the app manager's client assertion.")
        return _close(tenant, share_request, ShareRequest.State.REFUSED, consent, None, [], now, app_manager)
    if not form.get("vp_token"):
        raise _invalid("The answer holds neither vp_token nor error.")
    until, missing = None, []
    if app_manager is None:  # another wallet: the data, once; no standing access without the certified app manager
        consent = ""
    else:
        missing = _not_reached_in(form)
        if not consent and share_request.access == ShareRequest.Access.STANDING:
            raise _invalid("Standing access needs the consent record id (toestemming).")
        until = _approved_until(form, share_request, timezone.localdate(now))
    request = asking.authorization_request(share_request, tenant)
    try:
        received = verified(form["vp_token"], request, tenant.scheme, int(now.timestamp()))
    except ProtocolError as exc:
        raise _refused(exc) from exc
    if not about_subject(share_request, request.query, received):
        logger.warning(
            "requester %s: an answer to request %s does not show the citizen it is for; refused",
            tenant.oin,
            share_request.pk,
        )
        raise WRONG_SUBJECT
    return _close(
        tenant, share_request, ShareRequest.State.APPROVED, consent, until, received, now, app_manager, missing
    )


def _close(
    tenant: RequesterTenant,
    share_request: ShareRequest,
    status: str,
    consent: str,
    until: date | None,
    received: list[openid4vp.Received],
    now: datetime,
    app_manager: ClientAssertion | None,
    missing: list[str] | None = None,
) -> ShareRequest:
    """Answer ``share_request`` once, as ``status``; ``missing``: the holders the app manager did not reach."""
    with write_transaction():
        used_once(app_manager)
        # Two answers at once: the first to get here answers the request, the other finds it answered.
        updated = ShareRequest.objects.filter(pk=share_request.pk, status=ShareRequest.State.OPEN).update(
            status=status,
            consent=consent,
            app_manager=app_manager.client_id if app_manager and consent else "",
            approved_until=until,
            answered_at=now,
            not_reached=missing or [],
        )
        if not updated:
            raise ALREADY_ANSWERED
        store(tenant, share_request, received, ReceivedCredential.Via.ANSWER, now)
    share_request.refresh_from_db()
    return share_request
