"""Keys in the scheme document: who signs with which key, and revoked keys refused wherever they are looked up."""

import pytest

from blauweknop.protocol import client_assertion, scheme_document, sdjwt_vc, session_assertion
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks, thumbprint
from blauweknop.protocol.scheme_document import APP_MANAGER, HOLDER, REQUESTER, participant_entry

from .conftest import CLAIMS, NOW, VCT

GEMEENTE, BANK, PORTAAL = "00000001001234567000", "00000003012345670000", "00000001009876543000"
GEMEENTE_ISS = "https://gemeente.example/blauweknop"
BSN = "999993653"


@pytest.fixture(scope="module")
def keys():
    names = ("operator", "new_operator", "gemeente_old", "gemeente_new", "gemeente_stolen", "bank", "bank_stolen")
    return {name: SigningKey(generate_jwk()) for name in (*names, "portaal", "portaal_stolen")}


def _document(keys, *, signer="operator", operator_revoked=(), version=2):
    """A scheme document in the middle of rotations: each participant has a current, an old and a revoked key."""
    organisations = [
        participant_entry(
            oin=GEMEENTE,
            name="Gemeente Voorbeeldstad",
            roles=[HOLDER],
            jwks=jwks([keys["gemeente_old"].public_jwk, keys["gemeente_new"].public_jwk]),
            endpoints={"issuer": GEMEENTE_ISS},
            signing_kid=keys["gemeente_new"].kid,
            revoked_kids=[keys["gemeente_stolen"].kid],
        ),
        participant_entry(
            oin=BANK,
            name="Voorbeeldbank",
            roles=[REQUESTER],
            jwks=jwks([keys["bank"].public_jwk]),
            revoked_kids=[keys["bank_stolen"].kid],
        ),
    ]
    app_managers = [
        participant_entry(
            oin=PORTAAL,
            name="Burgerportaal",
            roles=[APP_MANAGER],
            jwks=jwks([keys["portaal"].public_jwk]),
            revoked_kids=[keys["portaal_stolen"].kid],
            revoked_thumbprints=[thumbprint(keys["portaal_stolen"].public_jwk)],
        )
    ]
    payload = scheme_document.build(
        iss="https://stelsel.example",
        version=version,
        organisations=organisations,
        app_managers=app_managers,
        operator_revoked_kids=operator_revoked,
        now=NOW,
    )
    return scheme_document.sign(payload, keys[signer])


def _verified(keys, **kwargs):
    return scheme_document.verify(_document(keys, **kwargs), KeySet([keys["operator"].public_jwk]), now=NOW)


def _copy(key):
    return sdjwt_vc.issue(CLAIMS, key, iss=GEMEENTE_ISS, vct=VCT, now=NOW)


def test_an_entry_says_which_key_signs_and_which_are_revoked(keys):
    gemeente = _verified(keys).organisation(GEMEENTE)
    assert gemeente.signing_kid == keys["gemeente_new"].kid
    assert gemeente.revoked_kids == {keys["gemeente_stolen"].kid}
    assert _verified(keys).organisation(BANK).signing_kid is None  # one key: the entry need not say


def test_a_copy_of_the_old_key_and_of_the_new_key_both_verify(keys):
    scheme = _verified(keys)
    for name in ("gemeente_old", "gemeente_new"):
        result = sdjwt_vc.verify(
            _copy(keys[name]), scheme.issuer_keys(), status_lists=None, require_key_binding=False, now=NOW
        )
        assert result.iss == GEMEENTE_ISS


def test_a_copy_signed_with_a_revoked_key_fails_with_key_revoked(keys):
    scheme = _verified(keys)
    with pytest.raises(VerificationError) as caught:
        sdjwt_vc.verify(
            _copy(keys["gemeente_stolen"]), scheme.issuer_keys(), status_lists=None, require_key_binding=False, now=NOW
        )
    assert caught.value.code == "key_revoked"
    with pytest.raises(VerificationError) as caught:
        scheme.key(GEMEENTE, keys["gemeente_stolen"].kid)
    assert caught.value.code == "key_revoked"


def test_a_stranger_key_is_still_unknown_not_revoked(keys):
    with pytest.raises(VerificationError) as caught:
        _verified(keys).key(GEMEENTE, SigningKey(generate_jwk()).kid)
    assert caught.value.code == "unknown_key"


def test_a_requesters_revoked_key_fails_its_client_assertion_with_key_revoked(keys):
    scheme = _verified(keys)
    good = client_assertion.sign(keys["bank"], client_id=BANK, audience="https://h.example/x", now=NOW)
    assert client_assertion.verify(good, scheme, audience="https://h.example/x", now=NOW).client_id == BANK
    stolen = client_assertion.sign(keys["bank_stolen"], client_id=BANK, audience="https://h.example/x", now=NOW)
    with pytest.raises(VerificationError) as caught:
        client_assertion.verify(stolen, scheme, audience="https://h.example/x", now=NOW)
    assert caught.value.code == "key_revoked"


def test_an_app_managers_revoked_key_fails_its_session_assertion_with_key_revoked(keys):
    wallet = SigningKey(generate_jwk())
    stolen = session_assertion.sign(
        keys["portaal_stolen"],
        app_manager_oin=PORTAAL,
        holder_oin=GEMEENTE,
        bsn=BSN,
        assurance_level="substantieel",
        wallet_jwk=wallet.public_jwk,
        now=NOW,
    )
    with pytest.raises(VerificationError) as caught:
        session_assertion.verify(stolen, _verified(keys), holder_oin=GEMEENTE, now=NOW)
    assert caught.value.code == "key_revoked"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"signing_kid": "not-listed"}, "signs with a key it does not list"),
        ({"revoked_kids": "all"}, "invalid list of revoked keys"),
        ({"revoked_kids": [""]}, "invalid list of revoked keys"),
        ({"revoked_kids": ["x" * 201]}, "invalid list of revoked keys"),
        ({"revoked_kids": [7]}, "invalid list of revoked keys"),
        ({"revoked_thumbprints": "all"}, "invalid list of revoked keys"),
        ({"revoked_thumbprints": [""]}, "invalid list of revoked keys"),
        ({"revoked_thumbprints": ["x"] * 1001}, "invalid list of revoked keys"),
    ],
)
def test_a_malformed_entry_is_refused(keys, change, why):
    entry = {
        "oin": BANK,
        "name": "Voorbeeldbank",
        "roles": [REQUESTER],
        "certification": {"status": "certified"},
        "jwks": jwks([keys["bank"].public_jwk]),
        **change,
    }
    token = scheme_document.sign(
        scheme_document.build(iss="https://stelsel.example", version=1, organisations=[entry], now=NOW),
        keys["operator"],
    )
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
    assert caught.value.code == "malformed" and why in caught.value.message


def test_an_entry_cannot_list_a_revoked_key_among_its_keys(keys):
    with pytest.raises(InvalidInput):
        participant_entry(
            oin=BANK,
            name="Voorbeeldbank",
            roles=[REQUESTER],
            jwks=jwks([keys["bank"].public_jwk]),
            revoked_kids=[keys["bank"].kid],
        )


def test_revoked_keys_are_known_by_thumbprint_too_and_a_document_without_them_still_verifies(keys):
    # A PDF's signer is known by its key's thumbprint only: the kid of a revoked key tells nothing there.
    assert _verified(keys).revoked_thumbprints() == {thumbprint(keys["portaal_stolen"].public_jwk)}
    entry = {
        "oin": BANK,
        "name": "Voorbeeldbank",
        "roles": [REQUESTER],
        "certification": {"status": "certified"},
        "jwks": jwks([keys["bank"].public_jwk]),
        "revoked_kids": [keys["bank_stolen"].kid],
    }  # as documents were before revoked_thumbprints
    token = scheme_document.sign(
        scheme_document.build(iss="https://stelsel.example", version=1, organisations=[entry], now=NOW),
        keys["operator"],
    )
    scheme = scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
    assert scheme.revoked_thumbprints() == frozenset() and scheme.organisation(BANK).revoked_kids
    with pytest.raises(InvalidInput):
        participant_entry(
            oin=BANK,
            name="Voorbeeldbank",
            roles=[REQUESTER],
            jwks=jwks([keys["bank"].public_jwk]),
            revoked_thumbprints=[thumbprint(keys["bank"].public_jwk)],
        )


def test_a_document_signed_with_the_new_operator_key_verifies_with_an_anchor_holding_both(keys):
    anchor = KeySet([keys["operator"].public_jwk, keys["new_operator"].public_jwk])
    token = _document(keys, signer="new_operator", version=3)
    assert scheme_document.verify(token, anchor, now=NOW).version == 3
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
    assert caught.value.code == "unknown_key"  # an anchor that was not updated


def test_a_revoked_operator_key_is_refused_once_a_document_listing_it_was_seen(keys):
    anchor = KeySet([keys["operator"].public_jwk, keys["new_operator"].public_jwk])
    seen = scheme_document.verify(
        _document(keys, signer="new_operator", operator_revoked=[keys["operator"].kid], version=3), anchor, now=NOW
    )
    assert seen.operator_revoked_kids == {keys["operator"].kid}
    # Whoever stole the old key signs a newer document that no longer lists it as revoked.
    forged = _document(keys, signer="operator", version=4)
    assert scheme_document.verify(forged, anchor, now=NOW).version == 4  # a reader that never saw the revocation
    after_seeing = KeySet([k.jwk for k in anchor.keys], revoked=seen.operator_revoked_kids)
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(forged, after_seeing, now=NOW)
    assert caught.value.code == "key_revoked"


def test_a_document_listing_its_own_signing_key_as_revoked_is_refused(keys):
    token = _document(keys, operator_revoked=[keys["operator"].kid])
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
    assert caught.value.code == "key_revoked"
