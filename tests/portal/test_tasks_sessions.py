"""The worker deletes ended citizen sessions with their copies, also on two workers at once (issue 7, item 3)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from blauweknop.portal.events import RETENTION
from blauweknop.portal.models import CitizenEvent, SessionCopies
from blauweknop.portal.tasks import forget_old_events, prune_sessions
from tests.concurrency import at_once

from .conftest import BELASTING

pytestmark = pytest.mark.django_db(transaction=True)


def _session(key, ends_in):
    session = Session.objects.create(session_key=key, session_data="", expire_date=timezone.now() + ends_in)
    SessionCopies.objects.create(session=session, holder_oin=BELASTING, credentials={})


def test_two_workers_pruning_at_once_delete_each_ended_session_once():
    for i in range(30):
        _session(f"ended{i:035d}", -timedelta(minutes=1))
    _session("live", timedelta(minutes=10))
    results, failures = at_once(prune_sessions.call)
    assert failures == []
    assert sum(results) == 30
    assert list(Session.objects.values_list("pk", flat=True)) == ["live"]
    assert list(SessionCopies.objects.values_list("session_id", flat=True)) == ["live"]


def test_the_worker_forgets_events_past_their_retention():
    old = timezone.now() - RETENTION - timedelta(days=1)
    CitizenEvent.objects.create(
        citizen="p", holder_oin=BELASTING, document_type="inkomen", activity="gedownload", at=old
    )
    CitizenEvent.objects.create(citizen="p", holder_oin=BELASTING, document_type="inkomen", activity="gedownload")
    assert forget_old_events.call() == 1
    assert CitizenEvent.objects.get().at > old
