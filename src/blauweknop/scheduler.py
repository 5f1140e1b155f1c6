"""The scheduler: it enqueues the periodic background work, which the worker (``manage.py db_worker``) runs.

django-tasks has no scheduler of its own. Run ``python -m blauweknop.scheduler`` beside the
workers: every minute it enqueues each task of the roles this deployment plays that is due. Whether
a task is due is read from the task queue itself, so the scheduler keeps no state: it can be
restarted at any time, and two of them at once are harmless, because every task is idempotent and
safe to run twice at the same time. While a task still waits for a worker, it is not enqueued again,
so a stopped worker does not make the queue grow.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus

logger = logging.getLogger("blauweknop.scheduler")  # also when run as __main__

# A tick that comes a little early still counts as a full interval later.
SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class Periodic:
    """A task to run every so often, in deployments that play ``role`` (``None``: in every deployment)."""

    task: str
    every: timedelta
    role: str | None


SCHEDULE = (
    Periodic("blauweknop.scheme.tasks.renew_scheme_document", timedelta(hours=1), "scheme"),
    # A next key becomes current at most this late after its notice (ten minutes for a participant's).
    Periodic("blauweknop.scheme.tasks.rotate_keys", timedelta(minutes=5), "scheme"),
    # An application the operator did not decide on lapses after 30 days (docs/scheme-operator.md).
    Periodic("blauweknop.scheme.applications.lapse_waiting", timedelta(hours=1), "scheme"),
    # Status list tokens live five minutes at a verifier: they are signed again every two minutes.
    Periodic("blauweknop.holder.tasks.publish_status_lists", timedelta(minutes=1), "holder"),
    # The portal mails a citizen who asked within about a minute of a decision on their correction request.
    Periodic("blauweknop.holder.notices.tell_app_managers", timedelta(minutes=1), "holder"),
    Periodic("blauweknop.holder.tasks.forget_used_assertions", timedelta(minutes=10), "holder"),
    Periodic("blauweknop.holder.tasks.forget_expired_credentials", timedelta(days=1), "holder"),
    # A correction request's attachment is deleted 90 days after the decision (docs/corrections.md).
    Periodic("blauweknop.holder.corrections.forget_attachments", timedelta(days=1), "holder"),
    Periodic("blauweknop.portal.tasks.prune_sessions", timedelta(minutes=5), "portal"),
    Periodic("blauweknop.portal.tasks.forget_old_events", timedelta(days=1), "portal"),
    Periodic("blauweknop.portal.tasks.expire_consents", timedelta(minutes=5), "portal"),
    # Holders record a standing fetch the portal refused within about a minute (docs/plus.md §4).
    Periodic("blauweknop.portal.refusal_notices.tell_holders", timedelta(minutes=1), "portal"),
    # A requester hears within about a minute that a standing consent ended (docs/plus.md §4).
    Periodic("blauweknop.portal.end_notices.tell_requesters", timedelta(minutes=1), "portal"),
    # Received data is deleted within the hour its retention term ends.
    Periodic("blauweknop.requester.tasks.forget_received_data", timedelta(hours=1), "requester"),
    Periodic("blauweknop.requester.tasks.expire_requests", timedelta(minutes=10), "requester"),
    Periodic("blauweknop.tasks.prune_task_results", timedelta(hours=1), None),
)


def enqueue_due(now: datetime, roles: Iterable[str]) -> list[str]:
    """Enqueue every task of ``roles`` that is due at ``now``; the paths of those enqueued."""
    results = apps.get_model("django_tasks_database", "DBTaskResult").objects
    roles = set(roles)
    enqueued = []
    for periodic in SCHEDULE:
        if periodic.role is not None and periodic.role not in roles:
            continue
        waiting_or_recent = Q(status=TaskResultStatus.READY) | Q(enqueued_at__gt=now - periodic.every + SLACK)
        if not results.filter(waiting_or_recent, task_path=periodic.task).exists():
            import_string(periodic.task).enqueue()
            enqueued.append(periodic.task)
    return enqueued


def tick() -> None:
    """Enqueue what is due now for the roles this deployment plays, and say what."""
    for path in enqueue_due(timezone.now(), settings.BLAUWEKNOP_ROLES):
        logger.info("enqueued %s", path)


def main(argv: list[str] | None = None) -> None:
    """``python -m blauweknop.scheduler [--every SECONDS | --once]``: enqueue what is due, until stopped."""
    parser = argparse.ArgumentParser(prog="python -m blauweknop.scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=60.0, help="seconds between two looks (default: 60)")
    parser.add_argument("--once", action="store_true", help="enqueue what is due once, then stop")
    args = parser.parse_args(argv)
    if not (math.isfinite(args.every) and args.every > 0):
        parser.error("--every must be a positive number of seconds")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blauweknop.settings")
    import django

    django.setup()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        tick()
        while not args.once:
            close_old_connections()  # a database that restarted meanwhile is simply connected to again
            time.sleep(args.every)
            tick()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
