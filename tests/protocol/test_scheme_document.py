"""The scheme document: signed by the operator, looked up by OIN, kid, issuer and role."""

import pytest

from blauweknop.protocol import jws, scheme_document, sdjwt_vc
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks
from blauweknop.protocol.scheme_document import APP_MANAGER, HOLDER, REQUESTER, participant_entry

from .conftest import CLAIMS, NOW, VCT

OPERATOR = "https://stelsel.blauweknop.example"
GEMEENTE, BANK, PORTAAL, GESCHORST = (
    "00000001001234567000",
    "00000003012345670000",
    "00000001009876543000",
    "00000001005555555000",
)
GEMEENTE_ISS = "https://gemeente.example/blauweknop"
GESCHORST_ISS = "https://geschorst.example/blauweknop"


@pytest.fixture(scope="module")
def keys():
    return {name: SigningKey(generate_jwk()) for name in ("operator", "gemeente", "bank", "portaal", "geschorst")}


def _payload(keys, **overrides):
    organisations = [
        participant_entry(
            oin=GEMEENTE,
            name="Gemeente Voorbeeldstad",
            roles=[HOLDER, REQUESTER],
            jwks=jwks([keys["gemeente"].public_jwk]),
            endpoints={"issuer": GEMEENTE_ISS},
            certified_since="2026-01-05",
        ),
        participant_entry(oin=BANK, name="Voorbeeldbank", roles=[REQUESTER], jwks=jwks([keys["bank"].public_jwk])),
        participant_entry(
            oin=GESCHORST,
            name="Geschorste Dienst",
            roles=[HOLDER],
            jwks=jwks([keys["geschorst"].public_jwk]),
            endpoints={"issuer": GESCHORST_ISS},
            certification="suspended",
        ),
    ]
    app_managers = [
        participant_entry(
            oin=PORTAAL, name="Burgerportaal", roles=[APP_MANAGER], jwks=jwks([keys["portaal"].public_jwk])
        )
    ]
    arguments = {
        "iss": OPERATOR,
        "version": 3,
        "organisations": organisations,
        "app_managers": app_managers,
        "document_types": [{"vct": VCT, "naam": "Persoonsgegevens"}],
        "legal_bases": [{"id": "toestemming", "omschrijving": "Toestemming van de burger"}],
        "now": NOW,
        **overrides,
    }
    return scheme_document.build(**arguments)


def _document(keys, **overrides):
    token = scheme_document.sign(_payload(keys, **overrides), keys["operator"])
    return scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)


def test_it_is_a_signed_versioned_document(keys):
    token = scheme_document.sign(_payload(keys), keys["operator"])
    header, payload = jws.unverified_parts(token)
    assert header["typ"] == "stelseldocument+jwt"
    assert {"iss", "iat", "exp", "version", "organisations", "app_managers", "document_types", "legal_bases"} <= set(
        payload
    )
    document = scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
    assert document.version == 3 and document.iss == OPERATOR
    assert document.document_type(VCT)["naam"] == "Persoonsgegevens"
    assert document.document_type("https://unknown.example") is None


def test_organisations_are_found_by_oin_and_their_keys_by_kid(keys):
    document = _document(keys)
    gemeente = document.organisation(GEMEENTE)
    assert gemeente.name == "Gemeente Voorbeeldstad" and gemeente.certified_since == "2026-01-05"
    assert document.key(GEMEENTE, keys["gemeente"].kid).kid == keys["gemeente"].kid
    assert document.organisation(PORTAAL).name == "Burgerportaal"
    with pytest.raises(VerificationError) as caught:
        document.organisation("00000009999999999000")
    assert caught.value.code == "unknown_organisation"
    with pytest.raises(VerificationError) as caught:
        document.key(GEMEENTE, keys["bank"].kid)
    assert caught.value.code == "unknown_key"


def test_certification_is_per_role_and_a_suspension_counts_everywhere(keys):
    document = _document(keys)
    assert document.is_certified(GEMEENTE, HOLDER) and document.is_certified(GEMEENTE, REQUESTER)
    assert document.is_certified(BANK, REQUESTER) and not document.is_certified(BANK, HOLDER)
    assert document.is_certified(PORTAAL, APP_MANAGER) and not document.is_certified(GEMEENTE, APP_MANAGER)
    assert not document.is_certified(GESCHORST, HOLDER)
    assert not document.is_certified("00000009999999999000", HOLDER)
    with pytest.raises(VerificationError) as caught:
        document.certified(GESCHORST, HOLDER)
    assert caught.value.code == "not_certified"


def test_credentials_are_trusted_through_the_document(keys):
    document = _document(keys)
    credential = sdjwt_vc.issue(CLAIMS, keys["gemeente"], iss=GEMEENTE_ISS, vct=VCT, now=NOW)
    result = sdjwt_vc.verify(credential, document.issuer_keys(), status_lists=None, require_key_binding=False, now=NOW)
    assert document.issuer(result.iss).oin == GEMEENTE


@pytest.mark.parametrize(
    ("signer", "iss", "code"),
    [
        ("geschorst", GESCHORST_ISS, "not_certified"),  # suspended: refused within one refresh
        ("bank", "https://bank.example/blauweknop", "unknown_issuer"),  # not a holder at all
        ("bank", GEMEENTE_ISS, "unknown_key"),  # someone else's key under the municipality's name
    ],
)
def test_credentials_from_outside_the_scheme_are_refused(keys, signer, iss, code):
    document = _document(keys)
    credential = sdjwt_vc.issue(CLAIMS, keys[signer], iss=iss, vct=VCT, now=NOW)
    with pytest.raises(VerificationError) as caught:
        sdjwt_vc.verify(credential, document.issuer_keys(), status_lists=None, require_key_binding=False, now=NOW)
    assert caught.value.code == code


def test_a_document_not_signed_by_the_operator_is_refused(keys):
    token = scheme_document.sign(_payload(keys), keys["bank"])
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
    assert caught.value.code == "unknown_key"


def test_an_expired_or_older_document_is_refused(keys):
    token = scheme_document.sign(_payload(keys, valid_for=3600), keys["operator"])
    operator = KeySet([keys["operator"].public_jwk])
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, operator, now=NOW + 7200)
    assert caught.value.code == "expired"
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, operator, now=NOW, min_version=4)
    assert caught.value.code == "scheme_rollback"
    assert scheme_document.verify(token, operator, now=NOW, min_version=3).version == 3


def test_an_oin_listed_twice_is_refused(keys):
    payload = _payload(keys)
    payload["organisations"].append(payload["organisations"][0])
    token = scheme_document.sign(payload, keys["operator"])
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, KeySet([keys["operator"].public_jwk]), now=NOW)
    assert caught.value.code == "malformed"


@pytest.mark.parametrize(
    "entry",
    [
        {"oin": "123", "name": "X", "roles": [HOLDER]},
        {"oin": GEMEENTE, "name": "", "roles": [HOLDER]},
        {"oin": GEMEENTE, "name": "X", "roles": ["emperor"]},
        {"oin": GEMEENTE, "name": "X", "roles": [HOLDER], "certification": "maybe"},
    ],
)
def test_broken_participant_entries_are_refused_before_signing(keys, entry):
    with pytest.raises(InvalidInput) as caught:
        participant_entry(jwks=jwks([keys["gemeente"].public_jwk]), **entry)
    assert caught.value.code == "bad_claims"


def test_a_version_must_be_a_positive_whole_number(keys):
    for version in (0, -1, "3", True):
        with pytest.raises(InvalidInput):
            _payload(keys, version=version)


@pytest.mark.parametrize(
    ("issuer", "slug"),
    [
        ("https://houder.example/gemeente-voorbeeldstad", "gemeente-voorbeeldstad"),
        ("https://houder.example/bk/belastingkantoor/", "belastingkantoor"),
        ("https://houder.example", ""),
    ],
)
def test_a_holder_is_known_by_the_last_path_segment_of_its_issuer_url(issuer, slug):
    assert scheme_document.issuer_slug(issuer) == slug
