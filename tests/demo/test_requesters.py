"""The demo's requesters: four organisations that ask for data, each with its own signing key in the scheme,
and one municipality that the law entry in the register names, so the legal-basis lane has a user."""

import httpx
import pytest

from blauweknop import keystore
from blauweknop.demo.organisations import ORGANISATIONS, demo_requester_oins
from blauweknop.protocol import scheme_document
from blauweknop.protocol.scheme_document import HOLDER, REQUESTER
from blauweknop.scheme.client import trust_anchor

pytestmark = pytest.mark.django_db(transaction=True)
NAMES = {spec["oin"]: spec["name"] for spec in ORGANISATIONS}


def _published(server):
    return scheme_document.verify(httpx.get(f"{server.url}/stelsel/api/v1/stelseldocument").text, trust_anchor())


def test_the_demo_has_four_requesters_and_one_of_them_is_a_municipality_that_also_holds_data():
    names = sorted(NAMES[oin] for oin in demo_requester_oins())
    assert names == [
        "Gemeente Voorbeeldstad",
        "Schuldhulp Voorbeeldstad",
        "Spaarbank Voorbeeld",
        "Woningcorporatie Thuisbasis",
    ]
    assert [spec["name"] for spec in ORGANISATIONS if spec.get("is_requester") and spec.get("is_holder")] == [
        "Gemeente Voorbeeldstad"
    ]


def test_every_requester_is_certified_with_its_own_key_and_address(demo_world):
    scheme = _published(demo_world)
    for oin in demo_requester_oins():
        requester = scheme.certified(oin, REQUESTER)
        assert requester.keys.keys[0].jwk == keystore.signing_key(oin).public_jwk  # what it signs with verifies
        assert requester.endpoints["requester"].endswith(
            f"/vragers/{next(s['slug'] for s in ORGANISATIONS if s['oin'] == oin)}/api/v1"
        )
    assert scheme.is_certified("00000001823288444000", HOLDER)  # the municipality still issues its own data


def test_the_law_entry_names_a_demo_requester_and_a_holder_that_issues_what_it_covers(demo_world):
    scheme = _published(demo_world)
    laws = [basis for basis in scheme.legal_bases if basis["kind"] == "law"]
    assert laws
    for law in laws:
        assert set(law["vragers"]) <= set(demo_requester_oins())
        for type_id in law["documentsoorten"]:
            assert any(
                type_id in p.document_types for p in scheme.organisations.values() if p.oin not in law["vragers"]
            )
