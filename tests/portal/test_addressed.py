"""A genuine copy that does not answer the question asked is refused (issue 9 review: it was shown)."""

import dataclasses

import pytest

from blauweknop import document_types
from blauweknop.portal.addressed import mismatch
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.sdjwt_vc import VerifiedCredential
from blauweknop.protocol.status_list import StatusReference
from blauweknop.scheme import catalogue
from tests.scheme.test_catalogue_versions import V4, vorderingen_v4

ISSUER = "https://houder.example/gemeente"
VCT = "https://stelsel.blauweknop.example/vct/vorderingen/3"
WALLET = SigningKey(generate_jwk()).public_jwk
BSN = "999990019"

ASKED = VerifiedCredential(
    iss=ISSUER,
    vct=VCT,
    claims={"burgerservicenummer": BSN, "naam": {"geslachtsnaam": "Jansen"}},
    disclosed=frozenset({"burgerservicenummer"}),
    issued_at=1,
    expires_at=2,
    holder_jwk=WALLET,
    status=StatusReference(uri="https://houder.example/gemeente/statuslijsten/1", idx=3),
    key_binding=None,
    issuer_key=None,
)


# The scheme lists vorderingen 3 and 4 (4 the newest), and inkomen.
CATALOGUE = document_types.Catalogue.listing(
    [catalogue.document_type("vorderingen"), catalogue.check(vorderingen_v4()), catalogue.document_type("inkomen")]
)


def _check(verified: VerifiedCredential, type_id: str | None = "vorderingen") -> str | None:
    return mismatch(verified, issuer=ISSUER, type_id=type_id, catalogue=CATALOGUE, wallet_jwk=WALLET, bsn=BSN)


def test_the_copy_asked_for_passes():
    assert _check(ASKED) is None


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"iss": "https://houder.example/belastingkantoor"}, "wrong_issuer"),
        ({"vct": "https://stelsel.blauweknop.example/vct/inkomen/2"}, "wrong_type"),
        ({"holder_jwk": SigningKey(generate_jwk()).public_jwk}, "wrong_wallet"),
        ({"holder_jwk": None}, "wrong_wallet"),
        ({"claims": {**ASKED.claims, "burgerservicenummer": "111222333"}}, "wrong_subject"),
        ({"claims": {"naam": {"geslachtsnaam": "Jansen"}}}, "wrong_subject"),
        ({"claims": {**ASKED.claims, "burgerservicenummer": 999990019}}, "wrong_subject"),
        ({"status": None}, "no_status"),
    ],
)
def test_it_refuses_a_genuine_copy_that_is_not_the_one_asked_for(changed, reason):
    assert _check(dataclasses.replace(ASKED, **changed)) == reason


def test_it_refuses_a_type_the_holder_does_not_issue():
    assert _check(ASKED, type_id=None) == "wrong_type"


def test_a_copy_of_any_listed_version_of_the_type_asked_for_passes():
    # Version 3 while version 4 is the newest: a holder that has not read the newer scheme document yet.
    assert _check(ASKED) is None
    assert _check(dataclasses.replace(ASKED, vct=V4)) is None


@pytest.mark.parametrize(
    "vct",
    [
        "https://stelsel.blauweknop.example/vct/inkomen/2",  # another type the scheme lists
        "https://stelsel.blauweknop.example/vct/vorderingen/5",  # a version the scheme does not list
        "https://elders.example/vct/vorderingen/3",
    ],
)
def test_a_copy_of_another_type_or_an_unlisted_version_is_refused(vct):
    assert _check(dataclasses.replace(ASKED, vct=vct)) == "wrong_type"
    assert _check(ASKED, type_id="inkomen") == "wrong_type"
