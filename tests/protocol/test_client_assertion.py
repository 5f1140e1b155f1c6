"""private_key_jwt client assertions (RFC 7523 §3, draft-ietf-oauth-rfc7523bis): trusted through the scheme."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blauweknop.protocol import client_assertion, jws
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.scheme_document import HOLDER

from . import plus_scheme
from .conftest import NOW
from .hostile import mutated, refused_or_accepted, sign_text
from .plus_scheme import ANDERE_VRAGER, GEMEENTE, GESCHORSTE_VRAGER, VRAGER

URL = "https://portaal.example/appbeheerder/api/v1/ophalingen"


@pytest.fixture(scope="module")
def keys():
    return plus_scheme.keys()


@pytest.fixture(scope="module")
def scheme(keys):
    return plus_scheme.scheme(keys)


def _verify(token, scheme, **kwargs):
    kwargs.setdefault("audience", URL)
    kwargs.setdefault("now", NOW + 5)
    return client_assertion.verify(token, scheme, **kwargs)


def test_a_receiver_accepts_an_assertion_of_a_certified_requester(keys, scheme):
    token = client_assertion.sign(keys["vrager"], client_id=VRAGER, audience=URL, now=NOW)
    verified = _verify(token, scheme)
    header, payload = jws.unverified_parts(token)
    assert header["typ"] == "client-authentication+jwt" and header["kid"] == keys["vrager"].kid
    assert payload["iss"] == payload["sub"] == VRAGER and payload["aud"] == URL
    assert (verified.client_id, verified.jti, verified.expires_at) == (VRAGER, payload["jti"], NOW + 60)


def test_the_replay_key_is_the_same_for_the_same_assertion_and_differs_for_another(keys, scheme):
    first = client_assertion.sign(keys["vrager"], client_id=VRAGER, audience=URL, now=NOW)
    second = client_assertion.sign(keys["vrager"], client_id=VRAGER, audience=URL, now=NOW)
    assert _verify(first, scheme).replay_key() == _verify(first, scheme).replay_key()
    assert _verify(first, scheme).replay_key() != _verify(second, scheme).replay_key()
    assert len(_verify(first, scheme).replay_key()) == 64


def test_a_holder_is_accepted_when_the_receiver_asks_for_holders(keys, scheme):
    token = client_assertion.sign(keys["gemeente"], client_id=GEMEENTE, audience=URL, now=NOW)
    assert _verify(token, scheme, role=HOLDER).client_id == GEMEENTE


def _raw(keys, signer="vrager", typ=client_assertion.TYP, **claims):
    payload = {"iss": VRAGER, "sub": VRAGER, "aud": URL, "jti": "j" * 22, "iat": NOW, "exp": NOW + 60, **claims}
    return jws.sign({k: v for k, v in payload.items() if v is not None}, keys[signer], typ)


@pytest.mark.parametrize(
    ("make", "kwargs", "code"),
    [
        (lambda k: _raw(k), {"audience": URL + "/anders"}, "aud_mismatch"),
        (lambda k: _raw(k, aud=[URL]), {}, "aud_mismatch"),
        (lambda k: _raw(k), {"now": NOW + 200}, "expired"),
        (lambda k: _raw(k, exp=NOW + 301), {}, "expired"),
        (lambda k: _raw(k, exp=None), {}, "invalid_client"),
        (lambda k: _raw(k, iat=NOW + 3600, exp=NOW + 3660), {}, "invalid_client"),
        (lambda k: _raw(k, signer="indringer"), {}, "invalid_client"),
        (lambda k: _raw(k, signer="andere_vrager"), {}, "invalid_client"),
        (lambda k: _raw(k, iss="00000001000000000000", sub="00000001000000000000"), {}, "invalid_client"),
        (lambda k: _raw(k, iss="vrager"), {}, "invalid_client"),
        (lambda k: _raw(k, sub=ANDERE_VRAGER), {}, "invalid_client"),
        (lambda k: _raw(k, jti=None), {}, "invalid_client"),
        (lambda k: _raw(k, jti="x" * 65), {}, "invalid_client"),
        (lambda k: _raw(k, jti="a\x00b"), {}, "invalid_client"),
        (lambda k: _raw(k, typ="JWT"), {}, "invalid_client"),
        (lambda k: _raw(k, iss=GEMEENTE, sub=GEMEENTE, signer="gemeente"), {}, "not_certified"),
        (
            lambda k: _raw(k, iss=GESCHORSTE_VRAGER, sub=GESCHORSTE_VRAGER, signer="geschorst"),
            {},
            "not_certified",
        ),
        (lambda k: "not.a.token", {}, "invalid_client"),
        (lambda k: None, {}, "invalid_client"),
    ],
    ids=[
        "other-url",
        "aud-list",
        "expired",
        "lives-too-long",
        "no-exp",
        "issued-in-future",
        "unknown-key",
        "other-requesters-key",
        "unknown-client",
        "iss-no-oin",
        "sub-not-iss",
        "no-jti",
        "long-jti",
        "nul-in-jti",
        "wrong-typ",
        "holder-is-no-requester",
        "suspended",
        "garbage",
        "not-text",
    ],
)
def test_a_receiver_refuses_assertions_it_must_not_trust(keys, scheme, make, kwargs, code):
    with pytest.raises(VerificationError) as caught:
        _verify(make(keys), scheme, **kwargs)
    assert caught.value.code == code


@pytest.mark.parametrize("overrides", [{"client_id": "123"}, {"audience": ""}, {"lifetime": 301}, {"lifetime": 0}])
def test_a_client_cannot_make_a_broken_assertion(keys, overrides):
    with pytest.raises(InvalidInput):
        client_assertion.sign(keys["vrager"], **{"client_id": VRAGER, "audience": URL, "now": NOW, **overrides})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_signed_assertion_makes_the_receiver_crash(keys, scheme, data):
    base = {"iss": VRAGER, "sub": VRAGER, "aud": URL, "jti": "j" * 22, "iat": NOW, "exp": NOW + 60}
    token = sign_text(data.draw(mutated(base)), keys["vrager"], client_assertion.TYP)
    refused_or_accepted(lambda: _verify(token, scheme).replay_key())
