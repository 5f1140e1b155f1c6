"""The operator's audit trail: every action on the scheme, in order, chained so that no entry can be edited unseen."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from blauweknop.db import lock_name, write_transaction
from blauweknop.protocol import jws, scheme_document
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import KeySet
from blauweknop.protocol.scheme_document import AuditAnchor
from blauweknop.protocol.text import plain
from blauweknop.scheme.models import OPERATOR, AuditEntry, Key, PublishedDocument

GENESIS = "0" * 64  # the "previous" of the first entry
MAX_REASON = 1000  # characters: a few sentences; the audit trail is no place for documents


class BadReason(ValueError):
    """A reason the audit trail does not take; the message (Dutch, translated) says what to change."""


def checked_reason(text: Any) -> str:
    """``text`` stripped, when fit to be kept in the audit trail for good; else :class:`BadReason`.

    Refused: blank, longer than :data:`MAX_REASON`, or not plain text (:func:`blauweknop.protocol.text.plain`:
    a control character other than a line break, which could drive a terminal; a character that turns the
    direction of text or is invisible, so that the reason reads otherwise than it is; half a UTF-16 pair).
    """
    reason = text.replace("\r\n", "\n").strip() if isinstance(text, str) else ""
    if not reason:
        raise BadReason(_("Schrijf een reden op. De reden komt in het logboek."))
    if len(reason) > MAX_REASON:
        raise BadReason(_("De reden is te lang. Gebruik hoogstens %(max)d tekens.") % {"max": MAX_REASON})
    if plain(reason, lines=True) is None or "\t" in reason or "\r" in reason:  # lines, but no tabs or bare CRs
        raise BadReason(
            _(
                "De reden bevat een teken dat we niet bewaren, zoals een stuurteken of een teken dat de "
                "leesrichting omdraait. Typ de reden opnieuw, met gewone letters, cijfers en leestekens."
            )
        )
    return reason


def _digest(previous: str, at: str, actor: str, action: str, subject: str, reason: str, details: Any) -> str:
    content = [previous, at, actor, action, subject, reason, details]
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _content_digest(entry: AuditEntry) -> str:
    return _digest(
        entry.previous,
        entry.at.isoformat(),
        entry.actor,
        entry.action,
        entry.subject,
        entry.reason,
        entry.details,
    )


def record(
    *, actor: str, action: str, subject: str, reason: str = "", details: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one entry after the newest, in the caller's transaction (the action and its entry land together).

    Two at once: the second waits for the first to commit and chains onto it.
    """
    with write_transaction():
        # A name locked, then the newest read. Locking the newest row instead holds back nobody while there is no
        # entry yet, and on PostgreSQL the row committed while waiting stays unseen (the statement's snapshot is
        # older): two entries would follow the same one, and the chain would break.
        lock_name("scheme.audit")
        newest = AuditEntry.objects.order_by("-pk").first()
        entry = AuditEntry(
            actor=actor,
            action=action,
            subject=subject,
            reason=reason,
            details=details or {},
            previous=newest.digest if newest else GENESIS,
        )
        # The digest covers what the database gives back (a JSON round trip, the stored precision of the time).
        entry.details = json.loads(json.dumps(entry.details))
        entry.digest = _content_digest(entry)
        entry.save()
        return entry


def verify_chain() -> int | None:
    """The pk of the first entry that does not follow from the one before it; ``None`` when the chain is whole.

    A chain cut at its end is still whole: :func:`missing_since` finds that.
    """
    previous = GENESIS
    for entry in AuditEntry.objects.order_by("pk").iterator():
        if entry.previous != previous or entry.digest != _content_digest(entry):
            return entry.pk
        previous = entry.digest
    return None


def head() -> AuditAnchor:
    """How many entries the trail has and the digest of the newest: what each scheme document vouches for."""
    # One statement, so count and newest are of one moment: entries are added one at a time (record), so
    # what a statement sees is always the first ``count`` of them, the newest one last.
    found = AuditEntry.objects.aggregate(count=Count("pk"), newest=Max("pk"))
    newest = AuditEntry.objects.filter(pk=found["newest"]).values_list("digest", flat=True).first()
    return AuditAnchor(found["count"], newest or GENESIS)


def missing_since() -> int | None:
    """The version of the newest published scheme document when the trail no longer holds what it vouched for.

    The document says how many entries the trail had and the digest of the newest: when the trail now has
    fewer, or another entry at that place, entries were removed or changed after it was signed. Its signature
    is checked against every key the operator ever had: a claim edited in the database vouches for nothing.
    Older documents need no check of their own: each digest covers the one before it, so while
    :func:`verify_chain` finds the chain whole, a matching newest claim vouches for every entry before it.
    ``None`` when the claim matches, or no document has one yet.
    """
    for document in PublishedDocument.objects.order_by("-version").only("version", "token").iterator():
        try:
            anchor = scheme_document.audit_anchor(jws.unverified_parts(document.token)[1])
            if anchor is None:
                continue  # signed before documents carried the claim
            operator_keys = KeySet(Key.objects.filter(owner=OPERATOR).values_list("public_jwk", flat=True))
            jws.verify(document.token, operator_keys, scheme_document.TYP)
        except ProtocolError:
            return document.version
        if not anchor.count:  # signed before the first entry (a queryset takes no negative index)
            return None if anchor.head == GENESIS else document.version
        at_count = AuditEntry.objects.order_by("pk").values_list("digest", flat=True)[anchor.count - 1 : anchor.count]
        found = next(iter(at_count), None)
        return None if found == anchor.head else document.version
    return None


def history(subject: str) -> list[AuditEntry]:
    """Every entry about ``subject`` (an OIN), newest first: the certification history of a participant."""
    return list(AuditEntry.objects.filter(subject=subject).order_by("-pk"))
