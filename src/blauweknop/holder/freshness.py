"""Freshness: when a holder's data about a citizen changes, every earlier copy of it is superseded.

A copy records a keyed digest of the data it carries. Whenever the source's data of a citizen and
type differs from a copy's, that copy's status becomes INVALID ("vervangen door nieuwere gegevens"),
and the next status list the worker publishes says so. Three ways lead here: a new copy being issued
(:func:`outdate`), a correction decided at the holder (:func:`supersede`), and any other change the
registry reports in its change feed (:func:`follow_source_changes`, run by the worker before it
publishes, so a change is in the published list within one run, a minute).

Superseding compares with the source's data now, so doing it twice, or for a change that changed
nothing, is harmless: that is what makes two workers at once safe.

Issuing, correcting and superseding one citizen's document of one type take turns
(:func:`lock_citizen`, before the source is read): otherwise an issuance that read the data before a
correction and commits after it would outdate the corrected copies with its old data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from blauweknop import document_types
from blauweknop.db import lock_name, write_transaction
from blauweknop.document_types import Catalogue
from blauweknop.holder.models import IssuedCredential, StatusListRecord, Tenant
from blauweknop.holder.sources import ChangeFeed, source_adapter
from blauweknop.protocol.status_list import INVALID
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)

BATCH = 200  # changes read at a time: memory stays bounded whatever the backlog
MAX_PER_RUN = 10_000  # changes one run handles at most; the rest wait for the next run, a minute later
# A change is handled again in every run until a worker first saw it this long ago, and only then forgotten: an
# issuance that read the data just before the change may commit its copy just after a run handled it, and the next
# run catches it. From when it was first seen, not from its time stamp: that is when its transaction began (a long
# batch commits changes stamped long before anyone could see them).
SETTLE = timedelta(minutes=5)


def digest(data: object) -> str:
    """A keyed digest of the data, to notice a change without keeping the data."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(settings.PSEUDONYM_KEY.encode(), canonical, hashlib.sha256).hexdigest()


def lock_citizen(holder_oin: str, bsn: str, type_id: str) -> None:
    """Inside a writing transaction, before the source is read: wait until no other transaction issues, corrects or
    supersedes this citizen's ``type_id`` document at ``holder_oin``, then hold that turn until this one ends.

    Then what this transaction reads from the source is what its copies carry and what it compares with.
    One advisory lock on PostgreSQL (taken again in the same transaction it simply holds); nothing on SQLite,
    whose writing transactions take turns already. The name carries the pseudonym, never the BSN.
    """
    lock_name(f"bron:{holder_oin}:{pseudonym(bsn)}:{type_id}")


def outdate(tenant: Tenant, subject: str, type_id: str, current: str | None) -> int:
    """Mark INVALID every VALID copy ``tenant`` issued about ``subject`` (a pseudonym) of ``type_id`` whose data
    digest is not ``current`` (every one when ``current`` is ``None``: the source has nothing now); how many.

    Inside the caller's transaction. Other holders' copies of the same type are theirs to withdraw.
    """
    same = _valid_copies(tenant, subject, type_id)
    return (same if current is None else same.exclude(data_digest=current)).update(status=INVALID)


def _valid_copies(tenant: Tenant, subject: str, type_id: str) -> QuerySet[IssuedCredential]:
    # The lists as a subquery, not a join: an UPDATE across a join becomes "id IN (a self-join)", dearer to
    # build and to run.
    own_lists = StatusListRecord.objects.filter(holder=tenant)
    return IssuedCredential.objects.valid().filter(status_list__in=own_lists, subject=subject, document_type=type_id)


def supersede(tenant: Tenant, bsn: str, type_id: str) -> int:
    """Mark INVALID every VALID copy of ``tenant`` about this citizen and type whose data differs from the source's
    data now (all of them when the source has none); how many. Inside the caller's transaction.

    The source is read through the configured adapter, with the document type of the scheme document in
    hand; when that does not list the type (or no scheme document can be had), what the source holds
    cannot be told, and every copy is superseded: a citizen can always fetch a fresh one.
    """
    scheme = scheme_client.in_hand()
    return _supersede(tenant, bsn, type_id, document_types.of(scheme) if scheme is not None else None)


def _supersede(tenant: Tenant, bsn: str, type_id: str, catalogue: Catalogue | None) -> int:
    lock_citizen(tenant.oin, bsn, type_id)  # an issuance that read the data before this change has committed now
    subject = pseudonym(bsn)
    if not _valid_copies(tenant, subject, type_id).exists():  # most changes concern citizens without copies
        return 0
    document_type = catalogue.get(type_id) if catalogue is not None else None
    data = source_adapter().lookup(tenant.oin, bsn, document_type) if document_type is not None else None
    return outdate(tenant, subject, type_id, digest(data) if data is not None else None)


def follow_source_changes(now: datetime) -> int:
    """Supersede the copies the registry's recent changes made outdated; how many copies. For the worker.

    Reads the change feed in id order, a batch at a time, and for each change at one of this deployment's
    tenants supersedes that citizen's copies of that type (as :func:`supersede`), each in a short transaction
    of its own. Changes at an organisation that is no tenant here are dropped. A change is forgotten once a run
    first saw it more than ``SETTLE`` before ``now``; until then each run looks at it again. Without a change
    feed it does nothing; without a scheme document to read the document types from, the changes wait.
    """
    feed = source_adapter()
    if not isinstance(feed, ChangeFeed) or not (batch := feed.changes(0, BATCH)):
        return 0
    scheme = scheme_client.in_hand()
    if scheme is None:
        logger.warning("source changes wait: no scheme document to read the document types from")
        return 0
    catalogue = document_types.of(scheme)
    tenants = {tenant.oin: tenant for tenant in Tenant.objects.all()}  # a deployment has a handful
    settled_before = now - SETTLE
    seen, dropped, forgotten, superseded = 0, 0, 0, 0
    while True:
        for oin, bsn, type_id in dict.fromkeys((c.holder_oin, c.bsn, c.type_id) for c in batch):  # each once
            if (tenant := tenants.get(oin)) is not None:
                with write_transaction():
                    superseded += _supersede(tenant, bsn, type_id, catalogue)
        elsewhere = [c.id for c in batch if c.holder_oin not in tenants]
        ours = [c for c in batch if c.holder_oin in tenants]
        settled = [c.id for c in ours if c.seen_at is not None and c.seen_at < settled_before]
        with write_transaction():
            feed.see_changes([c.id for c in ours if c.seen_at is None], now)
            forgotten += feed.forget_changes(elsewhere + settled)
        seen, dropped = seen + len(batch), dropped + len(elsewhere)
        limit = min(BATCH, MAX_PER_RUN - seen)
        if len(batch) < BATCH or limit <= 0:
            break
        batch = feed.changes(batch[-1].id, limit)
    logger.info(
        "source changes followed: %d read, %d for no tenant here, %d forgotten, %d copies superseded",
        seen,
        dropped,
        forgotten,
        superseded,
    )
    return superseded
