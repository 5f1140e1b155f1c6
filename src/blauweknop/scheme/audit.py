"""The operator's audit trail: every action on the scheme, in order, chained so that no entry can be edited unseen."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from blauweknop.db import lock_name, write_transaction
from blauweknop.scheme.models import AuditEntry

GENESIS = "0" * 64  # the "previous" of the first entry


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
    """The pk of the first entry that does not follow from the one before it; ``None`` when the chain is whole."""
    previous = GENESIS
    for entry in AuditEntry.objects.order_by("pk").iterator():
        if entry.previous != previous or entry.digest != _content_digest(entry):
            return entry.pk
        previous = entry.digest
    return None


def history(subject: str) -> list[AuditEntry]:
    """Every entry about ``subject`` (an OIN), newest first: the certification history of a participant."""
    return list(AuditEntry.objects.filter(subject=subject).order_by("-pk"))
