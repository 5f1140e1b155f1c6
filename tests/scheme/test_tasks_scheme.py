"""The worker keeps the scheme document in force; a GET of it only reads (issue 7, item 3)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import KeySet
from blauweknop.scheme import publication
from blauweknop.scheme.models import PublishedDocument
from blauweknop.scheme.tasks import renew_scheme_document
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)

WRITES = ("INSERT", "UPDATE", "DELETE")


def _age(document, days):
    """Make ``document`` as old as ``days``: published then, and expiring a week after that."""
    published = timezone.now() - timedelta(days=days)
    PublishedDocument.objects.filter(pk=document.pk).update(
        published_at=published, expires_at=published + timedelta(seconds=publication.VALID_FOR)
    )


def _versions():
    return list(PublishedDocument.objects.order_by("version").values_list("version", flat=True))


def test_the_worker_signs_a_day_old_document_again_with_a_higher_version():
    first = publication.publish()
    _age(first, days=1)
    assert renew_scheme_document.call() == first.version + 1
    renewed = scheme_document.verify(publication.in_force().token, KeySet.from_jwks(publication.operator_jwks()))
    assert renewed.version == first.version + 1


def test_the_worker_signs_an_expired_document_again():
    first = publication.publish()
    _age(first, days=8)
    assert publication.in_force() is None
    assert renew_scheme_document.call() == first.version + 1
    assert publication.in_force().version == first.version + 1


def test_the_worker_leaves_a_fresh_document_as_it_is():
    publication.publish()
    assert renew_scheme_document.call() is None
    assert _versions() == [1]


def test_the_worker_never_makes_the_first_publication():
    assert renew_scheme_document.call() is None
    assert _versions() == []


def test_two_workers_renewing_at_once_sign_one_new_version():
    _age(publication.publish(), days=2)
    results, failures = at_once(lambda: publication.renew(timezone.now()))
    assert failures == []
    assert sorted(r is not None for r in results) == [False, True]
    assert _versions() == [1, 2]


def test_it_refuses_to_write_on_a_get_of_a_day_old_document(client):
    document = publication.publish()
    _age(document, days=6)  # a day before it expires, and nothing re-signed it
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/stelsel/api/v1/stelseldocument")
    assert response.status_code == 200
    assert response.content.decode() == document.token
    assert [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)] == []
    assert _versions() == [1]


def test_an_expired_document_is_not_served(client):
    _age(publication.publish(), days=8)
    assert client.get("/stelsel/api/v1/stelseldocument").status_code == 503
