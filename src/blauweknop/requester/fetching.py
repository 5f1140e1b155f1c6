"""Fetching without the citizen at hand: under standing access (through the portal), or on a legal basis (a holder).

Standing access: the portal keeps the citizen's consent and asks the holders anew; the requester
authenticates with a client assertion and a fresh nonce, and checks the presentations against its
own request, bound to that nonce. Legal basis (docs/plus.md §5): a holder issues a copy straight to
the requester, bound to the requester's own key (``cnf``), with only what the law allows.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from blauweknop import document_types
from blauweknop.db import write_transaction
from blauweknop.protocol import client_assertion, sdjwt_vc
from blauweknop.protocol.errors import InvalidInput, ProtocolError
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.protocol.jwk import thumbprint
from blauweknop.protocol.scheme_document import HOLDER
from blauweknop.requester import answers, asking, copy_state, outbound, tenants
from blauweknop.requester.models import ReceivedCredential, ShareRequest, new_nonce
from blauweknop.requester.tenants import RequesterTenant

logger = logging.getLogger(__name__)

# What the requester's staff and back office are told for each refusal the portal or a holder may give.
REFUSALS = {
    "consent_withdrawn": "The citizen withdrew this consent. Ask again if you still need the data.",
    "consent_expired": "The standing access has ended. Ask again if you still need the data.",
    "not_your_consent": "The portal does not know this consent for this organisation.",
    "consent_refused": "The citizen refused this request.",
    "not_standing": "The citizen gave one-time access only. Ask again if you need the data again.",
    "not_certified": "This organisation may not fetch data now: its certification is suspended or revoked.",
    "no_standing_access": "This request gives no standing access: the citizen did not approve it, or it was one-time.",
    "beyond_legal_basis": "The legal basis does not allow this organisation to fetch this.",
}
# A refusal that ends the standing access for good: the request says so from now on.
ENDS_ACCESS = {
    "consent_withdrawn": ShareRequest.State.WITHDRAWN,
    "consent_expired": ShareRequest.State.EXPIRED,
}
# Access that ended (the app manager told, or an earlier fetch found out) is refused here, without asking.
ENDED = {state: code for code, state in ENDS_ACCESS.items()}


class FetchRefused(Exception):
    """The portal or the holder refused the fetch: a stable code and a plain sentence."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        self.code = code
        self.detail = detail or REFUSALS.get(code, "The fetch was refused.")
        super().__init__(f"{code}: {self.detail}")


class FetchFailed(Exception):
    """The portal or the holder could not be reached, or sent something that cannot be trusted."""

    def __init__(self, code: str, detail: str) -> None:
        self.code, self.detail = code, detail
        super().__init__(f"{code}: {detail}")


def _call(url: str, tenant: RequesterTenant, payload: dict[str, Any]) -> outbound.Answer:
    """POST ``payload`` to ``url`` with a fresh client assertion for exactly that address."""
    assertion = client_assertion.sign(tenant.signing_key(), client_id=tenant.oin, audience=url)
    body = {**payload, "client_assertion_type": client_assertion.ASSERTION_TYPE, "client_assertion": assertion}
    try:
        return outbound.post_json(url, body)
    except outbound.Unreachable as exc:
        logger.warning("requester %s could not reach %s: %s", tenant.oin, url, exc)
        raise FetchFailed("unreachable", "The other party could not be reached in time. Try again later.") from exc


def _refusal(answer: outbound.Answer, tenant: RequesterTenant, url: str) -> Exception:
    """What a non-success answer means: a refusal (4xx with a code), or a failure."""
    code = answer.error_code()
    logger.warning("requester %s: %s answered HTTP %d, code %s", tenant.oin, url, answer.status, code or "-")
    if 400 <= answer.status < 500 and code is not None:
        return FetchRefused(code)
    return FetchFailed("upstream_failed", f"The other party answered with HTTP status {answer.status}.")


def _end_access(share_request: ShareRequest, code: str) -> None:
    if code in ENDS_ACCESS:
        ShareRequest.objects.filter(pk=share_request.pk, status=ShareRequest.State.APPROVED).update(
            status=ENDS_ACCESS[code], ended_at=timezone.now()
        )


def standing_fetch(
    tenant: RequesterTenant, share_request: ShareRequest, *, now: datetime | None = None
) -> list[ReceivedCredential]:
    """Fetch the data of an approved standing request again, through the portal; what was stored. Blocking.

    The holders that gave the portal no answer now are kept on ``share_request`` (and its row) as
    ``not_reached``: what they hold is missing from this fetch (attacker review A8).

    :class:`FetchRefused` when the portal refuses (``consent_withdrawn``, ``consent_expired``,
    ``not_your_consent``, ``not_certified``) or the request gives no standing access;
    :class:`FetchFailed` when the portal cannot be reached or its answer does not verify, or (``wrong_subject``)
    is not about the citizen a request for one citizen is for.
    """
    now = now or timezone.now()
    if share_request.requester_id == tenant.oin and share_request.status in ENDED:
        raise FetchRefused(ENDED[share_request.status])
    if (
        share_request.requester_id != tenant.oin
        or share_request.access != ShareRequest.Access.STANDING
        or share_request.status != ShareRequest.State.APPROVED
        or not share_request.consent
    ):
        raise FetchRefused("no_standing_access")
    if share_request.approved_until is None or share_request.approved_until < timezone.localdate(now):
        _end_access(share_request, "consent_expired")
        raise FetchRefused("consent_expired")
    url = f"{tenants.wallet(tenant.scheme).endpoints['fetch'].rstrip('/')}/ophalingen"
    nonce = new_nonce()
    answer = _call(url, tenant, {"toestemming": share_request.consent, "nonce": nonce})
    if answer.status != 200:
        refusal = _refusal(answer, tenant, url)
        if isinstance(refusal, FetchRefused):
            _end_access(share_request, refusal.code)
        raise refusal
    vp_token = answer.body.get("vp_token") if isinstance(answer.body, dict) else None
    # The same request, answered anew: bound to this fetch's own nonce, so no earlier answer can be replayed.
    request = dataclasses.replace(asking.authorization_request(share_request, tenant), nonce=nonce)
    try:
        received = answers.verified(vp_token, request, tenant.scheme, int(now.timestamp()))
    except ProtocolError as exc:
        logger.warning("requester %s: the portal's answer to a standing fetch failed: %s", tenant.oin, exc.code)
        raise FetchFailed(exc.code, exc.message) from exc
    if not answers.about_subject(share_request, request.query, received):
        logger.warning("requester %s: the portal's answer to a standing fetch is not about the citizen", tenant.oin)
        raise FetchFailed("wrong_subject", "The portal sent data that are not about the person this request is for.")
    share_request.not_reached = answers.not_reached(answer.body)
    with write_transaction():
        ShareRequest.objects.filter(pk=share_request.pk).update(not_reached=share_request.not_reached)
        return answers.store(tenant, share_request, received, ReceivedCredential.Via.STANDING, now)


def _allowed(
    tenant: RequesterTenant, basis_id: str, type_id: str, paths: list[str], purpose_code: str, retention_days: int
) -> None:
    """Refuse locally what the register of legal bases does not allow: the holder would refuse it too."""
    basis = asking.legal_basis(tenant.scheme, basis_id)
    if basis is None or basis.get("kind") != "law":
        raise FetchRefused("beyond_legal_basis", "The legal basis is not a law in the scheme's register.")
    if tenant.oin not in (basis.get("vragers") or []):
        raise FetchRefused("beyond_legal_basis", "This legal basis does not name this organisation.")
    allowed = (basis.get("documentsoorten") or {}).get(type_id)
    if not isinstance(allowed, list) or not set(paths) <= set(allowed):
        raise FetchRefused("beyond_legal_basis", "The legal basis does not allow these fields of this document type.")
    purpose = basis.get("doel")
    if isinstance(purpose, dict) and purpose.get("code") != purpose_code:
        raise FetchRefused("beyond_legal_basis", "The legal basis names another purpose.")
    longest = basis.get("maxBewaartermijnDagen")
    if not isinstance(longest, int) or retention_days > longest:
        raise FetchRefused("beyond_legal_basis", "The retention term is longer than the legal basis allows.")


def _own_thumbprints(tenant: RequesterTenant) -> frozenset[str]:
    """The requester's keys a copy may be bound to: every key its entry lists and nobody revoked.

    During a key rotation the holder may bind the copy to the retiring key or to the new one (it reads the
    scheme document on its own clock), and both are this requester's; a revoked key is nobody's any more.
    """
    keys = tenant.participant.keys
    return frozenset(thumbprint(key.jwk) for key in keys.keys if key.kid not in keys.revoked)


def _mismatch(
    verified: sdjwt_vc.VerifiedCredential,
    tenant: RequesterTenant,
    holder_oin: str,
    type_id: str,
    paths: list[str],
    bsn: str,
) -> str | None:
    """Why a genuine copy is not the one asked for (another issuer, type, key, more fields, another citizen)."""
    # Any listed version of the type: the holder may read a newer scheme document than ours, for a few minutes.
    document_type = document_types.of(tenant.scheme).by_vct(verified.vct)
    if verified.iss != tenant.scheme.organisation(holder_oin).endpoints.get("issuer"):
        return "wrong_issuer"
    if document_type is None or document_type.id != type_id:
        return "wrong_type"
    if verified.holder_jwk is None or thumbprint(verified.holder_jwk) not in _own_thumbprints(tenant):
        return "wrong_key"
    # A nested field comes with its parents' disclosures ("naam" for "naam.voornamen", "vorderingen.0" for an item).
    asked = set(paths) | {path.rsplit(".", n)[0] for path in paths for n in range(1, path.count(".") + 1)}
    shown = {".".join(part for part in path.split(".") if not part.isdigit()) for path in verified.disclosed}
    if not shown <= asked:
        return "beyond_request"
    # The holder need not show the BSN (the law may not allow it); if it does, it must be the one asked about.
    subject = verified.claims.get("burgerservicenummer", bsn)
    if not isinstance(subject, str) or not hmac.compare_digest(subject.encode(), bsn.encode()):
        return "wrong_subject"
    return None


def _checked_copy(
    tenant: RequesterTenant, holder_oin: str, type_id: str, paths: list[str], bsn: str, body: Any
) -> sdjwt_vc.VerifiedCredential:
    """The verified copy in a holder's answer, if it is the one asked for; :class:`FetchFailed` otherwise."""
    credential = body.get("verklaring") if isinstance(body, dict) else None
    if not isinstance(credential, str):
        raise FetchFailed("upstream_failed", "The holder's answer holds no copy.")
    try:
        # Bound to the requester's own key (cnf) rather than presented with key binding: nobody else holds it.
        verified = sdjwt_vc.verify(
            credential, tenant.scheme.issuer_keys(), status_lists=outbound.status_lists(), require_key_binding=False
        )
    except ProtocolError as exc:
        logger.warning("requester %s: a copy from holder %s failed verification: %s", tenant.oin, holder_oin, exc.code)
        raise FetchFailed(exc.code, exc.message) from exc
    if wrong := _mismatch(verified, tenant, holder_oin, type_id, paths, bsn):
        logger.warning(
            "requester %s: a copy from holder %s is not the one asked for: %s", tenant.oin, holder_oin, wrong
        )
        raise FetchFailed("invalid_presentation", "The holder sent a copy that is not the one asked for.")
    return verified


def lawful_fetch(
    tenant: RequesterTenant,
    *,
    holder_oin: str,
    bsn: str,
    type_id: str,
    paths: list[str],
    legal_basis: str,
    purpose: str,
    retention_days: int,
    now: datetime | None = None,
) -> ReceivedCredential:
    """Fetch ``paths`` of ``type_id`` about ``bsn`` from a holder on a legal basis; the stored claims. Blocking.

    ``purpose`` is the code of the purpose the legal basis names (its ``doel.code``).

    :class:`InvalidInput` for input that cannot be right; :class:`FetchRefused` for what the legal
    basis or the holder does not allow; :class:`FetchFailed` when the holder cannot be reached or its
    copy is not the one asked for.
    """
    now = now or timezone.now()
    if not is_valid_bsn(bsn):
        raise InvalidInput("bad_bsn")
    if not paths or len(set(paths)) != len(paths):
        raise InvalidInput("invalid_request", "Name each field once, and at least one.")
    _allowed(tenant, legal_basis, type_id, paths, purpose, retention_days)
    holder = tenant.scheme.organisations.get(holder_oin)
    if holder is None or not tenant.scheme.is_certified(holder_oin, HOLDER) or type_id not in holder.document_types:
        raise InvalidInput("invalid_request", "No certified holder with this OIN issues this document type.")
    url = f"{holder.endpoints['api'].rstrip('/')}/wettelijke-verstrekkingen"
    payload = {
        "burgerservicenummer": bsn,
        "documentsoort": type_id,
        "velden": paths,
        "grondslag": legal_basis,
        "doel": purpose,
        "bewaartermijnDagen": retention_days,
    }
    answer = _call(url, tenant, payload)
    if answer.status not in (200, 201):
        raise _refusal(answer, tenant, url)
    verified = _checked_copy(tenant, holder_oin, type_id, paths, bsn, answer.body)
    with write_transaction():
        return ReceivedCredential.objects.create(
            request=None,
            requester=tenant.requester,
            via=ReceivedCredential.Via.LAW,
            query_id=type_id,
            issuer_oin=holder_oin,
            vct=verified.vct,
            claims=verified.claims,
            received_at=now,
            delete_after=now + timedelta(days=retention_days),
            **copy_state.reference(verified.status, verified.expires_at),
        )
