"""The portal's background work, run by the worker (``manage.py db_worker``)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from blauweknop.db import write_transaction
from blauweknop.portal import printed, session
from blauweknop.portal.models import WalletKey


@task()
def prune_sessions() -> int:
    """Delete what has ended; how many citizen sessions.

    Citizen sessions go with the copies in them; printed copies whose copy expired go, so their
    codes stop working; and wallet keys that no copy still valid is bound to.
    """
    now = timezone.now()
    printed.prune(now)
    with write_transaction():
        WalletKey.objects.filter(expires_at__lt=now).delete()
    return session.prune(now)
