"""The app manager's session assertion: short-lived, for one holder, trusted through the scheme."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blauweknop.protocol import jws, scheme_document, session_assertion
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks
from blauweknop.protocol.scheme_document import APP_MANAGER, HOLDER, participant_entry

from . import plus_scheme
from .conftest import NOW
from .hostile import mutated, refused_or_accepted, sign_text

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


# ---------------------------------------------------------------------------------------------
# Plus: the assertion says the copies are for a requester, under the citizen's consent (deling).


@pytest.fixture(scope="module")
def plus():
    keys = plus_scheme.keys()
    return keys, plus_scheme.scheme(keys)


def _sharing(**overrides):
    values = {
        "requester_oin": plus_scheme.VRAGER,
        "purpose": "Uw huurtoeslag berekenen",
        "legal_basis": "toestemming",
        "consent_id": "c-123",
        **overrides,
    }
    return session_assertion.Sharing(**values)


def _plus_assertion(keys, sharing):
    return session_assertion.sign(
        keys["portaal"],
        app_manager_oin=plus_scheme.PORTAAL,
        holder_oin=plus_scheme.GEMEENTE,
        bsn=BSN,
        assurance_level="substantieel",
        wallet_jwk=keys["indringer"].public_jwk,
        now=NOW,
        sharing=sharing,
    )


def test_a_holder_learns_for_whom_why_and_under_which_consent_it_issues(plus):
    keys, scheme = plus
    token = _plus_assertion(keys, _sharing())
    assert jws.unverified_parts(token)[1]["deling"] == {
        "vrager": plus_scheme.VRAGER,
        "doel": "Uw huurtoeslag berekenen",
        "grondslag": "toestemming",
        "toestemming": "c-123",
    }
    verified = session_assertion.verify(token, scheme, holder_oin=plus_scheme.GEMEENTE, now=NOW)
    assert verified.sharing == _sharing()
    plain = session_assertion.verify(_plus_assertion(keys, None), scheme, holder_oin=plus_scheme.GEMEENTE, now=NOW)
    assert plain.sharing is None


@pytest.mark.parametrize(
    ("deling", "code"),
    [
        ({"requester_oin": plus_scheme.GESCHORSTE_VRAGER}, "not_certified"),
        ({"requester_oin": plus_scheme.CJIB}, "not_certified"),
        ({"requester_oin": "00000001000000000000"}, "not_certified"),
        ({"legal_basis": "onbekend"}, "malformed"),
    ],
    ids=["suspended-requester", "holder-is-no-requester", "unknown-requester", "unknown-legal-basis"],
)
def test_a_holder_refuses_a_share_it_must_not_serve(plus, deling, code):
    keys, scheme = plus
    with pytest.raises(VerificationError) as caught:
        session_assertion.verify(
            _plus_assertion(keys, _sharing(**deling)), scheme, holder_oin=plus_scheme.GEMEENTE, now=NOW
        )
    assert caught.value.code == code


@pytest.mark.parametrize(
    "deling",
    [
        {"vrager": plus_scheme.VRAGER, "doel": "x", "grondslag": "toestemming"},
        {"vrager": plus_scheme.VRAGER, "doel": "", "grondslag": "toestemming", "toestemming": "c"},
        {"vrager": plus_scheme.VRAGER, "doel": "x" * 501, "grondslag": "toestemming", "toestemming": "c"},
        {"vrager": plus_scheme.VRAGER, "doel": "x", "grondslag": "toestemming", "toestemming": 7},
        "deling",
    ],
    ids=["missing-consent", "empty-purpose", "long-purpose", "consent-not-text", "not-an-object"],
)
def test_a_holder_refuses_a_malformed_share(plus, deling):
    keys, scheme = plus
    payload = {
        "iss": plus_scheme.PORTAAL,
        "aud": plus_scheme.GEMEENTE,
        "iat": NOW,
        "exp": NOW + 60,
        "jti": "x",
        "bsn": BSN,
        "loa": "midden",
        "cnf": {"jwk": keys["indringer"].public_jwk},
        "deling": deling,
    }
    token = jws.sign(payload, keys["portaal"], session_assertion.TYP)
    with pytest.raises(VerificationError) as caught:
        session_assertion.verify(token, scheme, holder_oin=plus_scheme.GEMEENTE, now=NOW)
    assert caught.value.code == "malformed"


@pytest.mark.parametrize("overrides", [{"requester_oin": "1"}, {"purpose": " "}, {"consent_id": "x" * 101}])
def test_an_app_manager_cannot_make_a_broken_share(plus, overrides):
    keys, _ = plus
    with pytest.raises(InvalidInput):
        _plus_assertion(keys, _sharing(**overrides))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_signed_share_makes_the_holder_crash(plus, data):
    keys, scheme = plus
    payload = jws.unverified_parts(_plus_assertion(keys, _sharing()))[1]
    text = data.draw(mutated({**payload, "deling": mutated(payload["deling"])}))
    token = sign_text(text, keys["portaal"], session_assertion.TYP)
    refused_or_accepted(lambda: session_assertion.verify(token, scheme, holder_oin=plus_scheme.GEMEENTE, now=NOW))
