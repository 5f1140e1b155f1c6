"""Received data goes when its retention term ends; requests nobody answered, and standing access that ended, expire."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from blauweknop import scheduler
from blauweknop.requester.models import ReceivedCredential, ShareRequest, UsedPresentation
from blauweknop.requester.tasks import expire_requests, expire_requests_at, forget_received_before, forget_received_data
from tests.concurrency import at_once

from .world import (
    BANK,
    BANK_SLUG,
    as_portal,
    copy,
    created,
    income_request,
    opened,
    post_answer,
    presentation,
    state_of,
    vp_token,
)

pytestmark = pytest.mark.django_db(transaction=True)


def approve(bsn, wallet, body=None, *, slug=None, oin=None, **extra) -> str:
    """A request made, opened and approved with a real copy; its code."""
    made = created(body, **({"slug": slug, "oin": oin} if slug else {}))
    request = opened(made)
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown), **extra}
    where = {"slug": slug} if slug else {}
    assert post_answer(as_portal(fields, **where), **where).status_code == 200
    return made["code"]


def test_received_data_is_deleted_when_its_term_ends_and_not_before(demo_world, bsn, wallet):
    code = approve(bsn, wallet)  # kept 30 days
    received_at = ReceivedCredential.objects.get().received_at
    assert forget_received_before(received_at + timedelta(days=29, hours=23)) == 0
    assert len(state_of(code).json()["ontvangen"]) == 1
    assert forget_received_before(received_at + timedelta(days=30)) == 1
    assert ReceivedCredential.objects.count() == 0
    assert state_of(code).json()["ontvangen"] == []
    assert UsedPresentation.objects.count() == 0  # its replay mark outlived its use long ago


def test_data_past_its_term_is_not_shown_even_before_the_task_ran(demo_world, bsn, wallet):
    code = approve(bsn, wallet)
    ReceivedCredential.objects.update(delete_after=timezone.now() - timedelta(seconds=1))
    assert state_of(code).json()["ontvangen"] == []


def test_each_requesters_own_term_counts(demo_world, bsn, wallet):
    approve(bsn, wallet)  # the housing corporation: 30 days
    approve(bsn, wallet, income_request(bewaartermijnDagen=7), slug=BANK_SLUG, oin=BANK)
    in_ten_days = timezone.now() + timedelta(days=10)
    assert forget_received_before(in_ten_days) == 1
    assert list(ReceivedCredential.objects.values_list("requester_id", flat=True)) == ["00000003271247970000"]


def test_two_workers_at_once_delete_each_row_once(demo_world, bsn, wallet):
    approve(bsn, wallet)
    approve(bsn, wallet)
    later = timezone.now() + timedelta(days=31)
    results, failures = at_once(lambda: forget_received_before(later))
    assert failures == [] and sum(results) == 2
    assert forget_received_data.call() == 0  # idempotent: nothing left to do


def test_open_requests_past_their_date_and_ended_standing_access_expire(demo_world, bsn, wallet):
    waiting = created()["code"]
    stale = created()["code"]
    until = date.today() + timedelta(days=30)
    standing = approve(
        bsn, wallet, income_request(toegang="doorlopend", toegangTot=until.isoformat()), toestemming="tst-5"
    )
    answered_once = approve(bsn, wallet)
    ShareRequest.objects.filter(code=stale).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_requests_at(timezone.now()) == 1
    status = dict(ShareRequest.objects.values_list("code", "status"))
    assert (status[waiting], status[stale], status[standing], status[answered_once]) == (
        "open",
        "verlopen",
        "goedgekeurd",
        "goedgekeurd",
    )
    day_after = timezone.now() + timedelta(days=31)
    results, failures = at_once(lambda: expire_requests_at(day_after))
    assert failures == [] and sum(results) == 2  # the waiting request and the standing access, once each
    status = dict(ShareRequest.objects.values_list("code", "status"))
    assert (status[waiting], status[standing], status[answered_once]) == ("verlopen", "verlopen", "goedgekeurd")
    assert expire_requests.call() == 0


def test_the_scheduler_runs_the_requesters_housekeeping_where_the_role_is_played():
    enqueued = scheduler.enqueue_due(timezone.now(), ["requester"])
    assert enqueued == [
        "blauweknop.requester.tasks.forget_received_data",
        "blauweknop.requester.tasks.expire_requests",
        "blauweknop.tasks.prune_task_results",
    ]
    assert not any(
        path.startswith("blauweknop.requester.") for path in scheduler.enqueue_due(timezone.now(), ["portal"])
    )
