"""Issuing a certified copy: from a verified session assertion to a signed SD-JWT VC.

Everything that changes state happens in one transaction: the assertion is used up, older
copies with other data are marked superseded, the new copy gets its status index, and the
access record is written. If any step fails, none of it happened.

An assertion that says the citizen shares the copies with a requester (variant Plus) is recorded
as that share; a share with a requester that is not certified now is refused, and that refusal is
recorded where the citizen sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from blauweknop import metrics, signing
from blauweknop.db import write_transaction
from blauweknop.display import FETCHED, SEARCHED, SHARE_REFUSED, SHARED
from blauweknop.document_types import DocumentType
from blauweknop.holder import access, sessions
from blauweknop.holder.errors import NotHere
from blauweknop.holder.freshness import digest, lock_citizen, outdate
from blauweknop.holder.models import IssuedCredential
from blauweknop.holder.sources import source_adapter
from blauweknop.holder.tenants import Holder
from blauweknop.protocol import sdjwt_vc
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.scheme_document import REQUESTER, SchemeDocument
from blauweknop.protocol.status_list import StatusReference
from blauweknop.pseudonyms import pseudonym

VALID_FOR = 90 * 86400  # a copy is valid for 90 days; its status says sooner when the data changed


@dataclass(frozen=True)
class Issued:
    """A freshly issued credential and what a page needs to describe it."""

    credential: str
    document_type: DocumentType
    expires_at: datetime


def issue(holder: Holder, assertion: str, type_id: str, scheme: SchemeDocument) -> Issued:
    """Issue the ``type_id`` document about the citizen in ``assertion`` to their wallet key.

    With no such data about the citizen, the look-up is recorded all the same (the citizen sees it),
    then refused as :class:`NotHere` ``no_data``. A share with a requester that is not certified is
    recorded and refused (``not_certified``) before any data is looked up.
    """
    document_type = holder.catalogue.get(type_id)
    if not holder.issues(type_id) or document_type is None:
        raise NotHere("not_issued_here", f"{holder.name} does not issue documents of type {type_id!r}.")
    now = timezone.now()
    data: dict[str, Any] | None = None
    with write_transaction():
        session = sessions.accept(holder.oin, assertion, scheme, suspended_sharing=True)
        sharing = session.sharing
        refused = sharing is not None and not scheme.is_certified(sharing.requester_oin, REQUESTER)
        # In turn with corrections and supersession of this document: what is read stays the source's data till commit.
        lock_citizen(holder.oin, session.bsn, type_id)
        if refused:
            access.record(holder, session, SHARE_REFUSED, type_id, [], now)
        elif (data := source_adapter().lookup(holder.oin, session.bsn, document_type)) is None:
            access.record(holder, session, SEARCHED, type_id, [], now)
        else:
            issued = sign(holder, session.bsn, session.wallet_jwk, document_type, data, now)
            fields = [f.path for f in document_type.fields]
            access.record(holder, session, SHARED if sharing else FETCHED, type_id, fields, now)
    # Refused once the record is committed.
    if refused:
        raise VerificationError("not_certified", "The organisation to share with is not certified as requester now.")
    if data is None:
        raise NotHere("no_data", f"{holder.name} has no {type_id} about this citizen.")
    metrics.credentials_issued.labels(holder.oin, type_id).inc()  # counted once committed
    return issued


def sign(
    holder: Holder,
    bsn: str,
    holder_jwk: dict[str, Any],
    document_type: DocumentType,
    data: dict[str, Any],
    now: datetime,
) -> Issued:
    """Sign ``data`` about the citizen ``bsn``, bound to ``holder_jwk``; inside the caller's transaction.

    The caller took :func:`~blauweknop.holder.freshness.lock_citizen` before it read ``data`` from the source:
    the copies with other data are outdated here. The caller writes the access record: what it was for is the
    caller's to say.
    """
    type_id = document_type.id
    document_type.validate(data)
    subject, data_digest = pseudonym(bsn), digest(data)
    # This holder's copies with other data are outdated now: verifiers will see them as superseded.
    outdate(holder.tenant, subject, type_id, data_digest)
    record = IssuedCredential.allocate(
        holder.tenant,
        document_type=type_id,
        subject=subject,
        data_digest=data_digest,
        expires_at=now + timezone.timedelta(seconds=VALID_FOR),
    )
    credential = sdjwt_vc.issue(
        data,
        signing.key_for(holder.participant),
        iss=holder.issuer_url,
        vct=document_type.vct,
        holder_jwk=holder_jwk,
        status=StatusReference(record.status_list.uri, record.idx),
        valid_for=VALID_FOR,
        now=int(now.timestamp()),
    )
    return Issued(credential, document_type, record.expires_at)
