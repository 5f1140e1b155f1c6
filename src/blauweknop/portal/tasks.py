"""The portal's background work, run by the worker (``manage.py db_worker``)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from blauweknop.portal import session


@task()
def prune_sessions() -> int:
    """Delete citizen sessions that have ended, with the copies in them; how many sessions."""
    return session.prune(timezone.now())
