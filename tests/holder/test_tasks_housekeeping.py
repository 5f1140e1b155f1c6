"""A holder's housekeeping tasks: old assertion ids and records of long-expired credentials go (issue 7, item 3)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blauweknop.holder.models import IssuedCredential, Tenant, UsedAssertion
from blauweknop.holder.tasks import RETAIN_AFTER_EXPIRY, forget_expired_credentials, forget_used_assertions
from blauweknop.protocol.status_list import INVALID, VALID
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def _credential(holder, expired_ago, status=VALID):
    return IssuedCredential.allocate(
        holder,
        document_type="inkomen",
        subject="s",
        data_digest="d",
        expires_at=timezone.now() - expired_ago,
        status=status,
    )


@pytest.fixture
def holder():
    return Tenant.objects.create(oin="00000009999999999000", slug="test", issuer_url="http://testserver/test")


def test_records_of_valid_credentials_go_a_month_after_they_expired(holder):
    long_gone = _credential(holder, RETAIN_AFTER_EXPIRY + timedelta(days=1))
    recent = _credential(holder, RETAIN_AFTER_EXPIRY - timedelta(days=1))
    live = _credential(holder, -timedelta(days=10))
    assert forget_expired_credentials.call() == 1
    assert set(IssuedCredential.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    long_gone.status_list.refresh_from_db()
    assert long_gone.status_list.allocated == 3  # its index is never handed out again


def test_withdrawn_credentials_stay_so_the_status_list_keeps_them_withdrawn(holder):
    withdrawn = _credential(holder, timedelta(days=400), status=INVALID)
    assert forget_expired_credentials.call() == 0
    assert withdrawn.status_list.build().get(withdrawn.idx) == INVALID


def test_two_workers_forgetting_credentials_at_once_delete_each_once(holder):
    for _ in range(20):
        _credential(holder, RETAIN_AFTER_EXPIRY + timedelta(days=2))
    results, failures = at_once(forget_expired_credentials.call)
    assert failures == []
    assert sum(results) == 20
    assert not IssuedCredential.objects.exists()


def test_used_assertion_ids_go_once_they_can_no_longer_verify():
    now = timezone.now()
    UsedAssertion.objects.create(jti="old", expires_at=now - timedelta(seconds=1))
    UsedAssertion.objects.create(jti="live", expires_at=now + timedelta(minutes=5))
    results, failures = at_once(forget_used_assertions.call)
    assert failures == []
    assert sum(results) == 1
    assert list(UsedAssertion.objects.values_list("jti", flat=True)) == ["live"]
