"""Issuing a certified copy: from a verified session assertion to a signed SD-JWT VC.

Everything that changes state happens in one transaction: the assertion is used up, older
copies with other data are marked superseded, the new copy gets its status index, and the
access record is written. If any step fails, none of it happened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from blauweknop import keystore, metrics
from blauweknop.db import write_transaction
from blauweknop.display import FETCHED, SEARCHED
from blauweknop.document_types import DocumentType
from blauweknop.holder import access, sessions
from blauweknop.holder.errors import NotHere
from blauweknop.holder.models import IssuedCredential, StatusListRecord
from blauweknop.holder.sources import source_adapter
from blauweknop.holder.tenants import Holder
from blauweknop.protocol import sdjwt_vc
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.session_assertion import SessionAssertion
from blauweknop.protocol.status_list import INVALID, StatusReference
from blauweknop.pseudonyms import pseudonym

VALID_FOR = 90 * 86400  # a copy is valid for 90 days; its status says sooner when the data changed


@dataclass(frozen=True)
class Issued:
    """A freshly issued credential and what a page needs to describe it."""

    credential: str
    document_type: DocumentType
    expires_at: datetime


def _digest(data: object) -> str:
    """A keyed digest of the data, to notice a change without keeping the data."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(settings.PSEUDONYM_KEY.encode(), canonical, hashlib.sha256).hexdigest()


def issue(holder: Holder, assertion: str, type_id: str, scheme: SchemeDocument) -> Issued:
    """Issue the ``type_id`` document about the citizen in ``assertion`` to their wallet key.

    With no such data about the citizen, the look-up is recorded all the same (the citizen sees it),
    then refused as :class:`NotHere` ``no_data``.
    """
    document_type = holder.catalogue.get(type_id)
    if not holder.issues(type_id) or document_type is None:
        raise NotHere("not_issued_here", f"{holder.name} does not issue documents of type {type_id!r}.")
    now = timezone.now()
    with write_transaction():
        session = sessions.accept(holder.oin, assertion, scheme)
        data = source_adapter().lookup(holder.oin, session.bsn, document_type)
        if data is None:
            access.record(holder, session, SEARCHED, type_id, [], now)
        else:
            issued = _sign(holder, session, document_type, data, now)
    if data is None:  # refused once the record of the search is committed
        raise NotHere("no_data", f"{holder.name} has no {type_id} about this citizen.")
    metrics.credentials_issued.labels(holder.oin, type_id).inc()  # counted once committed
    return issued


def _sign(
    holder: Holder, session: SessionAssertion, document_type: DocumentType, data: dict[str, Any], now: datetime
) -> Issued:
    """Sign ``data`` for the citizen of ``session``; inside the caller's transaction."""
    type_id = document_type.id
    document_type.validate(data)
    subject, digest = pseudonym(session.bsn), _digest(data)
    # This holder's copies with other data are outdated now: verifiers will see them as superseded.
    # Other holders' copies of the same type are theirs to withdraw. The lists as a subquery, not
    # a join: an UPDATE across a join becomes "id IN (a self-join)", dearer to build and to run.
    own_lists = StatusListRecord.objects.filter(holder=holder.tenant)
    same = IssuedCredential.objects.valid().filter(status_list__in=own_lists, subject=subject, document_type=type_id)
    same.exclude(data_digest=digest).update(status=INVALID)
    record = IssuedCredential.allocate(
        holder.tenant,
        document_type=type_id,
        subject=subject,
        data_digest=digest,
        expires_at=now + timezone.timedelta(seconds=VALID_FOR),
    )
    credential = sdjwt_vc.issue(
        data,
        keystore.signing_key(holder.oin),
        iss=holder.issuer_url,
        vct=document_type.vct,
        holder_jwk=session.wallet_jwk,
        status=StatusReference(record.status_list.uri, record.idx),
        valid_for=VALID_FOR,
        now=int(now.timestamp()),
    )
    access.record(holder, session, FETCHED, type_id, [f.path for f in document_type.fields], now)
    return Issued(credential, document_type, record.expires_at)
