"""The scheduler enqueues the periodic work once while it waits, and a real worker runs it (issue 7, item 3)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from blauweknop import scheduler
from blauweknop.holder.models import IssuedCredential, StatusListRecord, Tenant
from blauweknop.scheme import publication
from blauweknop.scheme.models import PublishedDocument
from blauweknop.tasks import prune_task_results_before
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = Path(__file__).resolve().parents[1]
ALL = [p.task for p in scheduler.SCHEDULE]


def _waiting():
    return sorted(DBTaskResult.objects.filter(status=TaskResultStatus.READY).values_list("task_path", flat=True))


def test_the_scheduler_enqueues_each_due_task_once_while_it_waits():
    now = timezone.now()
    assert scheduler.enqueue_due(now, settings.ALL_ROLES) == ALL
    assert scheduler.enqueue_due(now + timedelta(days=2), settings.ALL_ROLES) == []  # the worker is behind
    assert _waiting() == sorted(ALL)


def test_the_scheduler_enqueues_a_task_again_once_its_interval_has_passed():
    scheduler.enqueue_due(timezone.now(), settings.ALL_ROLES)
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now())
    in_two_minutes = timezone.now() + timedelta(minutes=2)
    assert scheduler.enqueue_due(in_two_minutes, settings.ALL_ROLES) == [
        "blauweknop.holder.tasks.publish_status_lists",
        "blauweknop.holder.notices.tell_app_managers",
        "blauweknop.portal.refusal_notices.tell_holders",
        "blauweknop.portal.end_notices.tell_requesters",
    ]


def test_the_scheduler_enqueues_only_the_work_of_the_roles_played():
    assert scheduler.enqueue_due(timezone.now(), ["portal"]) == [
        "blauweknop.portal.tasks.prune_sessions",
        "blauweknop.portal.tasks.forget_old_events",
        "blauweknop.portal.tasks.expire_consents",
        "blauweknop.portal.refusal_notices.tell_holders",
        "blauweknop.portal.end_notices.tell_requesters",
        "blauweknop.tasks.prune_task_results",
    ]


def test_two_schedulers_at_once_enqueue_no_more_than_twice():
    results, failures = at_once(lambda: scheduler.enqueue_due(timezone.now(), settings.ALL_ROLES))
    assert failures == []
    assert all(path in ALL for enqueued in results for path in enqueued)
    assert set(_waiting()) == set(ALL) and len(_waiting()) <= 2 * len(ALL)


def test_old_task_results_go_and_recent_ones_and_failures_stay_longer():
    now = timezone.now()
    scheduler.enqueue_due(now, settings.ALL_ROLES)
    results = list(DBTaskResult.objects.order_by("task_path"))
    finished = [
        (TaskResultStatus.SUCCESSFUL, timedelta(days=2)),  # goes
        (TaskResultStatus.SUCCESSFUL, timedelta(hours=2)),
        (TaskResultStatus.FAILED, timedelta(days=2)),
        (TaskResultStatus.FAILED, timedelta(days=8)),  # goes
    ]
    for result, (status, age) in zip(results, finished, strict=False):
        DBTaskResult.objects.filter(pk=result.pk).update(status=status, finished_at=now - age)
    assert prune_task_results_before(now) == 2
    assert DBTaskResult.objects.count() == len(ALL) - 2


def _database_url():
    """The test database, for a process of its own."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


def _run(tmp_path, *command):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "blauweknop.settings",
        "DATABASE_URL": _database_url(),
        "BLAUWEKNOP_DATA_DIR": str(tmp_path),
        "BLAUWEKNOP_KEY_DIR": str(settings.KEY_DIR),
    }
    done = subprocess.run([sys.executable, *command], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_worker_process_runs_what_the_scheduler_process_enqueued(tmp_path):
    first = publication.publish()
    PublishedDocument.objects.filter(pk=first.pk).update(published_at=timezone.now() - timedelta(days=2))
    holder = Tenant.objects.create(oin="00000009999999999000", slug="test", issuer_url="http://testserver/test")
    IssuedCredential.allocate(
        holder, document_type="inkomen", subject="s", data_digest="d", expires_at=timezone.now() + timedelta(days=1)
    )
    _run(tmp_path, "-m", "blauweknop.scheduler", "--once")
    assert _waiting() == sorted(ALL)
    _run(tmp_path, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert sorted(DBTaskResult.objects.values_list("task_path", "status")) == sorted(
        (path, TaskResultStatus.SUCCESSFUL) for path in ALL
    )
    assert publication.in_force().version == first.version + 1
    assert StatusListRecord.objects.get(holder=holder).token
