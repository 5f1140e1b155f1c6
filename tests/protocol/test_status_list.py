"""Token Status List: the bit layout of the draft's examples, signing, and the caching client."""

import pytest

from blauweknop.protocol import jws, status_list
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.protocol.status_list import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusList,
    StatusListClient,
    StatusReference,
)

from .conftest import NOW

URI = "https://gemeente.example/blauweknop/statuslijsten/1"
ISS = "https://gemeente.example/blauweknop"

# The examples of draft-ietf-oauth-status-list §4.1: statuses by index and the resulting 'lst'.
ONE_BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
ONE_BIT_LST = "eNrbuRgAAhcBXQ"
TWO_BITS = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
TWO_BITS_LST = "eNo76fITAAPfAgc"


@pytest.mark.parametrize(("bits", "statuses", "lst"), [(1, ONE_BIT, ONE_BIT_LST), (2, TWO_BITS, TWO_BITS_LST)])
def test_it_encodes_and_reads_the_drafts_examples(bits, statuses, lst):
    built = StatusList(len(statuses), bits)
    for idx, status in enumerate(statuses):
        built.set(idx, status)
    assert built.encode() == {"bits": bits, "lst": lst}
    read = StatusList.decode({"bits": bits, "lst": lst})
    assert [read.get(i) for i in range(len(statuses))] == statuses


def test_setting_one_status_leaves_its_neighbours_alone():
    statuses = StatusList(100, 2)
    statuses.set(41, SUSPENDED)
    statuses.set(42, INVALID)
    statuses.set(41, VALID)
    assert [statuses.get(i) for i in (40, 41, 42, 43)] == [VALID, VALID, INVALID, VALID]


def test_statuses_must_fit_and_indexes_must_exist():
    statuses = StatusList(8, 1)
    with pytest.raises(InvalidInput):
        statuses.set(0, SUSPENDED)  # needs two bits
    with pytest.raises(VerificationError) as caught:
        statuses.get(8)
    assert caught.value.code == "status_index_out_of_range"
    with pytest.raises(InvalidInput):
        StatusList(8, 3)


@pytest.mark.parametrize(
    "claim", [None, {"bits": 1}, {"bits": 3, "lst": ONE_BIT_LST}, {"bits": 1, "lst": "bm90IHpsaWI"}, {"lst": "AA"}]
)
def test_broken_status_list_claims_are_refused(claim):
    with pytest.raises(VerificationError) as caught:
        StatusList.decode(claim)
    assert caught.value.code == "malformed"


def test_a_large_list_compresses_well():
    statuses = StatusList(100_000, 1)
    statuses.set(77_777, INVALID)
    assert len(statuses.encode()["lst"]) < 200
    assert StatusList.decode(statuses.encode()).get(77_777) == INVALID


@pytest.fixture(scope="module")
def key():
    return SigningKey(generate_jwk())


def test_a_signed_status_list_verifies_for_its_own_uri_only(key):
    statuses = StatusList(16, 2)
    statuses.set(3, SUSPENDED)
    token = status_list.sign(statuses, key, uri=URI, iss=ISS, now=NOW, valid_for=3600, ttl=60)
    header, payload = jws.unverified_parts(token)
    assert header["typ"] == "statuslist+jwt"
    assert payload["sub"] == URI and payload["ttl"] == 60 and payload["exp"] == NOW + 3600
    verified = status_list.verify(token, KeySet([key.public_jwk]), uri=URI, now=NOW)
    assert verified.status_list.get(3) == SUSPENDED
    with pytest.raises(VerificationError):
        status_list.verify(token, KeySet([key.public_jwk]), uri=URI + "-other", now=NOW)
    with pytest.raises(VerificationError) as caught:
        status_list.verify(token, KeySet([key.public_jwk]), uri=URI, now=NOW + 7200)
    assert caught.value.code == "expired"


def test_the_status_reference_claim_round_trips():
    ref = StatusReference(URI, 7)
    assert ref.claim() == {"status_list": {"idx": 7, "uri": URI}}
    assert StatusReference.from_claim(ref.claim()) == ref
    for bad in ({}, {"status_list": {"idx": -1, "uri": URI}}, {"status_list": {"idx": True, "uri": URI}}):
        with pytest.raises(VerificationError):
            StatusReference.from_claim(bad)


class _Publisher:
    """Serves a status list like a holder would, counting how often it is asked."""

    def __init__(self, key, **sign_kwargs):
        self.key, self.sign_kwargs, self.list, self.fetches = key, sign_kwargs, StatusList(16, 2), 0

    def __call__(self, uri):
        self.fetches += 1
        return status_list.sign(self.list, self.key, uri=uri, iss=ISS, now=NOW, **self.sign_kwargs)


def test_the_client_caches_a_list_until_its_ttl_runs_out(key):
    publisher = _Publisher(key, ttl=300, valid_for=3600)
    clock = [NOW]
    client = StatusListClient(publisher, clock=lambda: clock[0])
    keys = KeySet([key.public_jwk])
    assert client.status(StatusReference(URI, 1), keys) == VALID
    publisher.list.set(1, INVALID)
    clock[0] = NOW + 299
    assert client.status(StatusReference(URI, 1), keys) == VALID  # still the cached list
    assert publisher.fetches == 1
    clock[0] = NOW + 300
    assert client.status(StatusReference(URI, 1), keys) == INVALID
    assert publisher.fetches == 2


def test_the_client_never_keeps_a_list_past_its_expiry(key):
    publisher = _Publisher(key, ttl=3600, valid_for=100)
    clock = [NOW]
    client = StatusListClient(publisher, clock=lambda: clock[0])
    keys = KeySet([key.public_jwk])
    client.status(StatusReference(URI, 0), keys)
    clock[0] = NOW + 100
    client.status(StatusReference(URI, 0), keys)
    assert publisher.fetches == 2  # the ttl is longer, but the list expired: fetched again
    clock[0] = NOW + 200
    with pytest.raises(VerificationError) as caught:
        client.status(StatusReference(URI, 0), keys)  # and a copy past its expiry is never used
    assert caught.value.code == "expired"


def test_without_ttl_or_expiry_every_lookup_fetches(key):
    publisher = _Publisher(key, ttl=None, valid_for=None)
    client = StatusListClient(publisher, clock=lambda: NOW)
    for _ in range(3):
        client.status(StatusReference(URI, 0), KeySet([key.public_jwk]))
    assert publisher.fetches == 3


def test_a_list_that_cannot_be_fetched_makes_the_status_unavailable(key):
    def unreachable(uri):
        raise OSError("connection refused")

    with pytest.raises(VerificationError) as caught:
        StatusListClient(unreachable).status(StatusReference(URI, 0), KeySet([key.public_jwk]))
    assert caught.value.code == "status_unavailable"


def test_a_list_signed_by_someone_else_is_refused(key):
    forger = _Publisher(SigningKey(generate_jwk()))
    with pytest.raises(VerificationError) as caught:
        StatusListClient(forger, clock=lambda: NOW).status(StatusReference(URI, 0), KeySet([key.public_jwk]))
    assert caught.value.code == "unknown_key"


# --- where a list may be published (F7: no status list on another address) ----------------------


@pytest.mark.parametrize(
    ("uri", "iss"),
    [
        (URI, ISS),
        ("https://GEMEENTE.example:443/lijsten/7", ISS),  # the same origin, spelled otherwise
        ("http://127.0.0.1:8000/gemeente/api/v1/statuslijsten/1", "http://127.0.0.1:8000/gemeente"),  # the demo
    ],
)
def test_it_accepts_a_status_list_on_the_issuers_own_origin(uri, iss):
    status_list.check_published_by(uri, iss)


@pytest.mark.parametrize(
    ("uri", "iss"),
    [
        ("https://169.254.169.254/latest/meta-data", ISS),  # another host: the cloud's metadata service
        ("https://gemeente.example.evil.example/statuslijsten/1", ISS),
        ("https://gemeente.example:8443/statuslijsten/1", ISS),  # another port
        ("http://gemeente.example/blauweknop/statuslijsten/1", ISS),  # plain http for an https issuer
        ("https://gemeente.example/statuslijsten/1", "http://gemeente.example/blauweknop"),  # another scheme
        ("https://admin@gemeente.example/statuslijsten/1", ISS),  # user info
        ("file:///etc/passwd", ISS),
        ("ftp://gemeente.example/statuslijsten/1", "ftp://gemeente.example/"),
        ("https://gemeente.example:99999/statuslijsten/1", ISS),  # a port out of range
        ("https://[::1/statuslijsten/1", ISS),  # a malformed host
        ("/statuslijsten/1", ISS),  # relative
    ],
)
def test_it_refuses_a_status_list_elsewhere_than_the_issuers_origin(uri, iss):
    with pytest.raises(VerificationError) as caught:
        status_list.check_published_by(uri, iss)
    assert caught.value.code == "status_elsewhere"
