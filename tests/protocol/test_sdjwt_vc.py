"""The SD-JWT VC profile: plain claims, type, holder binding, status and issuer metadata."""

import pytest

from blauweknop.protocol import jws, sdjwt, sdjwt_vc, status_list
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks
from blauweknop.protocol.status_list import INVALID, SUSPENDED, StatusList, StatusListClient, StatusReference

from .conftest import CLAIMS, ISS, NOW, VCT

STATUS_URI = ISS + "/statuslijsten/1"


def _issue(issuer_key, holder_key=None, **kwargs):
    return sdjwt_vc.issue(
        CLAIMS, issuer_key, iss=ISS, vct=VCT, holder_jwk=holder_key and holder_key.public_jwk, now=NOW, **kwargs
    )


def _verify(presentation, keys, **kwargs):
    kwargs.setdefault("status_lists", None)
    kwargs.setdefault("require_key_binding", False)
    return sdjwt_vc.verify(presentation, keys, now=NOW, **kwargs)


def test_the_credential_has_the_profiles_header_and_plain_claims(issuer_key, holder_key):
    token = _issue(issuer_key, holder_key, valid_for=86400, status=StatusReference(STATUS_URI, 5))
    header, payload = jws.unverified_parts(token.split("~")[0])
    assert header == {"alg": "ES256", "typ": "dc+sd-jwt", "kid": issuer_key.kid}
    assert payload["iss"] == ISS and payload["vct"] == VCT
    assert payload["iat"] == NOW and payload["exp"] == NOW + 86400
    assert payload["cnf"] == {"jwk": holder_key.public_jwk}
    assert payload["status"] == {"status_list": {"idx": 5, "uri": STATUS_URI}}
    assert not set(CLAIMS) & set(payload)


def test_a_presentation_verifies_with_only_the_chosen_data(issuer_key, issuer_keys, holder_key):
    presentation = sdjwt_vc.present(
        _issue(issuer_key, holder_key),
        ["inkomen", "adres.woonplaats"],
        holder_key=holder_key,
        aud="https://woningcorporatie.example",
        nonce="abc",
        now=NOW,
    )
    result = _verify(
        presentation, issuer_keys, require_key_binding=True, aud="https://woningcorporatie.example", nonce="abc"
    )
    assert result.claims == {"inkomen": CLAIMS["inkomen"], "adres": {"woonplaats": "Voorbeeldstad"}}
    assert (result.iss, result.vct, result.issued_at) == (ISS, VCT, NOW)
    assert result.holder_jwk == holder_key.public_jwk
    assert result.key_binding.aud == "https://woningcorporatie.example"


@pytest.mark.parametrize("name", ["iss", "vct", "exp", "cnf", "status", "iat", "nbf"])
def test_claims_the_issuer_sets_cannot_be_given_as_data(issuer_key, name):
    with pytest.raises(InvalidInput) as caught:
        sdjwt_vc.issue({name: "x"}, issuer_key, iss=ISS, vct=VCT)
    assert caught.value.code == "bad_claims"


@pytest.mark.parametrize(
    "kwargs",
    [{"iss": "gemeente"}, {"iss": "ftp://gemeente.example"}, {"iss": ISS + "?x=1"}, {"vct": ""}, {"valid_for": 0}],
)
def test_bad_issuing_parameters_are_refused(issuer_key, kwargs):
    with pytest.raises(InvalidInput):
        sdjwt_vc.issue(CLAIMS, issuer_key, **{"iss": ISS, "vct": VCT, **kwargs})


def test_a_private_holder_key_is_never_put_in_a_credential(issuer_key):
    with pytest.raises(InvalidInput) as caught:
        sdjwt_vc.issue(CLAIMS, issuer_key, iss=ISS, vct=VCT, holder_jwk=generate_jwk())
    assert caught.value.code == "bad_key"


@pytest.mark.parametrize("name", ["iss", "exp", "cnf", "vct", "status"])
def test_a_credential_with_a_disclosable_plain_claim_is_refused(issuer_key, issuer_keys, holder_key, name):
    plain = {
        "iss": ISS,
        "vct": VCT,
        "iat": NOW,
        "exp": NOW + 60,
        "cnf": {"jwk": holder_key.public_jwk},
        "status": StatusReference(STATUS_URI, 0).claim(),
    }
    visible = [k for k in plain if k != name]
    token = sdjwt.issue({**plain, **CLAIMS}, issuer_key, typ=sdjwt_vc.TYP, visible=visible)
    with pytest.raises(VerificationError) as caught:
        _verify(token, issuer_keys)
    assert caught.value.code == "not_disclosable"


def test_other_token_types_are_refused(issuer_key, issuer_keys):
    token = sdjwt.issue({"iss": ISS, "vct": VCT}, issuer_key, typ="JWT", visible=["iss", "vct"])
    with pytest.raises(VerificationError) as caught:
        _verify(token, issuer_keys)
    assert caught.value.code == "wrong_typ"


def test_the_earlier_media_type_is_still_accepted(issuer_key, issuer_keys):
    plain = {"iss": ISS, "vct": VCT, "exp": NOW + 60}
    token = sdjwt.issue({**plain, "x": 1}, issuer_key, typ="vc+sd-jwt", visible=plain)
    assert _verify(token, issuer_keys).claims == {"x": 1}


# --- status ----------------------------------------------------------------------------------


@pytest.fixture
def published(issuer_key):
    statuses = StatusList(32, 2)
    fetches = []

    def fetch(uri):
        fetches.append(uri)
        return status_list.sign(statuses, issuer_key, uri=uri, iss=ISS, now=NOW)

    return statuses, StatusListClient(fetch, clock=lambda: NOW), fetches


def test_a_valid_status_is_checked_and_reported(issuer_key, issuer_keys, published):
    _, client, fetches = published
    result = _verify(_issue(issuer_key, status=StatusReference(STATUS_URI, 9)), issuer_keys, status_lists=client)
    assert result.status == StatusReference(STATUS_URI, 9)
    assert fetches == [STATUS_URI]


@pytest.mark.parametrize(("status", "code"), [(INVALID, "revoked"), (SUSPENDED, "suspended"), (3, "revoked")])
def test_a_withdrawn_or_suspended_credential_is_refused(issuer_key, issuer_keys, published, status, code):
    statuses, client, _ = published
    statuses.set(9, status)
    with pytest.raises(VerificationError) as caught:
        _verify(_issue(issuer_key, status=StatusReference(STATUS_URI, 9)), issuer_keys, status_lists=client)
    assert caught.value.code == code


def test_a_status_that_was_not_checked_never_counts_as_valid(issuer_key, issuer_keys):
    with pytest.raises(VerificationError) as caught:
        _verify(_issue(issuer_key, status=StatusReference(STATUS_URI, 9)), issuer_keys, status_lists=None)
    assert caught.value.code == "status_unavailable"


def test_an_index_outside_the_list_is_refused(issuer_key, issuer_keys, published):
    client = published[1]
    with pytest.raises(VerificationError) as caught:
        _verify(_issue(issuer_key, status=StatusReference(STATUS_URI, 10_000)), issuer_keys, status_lists=client)
    assert caught.value.code == "status_index_out_of_range"


# --- issuer metadata -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iss", "url"),
    [
        ("https://example.com", "https://example.com/.well-known/jwt-vc-issuer"),
        ("https://example.com/tenant/1234", "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"),
        ("http://127.0.0.1:8000/gemeente/", "http://127.0.0.1:8000/.well-known/jwt-vc-issuer/gemeente"),
    ],
)
def test_the_issuer_metadata_lives_at_the_well_known_address(iss, url):
    assert sdjwt_vc.issuer_metadata_url(iss) == url


def test_issuer_metadata_gives_the_keys_for_its_own_issuer_only(issuer_key):
    document = sdjwt_vc.issuer_metadata(ISS, [issuer_key.public_jwk])
    assert document == {"issuer": ISS, "jwks": jwks([issuer_key.public_jwk])}
    keys = sdjwt_vc.keys_from_issuer_metadata(document, ISS)
    assert keys.find(issuer_key.kid).kid == issuer_key.kid
    with pytest.raises(VerificationError) as caught:
        sdjwt_vc.keys_from_issuer_metadata(document, "https://other.example")
    assert caught.value.code == "unknown_issuer"


def test_a_credential_from_an_untrusted_key_is_refused(issuer_key):
    stranger = KeySet([SigningKey(generate_jwk()).public_jwk])
    with pytest.raises(VerificationError) as caught:
        _verify(_issue(issuer_key), stranger)
    assert caught.value.code == "unknown_key"


def test_it_refuses_a_credential_whose_status_list_is_elsewhere_without_asking_for_it(
    issuer_key, issuer_keys, published
):
    # A certified issuer must not make every verifier GET an address of its choosing (SSRF).
    _, client, fetches = published
    elsewhere = StatusReference("http://10.0.0.1:8080/admin", 9)
    with pytest.raises(VerificationError) as caught:
        _verify(_issue(issuer_key, status=elsewhere), issuer_keys, status_lists=client)
    assert caught.value.code == "status_elsewhere"
    assert fetches == []
