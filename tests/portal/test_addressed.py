"""A genuine copy that does not answer the question asked is refused (issue 9 review: it was shown)."""

import dataclasses

import pytest

from blauweknop.portal.addressed import mismatch
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.sdjwt_vc import VerifiedCredential
from blauweknop.protocol.status_list import StatusReference

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


def _check(verified: VerifiedCredential, vct: str | None = VCT) -> str | None:
    return mismatch(verified, issuer=ISSUER, vct=vct, wallet_jwk=WALLET, bsn=BSN)


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


def test_it_refuses_a_type_the_catalogue_does_not_know():
    assert _check(ASKED, vct=None) == "wrong_type"
