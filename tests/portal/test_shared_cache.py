"""Web processes of the portal share status lists through the shared cache, and trust nothing in it (issue 7, item 4).

Two ``StatusLists`` instances stand for two web processes: they share nothing but the cache (the
database table here, as by default). Each fetches from the holder through the real HTTP download.
"""

import asyncio
import logging
import os

import httpx
import pytest

from blauweknop import keystore, shared_cache
from blauweknop.portal import verification
from blauweknop.portal.verification import StatusLists
from blauweknop.protocol import sdjwt_vc, status_list
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.protocol.validity import now_or
from blauweknop.scheme.client import scheme_client
from tests.holder.test_issue_credential import _assertion

from .conftest import BELASTING

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def copy(demo_world, citizen_bsn, wallet):
    """A fresh copy of the citizen's income from the tax office, and the scheme it verifies against."""
    body = {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"}
    answer = httpx.post(f"{demo_world.url}/belastingkantoor/api/v1/verklaringen", json=body, timeout=30)
    assert answer.status_code == 201
    return answer.json()["verklaring"], asyncio.run(scheme_client.current())


@pytest.fixture
def downloads():
    """Every status list a test's processes fetch from the holder."""
    return []


def _process(downloads: list, **options) -> StatusLists:
    """A web process's own status lists, nothing in memory yet; its fetches go through the real download."""

    def counted(uri: str) -> str:
        downloads.append(uri)
        return verification.download(uri)

    return StatusLists(counted, **options)


def _verify(lists: StatusLists, copy: tuple) -> sdjwt_vc.VerifiedCredential:
    presentation, scheme = copy
    return sdjwt_vc.verify(presentation, scheme.issuer_keys(), status_lists=lists, require_key_binding=False)


def _withdrawn_list(reference: status_list.StatusReference, key: SigningKey, iat: int) -> str:
    """A status list token that says the copy was withdrawn."""
    withdrawn = status_list.StatusList(131072)
    withdrawn.set(reference.idx, status_list.INVALID)
    return status_list.sign(withdrawn, key, uri=reference.uri, iss=reference.uri.split("/api/")[0], now=iat)


def test_a_second_process_checks_a_status_with_the_list_another_one_fetched(copy, downloads):
    first = _verify(_process(downloads), copy)
    assert len(downloads) == 1
    second = _verify(_process(downloads), copy)
    assert len(downloads) == 1, "the second process fetched the status list again"
    assert second.status == first.status and second.claims == first.claims


def test_a_process_checks_the_next_copy_with_the_list_it_keeps(copy, downloads):
    lists = _process(downloads)
    _verify(lists, copy)
    shared_cache.delete(shared_cache.key("statuslijst", _verify(lists, copy).status.uri))
    _verify(lists, copy)
    assert len(downloads) == 1


@pytest.mark.parametrize(
    "signer",
    [
        pytest.param(lambda: SigningKey(generate_jwk()), id="forged"),
        pytest.param(lambda: keystore.signing_key(BELASTING), id="genuine-but-past-its-ttl"),
    ],
)
def test_it_refuses_a_status_list_planted_in_the_shared_cache(copy, downloads, signer, caplog):
    reference = _verify(_process([]), copy).status  # the genuine list is in the cache now
    planted = _withdrawn_list(reference, signer(), iat=now_or(None) - 400)
    shared_cache.write(shared_cache.key("statuslijst", reference.uri), planted, 300)
    with caplog.at_level(logging.WARNING):
        result = _verify(_process(downloads), copy)
    assert result.status == reference  # valid: the planted "withdrawn" was not believed
    assert len(downloads) == 1  # it cost one fetch from the holder
    assert "status list token in the shared cache refused" in caplog.text


def test_a_planted_list_during_an_outage_is_still_an_outage(copy):
    reference = _verify(_process([]), copy).status
    planted = _withdrawn_list(reference, SigningKey(generate_jwk()), iat=now_or(None))
    shared_cache.write(shared_cache.key("statuslijst", reference.uri), planted, 300)

    def holder_down(uri: str) -> str:
        raise httpx.ConnectError("down")

    with pytest.raises(VerificationError) as refused:
        _verify(StatusLists(holder_down), copy)
    assert refused.value.code == "status_unavailable"


def test_it_keeps_no_more_status_lists_in_memory_than_it_may(copy, downloads):
    lists = _process(downloads, kept_bytes=10)  # less than one token
    reference = _verify(lists, copy).status
    shared_cache.delete(shared_cache.key("statuslijst", reference.uri))
    _verify(lists, copy)
    assert len(downloads) == 2


def test_it_leaves_no_outsized_status_list_in_the_shared_cache():
    key = SigningKey(generate_jwk())
    uri = "https://houder.example/api/v1/statuslijsten/1"
    noisy = status_list.StatusList(4 * verification.SHARED_BYTES, bits=8)
    noisy.data = bytearray(os.urandom(len(noisy.data)))  # random statuses do not compress
    token = status_list.sign(noisy, key, uri=uri, iss="https://houder.example")
    assert len(token) > verification.SHARED_BYTES
    StatusLists(lambda _: token).token(uri, KeySet([key.public_jwk]))
    assert shared_cache.read(shared_cache.key("statuslijst", uri)) is None
