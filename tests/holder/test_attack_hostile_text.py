"""Signed text that no database or page can hold: a NUL or a lone surrogate is refused with a code.

A certified app manager (or holder) that signs such text must get a 400 with a code, never a 500:
PostgreSQL refuses NUL in text, and no UTF-8 encoder (SQLite, PostgreSQL, a page) takes a lone
surrogate, which JSON's ``\\ud800`` escape makes. Found by attacking the running demo (issue 6, item 9).
"""

import time

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from blauweknop import keystore
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.encoding import b64url_decode, b64url_encode, json_dumps
from blauweknop.scheme import catalogue
from blauweknop.scheme.models import Organisation
from tests.protocol.hostile import sign_text

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING = "00000001003214345000"
HOSTILE_JTIS = {"nul": "ab\\u0000cd", "lone_surrogate": "ab\\ud800cd"}


def _assertion_with_jti(bsn: str, wallet, jti_text: str) -> str:
    now = int(time.time())
    claims = {
        "iss": PORTAL_OIN,
        "aud": BELASTING,
        "iat": now,
        "exp": now + 60,
        "jti": "PLACEHOLDER",
        "bsn": bsn,
        "loa": "midden",
        "cnf": {"jwk": wallet.public_jwk},
    }
    payload = json_dumps(claims).replace('"PLACEHOLDER"', f'"{jti_text}"')
    return sign_text(payload, keystore.signing_key(PORTAL_OIN), "burgersessie+jwt")


@pytest.mark.parametrize("path", ["verklaringen", "inzage"])
@pytest.mark.parametrize("kind", sorted(HOSTILE_JTIS))
def test_it_refuses_an_assertion_whose_jti_no_database_can_store(demo_world, wallet, kind, path):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    body = {"appbeheerderverklaring": _assertion_with_jti(bsn, wallet, HOSTILE_JTIS[kind]), "documentsoort": "inkomen"}
    response = httpx.post(f"{demo_world.url}/belastingkantoor/api/v1/{path}", json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed"


def _with_lone_surrogate(credential: str, key) -> str:
    """``credential`` re-signed with every disclosed "SURROGATE" value written as ``"\\ud800"``."""
    jwt, *disclosures = [part for part in credential.split("~") if part]
    hostile = [
        b64url_encode(b64url_decode(d).decode().replace('"SURROGATE"', '"\\ud800"').encode()) for d in disclosures
    ]
    payload = b64url_decode(jwt.split(".")[1]).decode()
    for old, new in zip(disclosures, hostile, strict=True):
        payload = payload.replace(sdjwt.digest(old), sdjwt.digest(new))
    return "~".join([sign_text(payload, key, sdjwt_vc.TYP), *hostile, ""])


def test_it_refuses_a_copy_with_a_lone_surrogate_on_the_verify_page(demo_world, client):
    key = keystore.signing_key(BELASTING)
    issuer = Organisation.objects.get(oin=BELASTING).issuer_url
    credential = sdjwt_vc.issue(
        {"belastingjaar": "SURROGATE"}, key, iss=issuer, vct=catalogue.document_type("inkomen").vct
    )
    upload = SimpleUploadedFile("kopie.sdjwt", _with_lone_surrogate(credential, key).encode())
    response = client.post("/controleren/", {"bestand": upload})
    assert response.status_code == 200
    assert 'data-verdict="unreadable"' in response.content.decode()
