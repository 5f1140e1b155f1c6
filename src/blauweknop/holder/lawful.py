"""The legal-basis lane (docs/plus.md §5): a requester fetches a citizen's data directly, because a law says so.

The scheme's register of legal bases says, per article of law (``kind: law``), which requesters
(``vragers``) may fetch which fields of which document types (``documentsoorten``), for which
purpose (``doel``) and how long they may keep the data (``maxBewaartermijnDagen``). The holder
gives exactly that and nothing more: anything beyond the entry is refused (``beyond_legal_basis``).

The requester authenticates with a client assertion (private_key_jwt) made for this very address,
used once. Every delivery and every refusal of an authenticated requester is an access record
about the citizen, in the same transaction as the issuance: the citizen sees who fetched what, on
which article of law, and who was refused. A requester refused more than :data:`REFUSALS_PER_HOUR`
times an hour here is turned away before anyone is looked up, unrecorded: a requester no law names
cannot write a line into any citizen's records it likes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from blauweknop import metrics
from blauweknop.audit.models import AccessRecord
from blauweknop.db import write_transaction
from blauweknop.display import LAWFUL, LAWFUL_REFUSED, LAWFUL_SEARCHED, rows
from blauweknop.document_types import DocumentType
from blauweknop.holder import access, freshness, issuing, sessions
from blauweknop.holder.errors import HolderError, NotHere
from blauweknop.holder.issuing import Issued
from blauweknop.holder.sources import source_adapter
from blauweknop.holder.tenants import Holder
from blauweknop.protocol import client_assertion, sdjwt_vc
from blauweknop.protocol.client_assertion import ClientAssertion
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.scheme_document import REQUESTER, SchemeDocument

logger = logging.getLogger(__name__)
LAW = "law"
PATH = "wettelijke-verstrekkingen"  # under the holder's API address; the client assertion's aud is the whole URL
# Why, in the words of the Logboek Dataverwerkingen, when nothing was given.
REFUSED_PURPOSE = "Een organisatie vroeg gegevens op grond van de wet. Dat mocht niet; er is niets gegeven."
# A requester's refused legal-basis fetches at one holder within an hour before it is refused unrecorded.
REFUSALS_PER_HOUR = 20


class BeyondLegalBasis(HolderError):
    """The requester asked for more than the legal basis it names allows it, or named no law."""


class TooManyRefusals(HolderError):
    """The requester was refused :data:`REFUSALS_PER_HOUR` times here this hour; nothing is looked up (429)."""


@dataclass(frozen=True)
class Asked:
    """What a requester asks for on a legal basis. The BSN stays out of its ``repr``."""

    bsn: str = field(repr=False)
    type_id: str
    paths: tuple[str, ...]
    legal_basis: str
    purpose: str  # the code of the entry's doel
    retention_days: int


@dataclass(frozen=True)
class Delivered:
    """The presentation for the requester: the copy with only the allowed fields disclosed."""

    presentation: str
    issued: Issued


def address(holder: Holder) -> str:
    """The exact URL a requester calls, as the scheme registers the holder's API: the client assertion's ``aud``."""
    return f"{holder.participant.endpoints.get('api', '').rstrip('/')}/{PATH}"


def law(scheme: SchemeDocument, legal_basis: str) -> dict[str, Any] | None:
    """The register entry ``legal_basis`` if it is an article of law; ``None`` for consent or an unknown id."""
    entry = next((b for b in scheme.legal_bases if b.get("id") == legal_basis), None)
    return entry if entry is not None and entry.get("kind") == LAW else None


def beyond(entry: dict[str, Any] | None, requester_oin: str, asked: Asked) -> str | None:
    """Why ``asked`` lies beyond the legal basis ``entry`` for ``requester_oin``, in a plain sentence; else ``None``.

    The sentence names what was asked (ids, paths, numbers), never whom it is about.
    """
    basis = asked.legal_basis
    if entry is None:
        return "The legal basis named is not an article of law in the scheme's register; ask for consent instead."
    if requester_oin not in _strings(entry.get("vragers")):
        return f"The legal basis {basis!r} does not name requester {requester_oin}."
    types = entry.get("documentsoorten") if isinstance(entry.get("documentsoorten"), dict) else {}
    if asked.type_id not in types:
        return f"The legal basis {basis!r} does not cover document type {asked.type_id!r}."
    allowed = _strings(types[asked.type_id])
    if outside := [path for path in asked.paths if path not in allowed]:
        return f"The legal basis {basis!r} does not cover the field {outside[0]!r} of {asked.type_id!r}."
    purpose = entry.get("doel", {}).get("code") if isinstance(entry.get("doel"), dict) else None
    if asked.purpose != purpose:
        return f"The legal basis {basis!r} allows the purpose {purpose!r} only."
    most = entry.get("maxBewaartermijnDagen")
    if not isinstance(most, int) or asked.retention_days > most:
        return f"The legal basis {basis!r} allows keeping the data {most} days at most, not {asked.retention_days}."
    return None


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _authenticate(holder: Holder, token: str, scheme: SchemeDocument) -> tuple[ClientAssertion, bool]:
    """The verified client assertion, used up, and whether its requester is certified now. Inside a transaction.

    A requester that is not certified (suspended, revoked) is authenticated all the same, so that
    its refusal can be recorded for the citizen; anyone whose assertion does not verify is refused
    here, unrecorded: nobody can write into a citizen's records by naming a requester.
    """
    audience = address(holder)
    try:
        try:
            client, certified = client_assertion.verify(token, scheme, audience=audience, role=REQUESTER), True
        except VerificationError as exc:
            unsuspended = sessions.as_if_certified(scheme, sessions.unverified_claim(token, "iss"))
            if exc.code != "not_certified" or unsuspended is scheme:
                raise
            client, certified = client_assertion.verify(token, unsuspended, audience=audience, role=REQUESTER), False
    except VerificationError as exc:
        logger.warning("legal-basis client refused: holder=%s code=%s", holder.oin, exc.code)
        metrics.assertion_refusals.labels(holder.oin, exc.code).inc()
        raise
    sessions.use_once(holder.oin, client.replay_key(), client.expires_at, sender=client.client_id)
    return client, certified


def deliver(holder: Holder, token: str, asked: Asked, scheme: SchemeDocument) -> Delivered:
    """Give the requester of ``token`` what ``asked`` names, if its legal basis allows it; record either way.

    The copy is bound to the key the requester's scheme entry signs with (``cnf``), and only the
    asked fields are disclosed. Refusals: :class:`BeyondLegalBasis`, ``not_certified``, :class:`NotHere`.
    """
    document_type = holder.catalogue.get(asked.type_id)
    if not holder.issues(asked.type_id) or document_type is None:
        raise NotHere("not_issued_here", f"{holder.name} does not issue documents of type {asked.type_id!r}.")
    now = timezone.now()
    entry = law(scheme, asked.legal_basis)
    data: dict[str, Any] | None = None
    with write_transaction():
        client, certified = _authenticate(holder, token, scheme)
        requester = client.client_id
        why = beyond(entry, requester, asked) if certified else f"Requester {requester} is not certified now."
        if why is not None and _refused_often(holder, requester, now):
            logger.warning("legal-basis requester refused too often: holder=%s requester=%s", holder.oin, requester)
            raise TooManyRefusals(
                "too_many_refusals",
                f"You were refused more than {REFUSALS_PER_HOUR} times in the last hour here. Check what your "
                "legal basis allows (the scheme's register) before you ask again.",
            )
        fields: list[str] = []
        freshness.lock_citizen(holder.oin, asked.bsn, asked.type_id)  # before the source is read: see issuing
        if why is not None:
            activity = LAWFUL_REFUSED
        elif (data := source_adapter().lookup(holder.oin, asked.bsn, document_type)) is None:
            activity = LAWFUL_SEARCHED
        else:
            issued = issuing.sign(holder, asked.bsn, _bound_key(scheme, requester), document_type, data, now)
            activity, fields = LAWFUL, list(asked.paths)
        access.write(
            holder,
            asked.bsn,
            actor_oin=requester,
            activity=activity,
            purpose=str(entry["doel"].get("nl", "")) if entry and why is None else REFUSED_PURPOSE,
            legal_basis=asked.legal_basis,
            type_id=asked.type_id,
            fields=fields,
            at=now,
        )
    # Refused once the record is committed.
    if why is not None:
        code = "beyond_legal_basis" if certified else "not_certified"
        logger.warning("legal-basis delivery refused: holder=%s requester=%s code=%s", holder.oin, requester, code)
        raise BeyondLegalBasis(code, why) if certified else VerificationError(code, why)
    if data is None:
        raise NotHere("no_data", f"{holder.name} has no {asked.type_id} about this citizen.")
    metrics.credentials_issued.labels(holder.oin, asked.type_id).inc()
    return Delivered(sdjwt_vc.present(issued.credential, _disclosed(document_type, data, asked.paths)), issued)


def _refused_often(holder: Holder, requester_oin: str, now: datetime) -> bool:
    """Whether ``requester_oin`` was refused :data:`REFUSALS_PER_HOUR` times at ``holder`` in the hour up to ``now``."""
    refused = AccessRecord.objects.filter(
        holder=holder.tenant, actor_oin=requester_oin, activity=LAWFUL_REFUSED, at__gt=now - timedelta(hours=1)
    )
    return refused.count() >= REFUSALS_PER_HOUR


def _bound_key(scheme: SchemeDocument, requester_oin: str) -> dict[str, Any]:
    """The requester's key the copy is bound to: the one its scheme entry signs with now (``signing_kid``).

    During a rotation the entry lists the retiring key first; a copy bound to it would be bound to a key
    on its way out. An entry without ``signing_kid`` has one key: its first.
    """
    requester = scheme.organisation(requester_oin)
    if requester.signing_kid is None:
        return requester.keys.keys[0].jwk
    return requester.keys.find(requester.signing_kid).jwk


def _disclosed(document_type: DocumentType, data: dict[str, Any], paths: tuple[str, ...]) -> list[str]:
    """The concrete claim paths in ``data`` of the catalogue ``paths``: a list's field in every item."""
    wanted = set(paths)
    return [row.path for row in rows(document_type, data) if (f := document_type.field(row.path)) and f.path in wanted]
