"""A requester's background work, run by the worker (``manage.py db_worker``). Each task is safe twice at once.

Every step is one filtered DELETE or UPDATE: two workers at the same moment do the work once between them.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from blauweknop.db import erase_deleted
from blauweknop.requester.models import ReceivedCredential, ShareRequest, UsedClientAssertion, UsedPresentation


@task()
def forget_received_data() -> int:
    """Delete received data whose retention term ended, and replay marks that can no longer matter; how many."""
    return forget_received_before(timezone.now())


def forget_received_before(now: datetime) -> int:
    """Delete the received data due before ``now`` (and used presentation and assertion marks); how many data rows."""
    deleted, _ = ReceivedCredential.objects.filter(delete_after__lte=now).delete()
    UsedPresentation.objects.filter(expires_at__lt=now).delete()
    UsedClientAssertion.objects.filter(expires_at__lt=now).delete()
    if deleted:
        erase_deleted()  # the retention term is a promise to the citizen: no old copy stays in the database file
    return deleted


@task()
def expire_requests() -> int:
    """Mark requests that can no longer be answered, and standing access that has ended, as expired; how many."""
    return expire_requests_at(timezone.now())


def expire_requests_at(now: datetime) -> int:
    """Mark open requests past their answer date, and approved standing access past its last day, expired; how many."""
    return ShareRequest.objects.filter(
        Q(status=ShareRequest.State.OPEN, expires_at__lte=now)
        | Q(
            status=ShareRequest.State.APPROVED,
            access=ShareRequest.Access.STANDING,
            approved_until__lt=timezone.localdate(now),
        )
    ).update(status=ShareRequest.State.EXPIRED)
