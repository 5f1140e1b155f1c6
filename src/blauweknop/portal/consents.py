"""The consent register: every decision of a citizen on a requester's request, and what happened under it.

One :class:`Consent` per decision (given or refused) and its events (docs/plus.md §7). A standing
consent keeps what a later fetch needs without the citizen: the BSN and a private wallet key made for
this consent only, sealed with AES-256-GCM under a key derived from ``BLAUWEKNOP_VAULT_KEY`` (another
derivation than the vault's), bound to the consent's id. Withdrawing or expiring a consent wipes that
seal at once: from then on nothing can be fetched under it, even from a backup taken later.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from blauweknop import document_types
from blauweknop.db import erase_deleted, lock_name, write_transaction
from blauweknop.display import FETCH_REFUSED_ACTIVITIES
from blauweknop.portal import end_notices, vault
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import Consent, ConsentEvent, EndNotice, RefusalNotice
from blauweknop.protocol import consent_receipt
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.openid4vp import AuthorizationRequest
from blauweknop.protocol.scheme_document import Participant, SchemeDocument

logger = logging.getLogger(__name__)

# The first byte of a sealed consent: which derivation and layout sealed it.
SEAL_VERSION = 1
# The refusals of a standing fetch the holders that delivered under the consent record too (issue 10, item 8),
# by the fetch API's problem codes. Not an unknown consent, a replay or silent holders: no consent stood in the way.
TOLD_TO_HOLDERS = frozenset(FETCH_REFUSED_ACTIVITIES)
# Refused fetches recorded per consent in 24 hours: enough to show and count a requester that goes on fetching.
REFUSALS_RECORDED_PER_DAY = 20
# A one-time consent is answered at once; one still open this long after the decision never was delivered.
ONCE_ENDS_AFTER = timedelta(hours=1)


class Unreadable(Exception):
    """A consent's seal does not open: another server secret, or the row was changed in the database."""


@dataclass(frozen=True)
class Standing:
    """What a standing consent keeps to fetch without the citizen: who (never printed) and the consent's wallet key."""

    citizen: Citizen
    wallet_key: SigningKey

    def __repr__(self) -> str:  # a BSN and a private key
        return "Standing(...)"


def _seal_key() -> bytes:
    info = ["blauweknop/toestemming/sleutel", SEAL_VERSION]
    return vault.derive_key(settings.VAULT_KEY, b"blauweknop/toestemming", info)


def seal(consent_id: str, citizen: Citizen, wallet_jwk: Mapping[str, Any]) -> bytes:
    """The BSN, assurance level and private wallet key of a standing consent, sealed and bound to ``consent_id``."""
    plain = json.dumps({"bsn": citizen.bsn, "niveau": citizen.assurance_level, "sleutel": dict(wallet_jwk)}).encode()
    return vault.seal(_seal_key(), plain, consent_id.encode(), SEAL_VERSION)


def unseal(consent: Consent) -> Standing:
    """Open a standing consent's seal; :class:`Unreadable` if it is gone, changed, or sealed under another secret."""
    if not consent.sealed:
        raise Unreadable
    try:
        content = json.loads(vault.unseal(_seal_key(), bytes(consent.sealed), consent.id.encode(), SEAL_VERSION))
        key = SigningKey(content["sleutel"])
        citizen = Citizen(content["bsn"], content["niveau"], key.public_jwk)
    except (InvalidTag, ValueError, KeyError, TypeError):
        logger.error("consent %s does not open: changed in the database, or another BLAUWEKNOP_VAULT_KEY?", consent.pk)
        raise Unreadable from None
    return Standing(citizen, key)


def _asked(request: AuthorizationRequest) -> list[dict[str, Any]]:
    """The credential queries as the citizen saw them: per document type each field, required or optional."""
    return [
        {
            "id": query.id,
            "vct": query.vct,
            "multiple": query.multiple,
            "required": query.required,
            "claims": [{"path": claim.path, "required": claim.required} for claim in query.claims],
        }
        for query in request.query.credentials
    ]


def _record(
    citizen: Citizen, request: AuthorizationRequest, *, requester_name: str, request_object: str, state: str
) -> Consent:
    return Consent(
        citizen=citizen.pseudonym,
        requester_oin=request.client_id,
        requester_name=requester_name,
        purpose=dict(request.terms.purpose),
        legal_basis=request.terms.legal_basis,
        retention_days=request.terms.retention_days,
        access=request.terms.access,
        asked=_asked(request),
        state=state,
        request_object=request_object,
    )


def give(
    citizen: Citizen,
    request: AuthorizationRequest,
    *,
    requester_name: str,
    request_object: str,
    approved: dict[str, list[str]],
    valid_until: datetime | None,
) -> tuple[Consent, SigningKey]:
    """Record the citizen's yes, in one transaction: the consent (``gegeven``) and its event.

    A fresh wallet key is made for this consent: the copies delivered under it are bound to it, not
    to the citizen's session. For standing access the BSN and that key are sealed in the record, and
    ``valid_until`` (the end the citizen approved) is kept; a one-time consent keeps neither.
    Returns the record and the key the delivery binds the copies to.
    """
    jwk = generate_jwk()
    standing = request.terms.access == Consent.Access.STANDING
    consent = _record(
        citizen, request, requester_name=requester_name, request_object=request_object, state=Consent.State.GIVEN
    )
    consent.approved = {query_id: list(paths) for query_id, paths in approved.items()}
    consent.valid_until = valid_until if standing else None
    if standing:
        consent.sealed = seal(consent.id, citizen, jwk)
    with write_transaction():
        consent.save(force_insert=True)
        ConsentEvent.objects.create(consent=consent, kind=ConsentEvent.Kind.GIVEN, at=consent.decided_at)
    return consent, SigningKey(jwk)


def refuse(citizen: Citizen, request: AuthorizationRequest, *, requester_name: str, request_object: str) -> Consent:
    """Record the citizen's no: a consent ``geweigerd``, ended at once, and its event."""
    consent = _record(
        citizen, request, requester_name=requester_name, request_object=request_object, state=Consent.State.REFUSED
    )
    consent.ended_at = consent.decided_at
    with write_transaction():
        consent.save(force_insert=True)
        ConsentEvent.objects.create(consent=consent, kind=ConsentEvent.Kind.REFUSED, at=consent.decided_at)
    return consent


def delivered(consent: Consent, detail: dict) -> None:
    """Record that data was presented to the requester under ``consent``; a one-time consent ends with it.

    ``detail`` names what went where (e.g. ``{"houders": [OIN, ...], "velden": {query id: [paths]}}``);
    never a value, never a BSN.
    """
    now = timezone.now()
    with write_transaction():
        ConsentEvent.objects.create(consent=consent, kind=ConsentEvent.Kind.DELIVERED, at=now, detail=detail)
        if consent.access == Consent.Access.ONCE:
            ended = Consent.objects.filter(pk=consent.pk, state=Consent.State.GIVEN).update(
                state=Consent.State.EXPIRED, ended_at=now
            )
            if ended:
                ConsentEvent.objects.create(consent=consent, kind=ConsentEvent.Kind.EXPIRED, at=now)
                consent.state, consent.ended_at = Consent.State.EXPIRED, now


def not_delivered(consent: Consent, reason: str) -> None:
    """Record that nothing reached the requester under ``consent``, and end it: it stands for nothing that happened.

    ``reason`` is the done page's code (``ontbreekt``, ``niet_afgeleverd``, ``niet_gelukt``). Without the answer
    the requester does not know the consent, so standing access under it could never be used either.
    """
    now = timezone.now()
    with write_transaction():
        ConsentEvent.objects.create(
            consent=consent, kind=ConsentEvent.Kind.NOT_DELIVERED, at=now, detail={"reden": reason}
        )
        _end(Consent.objects.filter(pk=consent.pk), Consent.State.EXPIRED, ConsentEvent.Kind.EXPIRED, now)


def fetch_refused(consent: Consent, code: str) -> None:
    """Record a standing fetch the portal refused, by its problem code; inside the caller's transaction.

    At most :data:`REFUSALS_RECORDED_PER_DAY` are events of the consent in 24 hours (the rest are logged).
    A refusal the holders record too (:data:`TOLD_TO_HOLDERS`) is queued for each holder that delivered
    under the consent (:class:`RefusalNotice`), once an hour; the worker tells them
    (:mod:`blauweknop.portal.refusal_notices`), never this request.
    """
    now = timezone.now()
    day = ConsentEvent.objects.filter(
        consent=consent, kind=ConsentEvent.Kind.FETCH_REFUSED, at__gt=now - timedelta(days=1)
    ).values_list("pk", flat=True)[:REFUSALS_RECORDED_PER_DAY]
    refused = list(day)
    if len(refused) < REFUSALS_RECORDED_PER_DAY:
        ConsentEvent.objects.create(
            consent=consent, kind=ConsentEvent.Kind.FETCH_REFUSED, at=now, detail={"code": code}
        )
    else:  # a requester hammering a consent must not grow the citizen's record (and page) without end
        logger.warning("refused fetch under consent %s not recorded: %d in a day already", consent.pk, len(refused))
    if code not in TOLD_TO_HOLDERS:
        return
    hour = now.replace(minute=0, second=0, microsecond=0)
    if RefusalNotice.objects.filter(consent=consent, code=code, hour=hour).exists():
        return  # queued this hour already: a requester hammering a withdrawn consent costs one look-up a fetch
    holders = sources(consent.events.filter(kind=ConsentEvent.Kind.DELIVERED))
    RefusalNotice.objects.bulk_create(
        [RefusalNotice(consent=consent, holder_oin=oin, code=code, hour=hour) for oin in holders],
        ignore_conflicts=True,
    )


def sources(events: Iterable[ConsentEvent]) -> list[str]:
    """The OINs of the holders whose copies were delivered in ``events`` (as :func:`delivered` records them)."""
    return sorted(
        {
            oin
            for e in events
            if e.kind == ConsentEvent.Kind.DELIVERED and isinstance(e.detail, dict)
            for oins in (e.detail.get("houders") or {}).values()
            for oin in oins
        }
    )


def _end(consents: Any, state: str, kind: str, now: datetime) -> int:
    """End the given (``gegeven``) consents among ``consents``: new state, the seal wiped, an event each."""
    ids = list(consents.filter(state=Consent.State.GIVEN).values_list("pk", flat=True))
    if ids:
        Consent.objects.filter(pk__in=ids).update(state=state, ended_at=now, sealed=None)
        ConsentEvent.objects.bulk_create([ConsentEvent(consent_id=pk, kind=kind, at=now) for pk in ids])
    return len(ids)


def withdraw(citizen_pseudonym: str, consent_id: str) -> bool:
    """Withdraw the citizen's own given consent, at once; whether there was one to withdraw.

    The state changes in the database every fetch reads, and the sealed BSN and key are wiped: the
    very next fetch is refused.
    """
    with write_transaction():
        lock_name(f"toestemming:{consent_id}")
        mine = Consent.objects.filter(pk=consent_id, citizen=citizen_pseudonym)
        end_notices.queue(mine, EndNotice.Reason.WITHDRAWN)  # the requester hears of it at once, not at a fetch
        withdrawn = _end(mine, Consent.State.WITHDRAWN, ConsentEvent.Kind.WITHDRAWN, timezone.now()) > 0
    if withdrawn:
        erase_deleted()
    return withdrawn


def expire_due(now: datetime) -> int:
    """End what has run out by ``now``; how many consents. Safe to run twice at once.

    Standing consents past ``valid_until`` become ``verlopen`` and lose their seal. A one-time
    consent ends with its delivery (:func:`delivered`); one never delivered ends here after
    :data:`ONCE_ENDS_AFTER`.
    """
    with write_transaction():
        run_out = Consent.objects.filter(access=Consent.Access.STANDING, valid_until__lte=now)
        end_notices.queue(run_out, EndNotice.Reason.EXPIRED)
        ended = _end(
            run_out,
            Consent.State.EXPIRED,
            ConsentEvent.Kind.EXPIRED,
            now,
        )
        ended += _end(
            Consent.objects.filter(access=Consent.Access.ONCE, decided_at__lte=now - ONCE_ENDS_AFTER),
            Consent.State.EXPIRED,
            ConsentEvent.Kind.EXPIRED,
            now,
        )
    if ended:
        erase_deleted()
    return ended


def for_citizen(citizen_pseudonym: str) -> list[Consent]:
    """The citizen's consents, newest first, each with its events."""
    return list(Consent.objects.filter(citizen=citizen_pseudonym).prefetch_related("events"))


def of_citizen(citizen_pseudonym: str, consent_id: str) -> Consent | None:
    """One of the citizen's own consents; ``None`` if there is none by that id (or it is another citizen's)."""
    return Consent.objects.filter(pk=consent_id, citizen=citizen_pseudonym).prefetch_related("events").first()


# The register's events as a receipt names them (blauweknop.protocol.consent_receipt).
RECEIPT_EVENTS = {
    ConsentEvent.Kind.GIVEN: "given",
    ConsentEvent.Kind.REFUSED: "refused",
    ConsentEvent.Kind.WITHDRAWN: "withdrawn",
    ConsentEvent.Kind.EXPIRED: "expired",
    ConsentEvent.Kind.DELIVERED: "delivered",
    ConsentEvent.Kind.FETCH_REFUSED: "fetch_refused",
}
CITIZENS_EVENTS = frozenset({ConsentEvent.Kind.GIVEN, ConsentEvent.Kind.REFUSED, ConsentEvent.Kind.WITHDRAWN})


def _party(scheme: SchemeDocument, oin: str, fallback_name: str = "") -> dict[str, str]:
    """An organisation as a receipt names it: OIN, name, and where to reach it (website, phone, or its OIN)."""
    participant: Participant | None = scheme.organisations.get(oin) or scheme.app_managers.get(oin)
    info = participant.info.get("contact") if participant else None
    found = info if isinstance(info, dict) else {}
    contact = next((v for k in ("website", "telefoon") if isinstance(v := found.get(k), str) and v), f"OIN {oin}")
    return {"oin": oin, "name": participant.name if participant else fallback_name or oin, "contact": contact}


def receipt(consent: Consent, scheme: SchemeDocument) -> dict[str, Any]:
    """The consent's ISO/IEC TS 27560 receipt (:func:`blauweknop.protocol.consent_receipt.receipt`).

    Names the citizen by pseudonym only; the notice is the digest of the signed request they decided
    on; the sources are the holders that delivered under the consent.
    """
    catalogue = document_types.of(scheme)
    type_of = {q["id"]: (t.id if (t := catalogue.by_vct(q.get("vct"))) else q["id"]) for q in consent.asked}
    asked_paths = {q["id"]: [c["path"] for c in q.get("claims", [])] for q in consent.asked}
    shared = consent.approved or asked_paths  # a refusal names what was asked
    fields = {type_of.get(query_id, query_id): list(paths) for query_id, paths in shared.items() if paths}
    optional = {
        type_of[q["id"]]: [c["path"] for c in q.get("claims", []) if not c.get("required", True)] for q in consent.asked
    }
    events = list(consent.events.all())
    return consent_receipt.receipt(
        {
            "record_id": consent.pk,
            "principal": consent.citizen,
            "requester": _party(scheme, consent.requester_oin, consent.requester_name),
            "app_manager": _party(scheme, settings.PORTAL_OIN),
            "holders": [_party(scheme, oin) for oin in sources(events)],
            "purpose": consent.purpose,
            "legal_basis": consent.legal_basis,
            "fields": fields,
            "optional": optional,
            "retention_days": consent.retention_days,
            "valid_until": consent.valid_until,
            "notice": "sha256:" + hashlib.sha256(consent.request_object.encode()).hexdigest(),
            "withdrawal": settings.BASE_URL + reverse("portal:consent", kwargs={"record": consent.pk}),
            "events": [
                {
                    "type": RECEIPT_EVENTS[e.kind],
                    "time": e.at,
                    "by": consent.citizen
                    if e.kind in CITIZENS_EVENTS
                    else consent.requester_oin
                    if e.kind == ConsentEvent.Kind.FETCH_REFUSED
                    else settings.PORTAL_OIN,
                }
                for e in events
            ],
        }
    )
