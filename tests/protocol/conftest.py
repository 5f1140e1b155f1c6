"""Shared keys and a realistic credential for the protocol tests."""

from __future__ import annotations

import pytest

from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk

NOW = 1_800_000_000  # a fixed moment: every time check in these tests is exact
ISS = "https://gemeente-voorbeeldstad.example/blauweknop"
VCT = "https://stelsel.blauweknop.example/vct/persoonsgegevens/1"
CLAIMS = {
    "naam": {"voornaam": "Fatima", "achternaam": "El Amrani"},
    "geboorte": {"datum": "1984-03-12"},
    "adres": {"straat": "Lindenlaan", "huisnummer": 14, "woonplaats": "Voorbeeldstad"},
    "inkomen": {"brutoPerMaandInCenten": 312_550},
    "vorderingen": [
        {"schuldeiser": "Belastingdienst (fictief)", "openstaandBedragInCenten": 45_000},
        {"schuldeiser": "CJIB (fictief)", "openstaandBedragInCenten": 9_500},
    ],
}


@pytest.fixture(scope="session")
def issuer_key() -> SigningKey:
    return SigningKey(generate_jwk("ES256"))


@pytest.fixture(scope="session")
def issuer_keys(issuer_key: SigningKey) -> KeySet:
    return KeySet([issuer_key.public_jwk])


@pytest.fixture(scope="session")
def holder_key() -> SigningKey:
    return SigningKey(generate_jwk("EdDSA"))
