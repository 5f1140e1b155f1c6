"""Issuance never runs out of status-list indexes, and indexes say nothing about order (issue 6, item 3)."""

import itertools
import secrets

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blauweknop.holder.allocation import shuffled_index
from blauweknop.holder.models import IssuedCredential, SourceRecord, StatusListRecord, Tenant
from tests.holder.test_issue_credential import BELASTING, _assertion, _verify


@given(size=st.integers(min_value=1, max_value=600), key=st.binary(min_size=32, max_size=32))
@settings(max_examples=60, deadline=None)
def test_the_shuffle_is_a_permutation_of_the_list(size, key):
    assert sorted(shuffled_index(key, position, size) for position in range(size)) == list(range(size))


def test_consecutive_positions_do_not_give_consecutive_indexes():
    key, size = secrets.token_bytes(32), 2**17
    indexes = [shuffled_index(key, position, size) for position in range(50)]
    steps = {b - a for a, b in itertools.pairwise(indexes)}
    assert len(steps) > 40 and max(indexes) > size // 2 and indexes != sorted(indexes)


def test_two_lists_shuffle_differently():
    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    assert [shuffled_index(first, p, 2**17) for p in range(8)] != [shuffled_index(second, p, 2**17) for p in range(8)]


@pytest.mark.django_db(transaction=True)
def test_issuance_runs_on_into_new_lists_when_one_is_full(demo_world, wallet, settings):
    settings.STATUS_LIST_SIZE = 4
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    credentials = []
    for _ in range(10):
        body = {"appbeheerderverklaring": _assertion(bsn, wallet), "documentsoort": "inkomen"}
        response = httpx.post(f"{demo_world.url}/belastingkantoor/api/v1/verklaringen", json=body, timeout=30)
        assert response.status_code == 201, response.text
        credentials.append(response.json()["verklaring"])
    lists = list(StatusListRecord.objects.filter(holder_id=BELASTING).order_by("number"))
    assert [s.number for s in lists] == [1, 2, 3]
    assert [(s.size, s.allocated) for s in lists] == [(4, 4), (4, 4), (4, 2)]
    for status_list in lists:
        indexes = list(status_list.credentials.values_list("idx", flat=True))
        assert len(set(indexes)) == len(indexes) and set(indexes) <= set(range(4))
    assert all(_verify(demo_world, credential).claims for credential in credentials)


@pytest.mark.django_db
def test_a_nearly_full_list_allocates_like_an_empty_one(settings):
    settings.STATUS_LIST_SIZE = 2**17
    holder = Tenant.objects.create(oin="00000009999999999000", slug="test", issuer_url="http://testserver/test")
    status_list = StatusListRecord.objects.current(holder)
    StatusListRecord.objects.filter(pk=status_list.pk).update(allocated=2**17 - 1)
    fields = {"document_type": "inkomen", "subject": "s", "data_digest": "d", "expires_at": "2030-01-01T00:00Z"}
    last = IssuedCredential.allocate(holder, **fields)
    after = IssuedCredential.allocate(holder, **fields)
    assert (last.status_list.number, after.status_list.number) == (1, 2)
    assert 0 <= last.idx < 2**17 and 0 <= after.idx < 2**17
