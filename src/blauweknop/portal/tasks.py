"""The portal's background work, run by the worker (``manage.py db_worker``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django_tasks import task

from blauweknop.db import write_transaction
from blauweknop.portal import consents, events, printed, session
from blauweknop.portal.models import UsedClientAssertion, WalletKey


def prune_ended(now: datetime) -> int:
    """Delete what has ended by ``now``; how many citizen sessions. Safe to run twice at once.

    Citizen sessions go with the copies in them; printed copies whose copy expired go, so their
    codes stop working; and wallet keys that no copy still valid is bound to.
    """
    printed.prune(now)
    with write_transaction():
        WalletKey.objects.filter(expires_at__lt=now).delete()
    return session.prune(now)


@task()
def prune_sessions() -> int:
    """Delete what has ended (:func:`prune_ended`); how many citizen sessions."""
    return prune_ended(timezone.now())


@task()
def forget_old_events() -> int:
    """Delete the citizen's events older than their retention (:data:`events.RETENTION`); how many."""
    return events.prune(timezone.now())


def end_consents(now: datetime) -> int:
    """End the consents that have run out by ``now`` (:func:`consents.expire_due`); how many.

    Also forgets the requesters' client assertions that have expired: an expired one is refused anyway.
    """
    with write_transaction():
        UsedClientAssertion.objects.filter(expires_at__lt=now).delete()
    return consents.expire_due(now)


@task()
def expire_consents() -> int:
    """End the consents that have run out (:func:`end_consents`); how many."""
    return end_consents(timezone.now())
