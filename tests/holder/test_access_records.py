"""POST /<holder>/api/v1/inzage: a citizen (through the portal) sees every read the holder recorded."""

import httpx
import pytest

from blauweknop import keystore
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import session_assertion
from blauweknop.protocol.jwk import SigningKey, generate_jwk

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING = "00000001003214345000"


def _assertion(bsn):
    return session_assertion.sign(
        keystore.signing_key(PORTAL_OIN),
        app_manager_oin=PORTAL_OIN,
        holder_oin=BELASTING,
        bsn=bsn,
        assurance_level="midden",
        wallet_jwk=SigningKey(generate_jwk()).public_jwk,
    )


def _post(server, path, body):
    return httpx.post(f"{server.url}/belastingkantoor/api/v1/{path}", json=body, timeout=30)


def test_a_citizen_sees_their_own_reads_and_nobody_elses(demo_world):
    alice, bob = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list(
        "bsn", flat=True
    )[:2]
    _post(demo_world, "verklaringen", {"appbeheerderverklaring": _assertion(alice), "documentsoort": "inkomen"})
    own = _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(alice)}).json()["inzages"]
    assert [(r["documentsoort"], r["gevraagdDoor"], r["activiteit"]) for r in own] == [
        ("inkomen", PORTAL_OIN, "basis-ophalen")
    ]
    assert own[0]["doel"] and own[0]["grondslag"] == "verzoek-betrokkene"
    assert _post(demo_world, "inzage", {"appbeheerderverklaring": _assertion(bob)}).json() == {"inzages": []}


def test_asking_needs_a_fresh_assertion(demo_world):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING).values_list("bsn", flat=True).first()
    body = {"appbeheerderverklaring": _assertion(bsn)}
    assert _post(demo_world, "inzage", body).status_code == 200
    again = _post(demo_world, "inzage", body)
    assert (again.status_code, again.json()["code"]) == (401, "assertion_replayed")
    assert _post(demo_world, "inzage", {"appbeheerderverklaring": "x" * 30}).status_code == 400
