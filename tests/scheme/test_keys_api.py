"""A participant announces its next key through the scheme API, signed with its key of now; refusals as problems."""

import httpx
import pytest
from django.core.management import call_command

from blauweknop import keystore
from blauweknop.protocol import client_assertion, jws
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import keys, publication
from blauweknop.scheme.models import AuditEntry, Key, Organisation

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING, WONING = "00000001003214345000", "00000003271247970000"


@pytest.fixture
def world(settings, tmp_path, deployment):
    settings.KEY_DIR = tmp_path
    call_command("seed_demo", citizens=2, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return deployment


def _url(world, oin):
    return f"{world.url}/stelsel/api/v1/deelnemers/{oin}/sleutels"


def _body(world, oin, jwk, *, signer=None, client_id=None):
    url = _url(world, oin)
    assertion = client_assertion.sign(signer or keystore.signing_key(oin), client_id=client_id or oin, audience=url)
    return {
        "sleutel": jwk,
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def _post(world, oin, body):
    return httpx.post(_url(world, oin), json=body, timeout=30)


def _problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize("oin", [BELASTING, WONING])  # a holder and a requester
def test_a_participant_announces_its_next_key(world, oin):
    new = SigningKey(generate_jwk())
    version = publication.in_force().version
    response = _post(world, oin, _body(world, oin, new.public_jwk))
    assert response.status_code == 201, response.text
    assert response.json()["kid"] == new.kid and response.json()["status"] == "nieuw"
    assert Key.objects.get(owner=oin, kid=new.kid).state == Key.State.NEXT
    assert publication.in_force().version == version + 1  # published at once: the notice starts now
    entry_of = {e["oin"]: e for e in jws.unverified_parts(publication.in_force().token)[1]["organisations"]}
    assert new.kid in {k["kid"] for k in entry_of[oin]["jwks"]["keys"]}
    entry = AuditEntry.objects.get(subject=oin, action="key_added")
    assert entry.actor == keys.PARTICIPANT and entry.details["kid"] == new.kid
    again = _post(world, oin, _body(world, oin, new.public_jwk))
    assert again.status_code == 200 and again.json()["kid"] == new.kid


def test_an_assertion_is_used_once(world):
    body = _body(world, BELASTING, SigningKey(generate_jwk()).public_jwk)
    assert _post(world, BELASTING, body).status_code == 201
    _problem(_post(world, BELASTING, body), 401, "assertion_replayed")


def test_nobody_else_can_add_a_key_for_a_participant(world):
    stranger = SigningKey(generate_jwk())
    # Signed by another participant, as itself: not the participant in the address.
    _problem(
        _post(
            world,
            BELASTING,
            _body(world, BELASTING, stranger.public_jwk, signer=keystore.signing_key(WONING), client_id=WONING),
        ),
        403,
        "forbidden",
    )
    # Signed with a key the scheme does not list for it.
    _problem(
        _post(world, BELASTING, _body(world, BELASTING, stranger.public_jwk, signer=stranger)), 401, "invalid_client"
    )
    assert not Key.objects.filter(kid=stranger.kid).exists()


def test_a_revoked_key_cannot_add_a_key(world, tmp_path):
    stolen = keystore.signing_key(BELASTING)
    keys.add(BELASTING, SigningKey(generate_jwk()).public_jwk, actor="beheerder")
    keys.revoke(BELASTING, stolen.kid, actor="beheerder", reason="Gestolen.")
    _problem(
        _post(world, BELASTING, _body(world, BELASTING, SigningKey(generate_jwk()).public_jwk, signer=stolen)),
        401,
        "key_revoked",
    )


def test_a_suspended_participant_cannot_add_a_key(world):
    Organisation.objects.filter(oin=BELASTING).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    _problem(
        _post(world, BELASTING, _body(world, BELASTING, SigningKey(generate_jwk()).public_jwk)), 403, "not_certified"
    )


@pytest.mark.parametrize(
    ("jwk", "status", "code"),
    [
        pytest.param(generate_jwk(), 422, "bad_key", id="a-private-key"),
        pytest.param({"kty": "RSA", "n": "x", "e": "AQAB", "kid": "r"}, 422, "bad_key", id="rsa"),
        pytest.param({**SigningKey(generate_jwk()).public_jwk, "kid": "x" * 101}, 422, "bad_key", id="long-kid"),
    ],
)
def test_an_unusable_key_is_refused(world, jwk, status, code):
    _problem(_post(world, BELASTING, _body(world, BELASTING, jwk)), status, code)


def test_a_revoked_kid_never_comes_back(world):
    old = keystore.signing_key(BELASTING)
    keys.add(BELASTING, SigningKey(generate_jwk()).public_jwk, actor="beheerder")
    keys.revoke(BELASTING, old.kid, actor="beheerder", reason="Gestolen.")
    with pytest.raises(keys.KeyRefused) as caught:
        keys.add(BELASTING, old.public_jwk, actor="beheerder")
    assert caught.value.code == "key_exists"


def test_hostile_requests_get_a_clear_problem(world):
    url = _url(world, BELASTING)
    assert httpx.post(url, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.post(url, json={"sleutel": {}}).status_code in (400, 422)
    _problem(_post(world, "00000000000000000000", _body(world, BELASTING, {})), 404, "not_found")
    assert httpx.post(f"{world.url}/stelsel/api/v1/deelnemers/123/sleutels", json={}).status_code in (400, 404, 422)
