"""The portal's background work, run by the worker (``manage.py db_worker``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django_tasks import task

from blauweknop.db import write_transaction
from blauweknop.portal import events, printed, session
from blauweknop.portal.models import WalletKey


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
