"""The app manager's session assertion: short-lived, for one holder, trusted through the scheme."""

import pytest

from blauweknop.protocol import jws, scheme_document, session_assertion
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks
from blauweknop.protocol.scheme_document import APP_MANAGER, HOLDER, participant_entry

from .conftest import NOW

PORTAAL, HOUDER, ANDERE = "00000001009876543000", "00000001001234567000", "00000001005555555000"
BSN = "999993653"


@pytest.fixture(scope="module")
def keys():
    return {name: SigningKey(generate_jwk()) for name in ("operator", "portaal", "houder", "wallet", "indringer")}


@pytest.fixture(scope="module")
def scheme(keys):
    def document(certification="certified"):
        payload = scheme_document.build(
            iss="https://stelsel.example",
            version=1,
            organisations=[
                participant_entry(oin=HOUDER, name="Houder", roles=[HOLDER], jwks=jwks([keys["houder"].public_jwk]))
            ],
            app_managers=[
                participant_entry(
                    oin=PORTAAL,
                    name="Portaal",
                    roles=[APP_MANAGER],
                    certification=certification,
                    jwks=jwks([keys["portaal"].public_jwk]),
                )
            ],
            now=NOW,
        )
        token = scheme_document.sign(payload, keys["operator"])
        return scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)

    return document


def _assertion(keys, signer="portaal", **overrides):
    arguments = {
        "app_manager_oin": PORTAAL,
        "holder_oin": HOUDER,
        "bsn": BSN,
        "assurance_level": "substantieel",
        "wallet_jwk": keys["wallet"].public_jwk,
        "now": NOW,
        **overrides,
    }
    return session_assertion.sign(keys[signer], **arguments)


def test_a_holder_accepts_a_fresh_assertion_from_a_certified_app_manager(keys, scheme):
    verified = session_assertion.verify(_assertion(keys), scheme(), holder_oin=HOUDER, now=NOW + 5)
    assert (verified.bsn, verified.assurance_level, verified.app_manager_oin) == (BSN, "substantieel", PORTAAL)
    assert verified.wallet_jwk == keys["wallet"].public_jwk
    assert BSN not in repr(verified)
    header, payload = jws.unverified_parts(_assertion(keys))
    assert header["typ"] == "burgersessie+jwt" and payload["exp"] - payload["iat"] == 60


@pytest.mark.parametrize(
    ("make", "holder", "now", "code"),
    [
        (lambda k: _assertion(k), ANDERE, NOW, "aud_mismatch"),
        (lambda k: _assertion(k), HOUDER, NOW + 200, "expired"),
        (lambda k: _assertion(k, signer="indringer"), HOUDER, NOW, "unknown_key"),
        (lambda k: _assertion(k, app_manager_oin=HOUDER, signer="houder"), HOUDER, NOW, "unknown_organisation"),
    ],
    ids=["other-holder", "expired", "unknown-key", "holder-is-no-app-manager"],
)
def test_a_holder_refuses_assertions_it_must_not_trust(keys, scheme, make, holder, now, code):
    with pytest.raises(VerificationError) as caught:
        session_assertion.verify(make(keys), scheme(), holder_oin=holder, now=now)
    assert caught.value.code == code


def test_a_suspended_app_manager_is_refused(keys, scheme):
    with pytest.raises(VerificationError) as caught:
        session_assertion.verify(_assertion(keys), scheme("suspended"), holder_oin=HOUDER, now=NOW)
    assert caught.value.code == "not_certified"


def test_an_assertion_that_lives_too_long_is_refused(keys, scheme):
    payload = {
        "iss": PORTAAL,
        "aud": HOUDER,
        "iat": NOW,
        "exp": NOW + 3600,
        "jti": "x",
        "bsn": BSN,
        "loa": "midden",
        "cnf": {"jwk": keys["wallet"].public_jwk},
    }
    token = jws.sign(payload, keys["portaal"], session_assertion.TYP)
    with pytest.raises(VerificationError) as caught:
        session_assertion.verify(token, scheme(), holder_oin=HOUDER, now=NOW)
    assert caught.value.code == "expired"


@pytest.mark.parametrize(
    "overrides",
    [
        {"bsn": "123456789"},
        {"assurance_level": "super"},
        {"lifetime": 61},
        {"holder_oin": "123"},
        {"wallet_jwk": {"kty": "oct", "k": "AA"}},
    ],
)
def test_an_app_manager_cannot_make_a_broken_assertion(keys, overrides):
    with pytest.raises(InvalidInput) as caught:
        _assertion(keys, **overrides)
    assert "123456789" not in str(caught.value)
