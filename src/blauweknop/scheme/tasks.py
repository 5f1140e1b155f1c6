"""The scheme operator's background work, run by the worker (``manage.py db_worker``)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from blauweknop.scheme import keys, publication


@task()
def renew_scheme_document() -> int | None:
    """Sign the next version of the scheme document when the one in force is a day old; its version, if signed."""
    renewed = publication.renew(timezone.now())
    return renewed.version if renewed else None


@task()
def rotate_keys() -> list[str]:
    """Make due next keys current and retire keys past their overlap, publishing when anything changed; what changed."""
    return keys.rotate_due(timezone.now())
