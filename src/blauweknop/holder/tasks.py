"""A holder's background work, run by the worker (``manage.py db_worker``). Each task is safe twice at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

from blauweknop.holder.freshness import follow_source_changes
from blauweknop.holder.models import IssuedCredential, StatusListRecord, UsedAssertion

# A credential fails verification at its expiry; a month later its row has nothing left to withdraw.
RETAIN_AFTER_EXPIRY = timedelta(days=30)


@task()
def publish_status_lists() -> int:
    """Supersede the copies the source's changes made outdated, then sign and store the status lists that changed
    or get old; how many lists were stored. So a change is in the published list within one run."""
    now = timezone.now()
    follow_source_changes(now)
    return StatusListRecord.objects.publish_due(now)


@task()
def forget_used_assertions() -> int:
    """Delete used assertion ids that can no longer verify; how many."""
    return UsedAssertion.forget_expired(timezone.now())


@task()
def forget_expired_credentials() -> int:
    """Delete the records of VALID credentials that expired over a month ago; how many."""
    return forget_credentials_expired_before(timezone.now() - RETAIN_AFTER_EXPIRY)


def forget_credentials_expired_before(moment: datetime) -> int:
    """Delete the records of VALID credentials that expired before ``moment``; how many.

    Nobody can use such a credential any more, so there is nothing left to withdraw. INVALID ones
    stay: their bit in the status list is what keeps an old copy withdrawn.
    """
    deleted, _ = IssuedCredential.objects.valid().filter(expires_at__lt=moment).delete()
    return deleted
