"""Background work that every deployment has, whatever roles it plays."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

# A finished task's result only helps to see what the worker did lately; a failure is kept longer to look into.
KEEP_SUCCEEDED = timedelta(days=1)
KEEP_FAILED = timedelta(days=7)


@task()
def prune_task_results() -> int:
    """Delete the worker's old task results; how many."""
    return prune_task_results_before(timezone.now())


def prune_task_results_before(now: datetime) -> int:
    """Delete results that succeeded a day before ``now`` and failures a week before; how many."""
    deleted, _ = DBTaskResult.objects.filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - KEEP_SUCCEEDED)
        | Q(status=TaskResultStatus.FAILED, finished_at__lt=now - KEEP_FAILED)
    ).delete()
    return deleted
