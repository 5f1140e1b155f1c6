"""The worker publishes the status lists; a GET serves what it stored and writes nothing (issue 7, item 3)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blauweknop import keystore
from blauweknop.holder.models import IssuedCredential, StatusListRecord, Tenant
from blauweknop.holder.tasks import publish_status_lists
from blauweknop.protocol import status_list
from blauweknop.protocol.jwk import KeySet, jwks
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def holder(settings):
    settings.STATUS_LIST_SIZE = 64
    return Tenant.objects.create(oin="00000009999999999000", slug="test", issuer_url="http://testserver/test")


def _issue(holder, count=1):
    expires = timezone.now() + timedelta(days=90)
    return [
        IssuedCredential.allocate(holder, document_type="inkomen", subject="s", data_digest="d", expires_at=expires)
        for _ in range(count)
    ]


def _get(client, record):
    response = client.get(f"/{record.holder.slug}/api/v1/statuslijsten/{record.number}")
    assert response.status_code == 200
    return response


def _verify(record, token):
    keys = KeySet.from_jwks(jwks([keystore.signing_key(record.holder_id).public_jwk]))
    return status_list.verify(token, keys, uri=record.uri)


def _writes(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


def _stored(record):
    record.refresh_from_db()
    return record.token


def test_the_worker_publishes_a_new_list_and_the_get_serves_it(client, holder):
    first, second = _issue(holder, 2)
    record = first.status_list
    assert publish_status_lists.call() == 1
    response = _get(client, record)
    assert response.content.decode() == _stored(record)
    statuses = _verify(record, response.content.decode()).status_list
    assert statuses.get(first.idx) == statuses.get(second.idx) == status_list.VALID


def test_a_withdrawn_credential_is_in_the_list_the_next_run_publishes(client, holder):
    withdrawn, kept = _issue(holder, 2)
    publish_status_lists.call()
    IssuedCredential.objects.filter(pk=withdrawn.pk).update(status=status_list.INVALID)
    assert publish_status_lists.call() == 1
    statuses = _verify(withdrawn.status_list, _get(client, withdrawn.status_list).content.decode()).status_list
    assert statuses.get(withdrawn.idx) == status_list.INVALID
    assert statuses.get(kept.idx) == status_list.VALID


def test_an_unchanged_fresh_list_is_not_signed_again(holder):
    record = _issue(holder)[0].status_list
    publish_status_lists.call()
    token = _stored(record)
    assert publish_status_lists.call() == 0
    assert _stored(record) == token


def test_a_list_is_signed_again_well_before_verifiers_would_refuse_it(holder):
    record = _issue(holder)[0].status_list
    StatusListRecord.objects.publish_due(timezone.now())
    record.refresh_from_db()
    resign_at = record.token_signed_at + timedelta(seconds=StatusListRecord.RESIGN_AFTER)
    assert StatusListRecord.RESIGN_AFTER < StatusListRecord.SERVE_FOR < StatusListRecord.TTL
    assert StatusListRecord.objects.publish_due(resign_at - timedelta(seconds=1)) == 0
    assert StatusListRecord.objects.publish_due(resign_at) == 1


def test_two_workers_publishing_at_once_store_each_list_once(holder, settings):
    settings.STATUS_LIST_SIZE = 4
    _issue(holder, 10)  # three lists
    results, failures = at_once(publish_status_lists.call)
    assert failures == []
    assert sum(results) == StatusListRecord.objects.count() == 3
    for record in StatusListRecord.objects.select_related("holder"):
        assert _verify(record, record.token).status_list.get(0) == status_list.VALID


def test_it_refuses_to_write_on_a_get_of_a_published_list(client, holder):
    record = _issue(holder)[0].status_list
    publish_status_lists.call()
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, record)
    assert _writes(queries) == []
    assert response.content.decode() == _stored(record)


def test_it_refuses_to_write_on_a_get_of_a_list_not_published_yet(client, holder):
    record = _issue(holder)[0].status_list
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, record)
    assert _writes(queries) == []
    assert _verify(record, response.content.decode()).status_list.get(0) == status_list.VALID
    assert _stored(record) == ""
    assert response["Cache-Control"] == f"public, max-age={StatusListRecord.TTL}"


def test_a_stored_token_is_cached_only_as_long_as_its_ttl_allows(client, holder):
    record = _issue(holder)[0].status_list
    publish_status_lists.call()
    StatusListRecord.objects.filter(pk=record.pk).update(token_signed_at=timezone.now() - timedelta(seconds=100))
    response = _get(client, record)
    assert response.content.decode() == _stored(record)
    max_age = int(response["Cache-Control"].rsplit("=", 1)[1])
    assert StatusListRecord.TTL - 101 <= max_age <= StatusListRecord.TTL - 100


def test_without_a_worker_an_old_stored_token_is_not_served(client, holder):
    record = _issue(holder)[0].status_list
    publish_status_lists.call()
    stale = timezone.now() - timedelta(seconds=StatusListRecord.SERVE_FOR)
    StatusListRecord.objects.filter(pk=record.pk).update(token_signed_at=stale)
    with CaptureQueriesContext(connection) as queries:
        token = _get(client, record).content.decode()
    assert _writes(queries) == []
    assert token != _stored(record)
    assert _verify(record, token).iat >= int(timezone.now().timestamp()) - 5


def test_it_refuses_to_let_a_worker_clock_ahead_of_ours_lengthen_the_cache_time(client, holder):
    record = _issue(holder)[0].status_list
    publish_status_lists.call()
    StatusListRecord.objects.filter(pk=record.pk).update(token_signed_at=timezone.now() + timedelta(seconds=30))
    assert _get(client, record)["Cache-Control"] == f"public, max-age={StatusListRecord.TTL}"
