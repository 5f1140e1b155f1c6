"""A participant announces its next key through the scheme API, signed with its key of now; refusals as problems."""

import time

import httpx
import pytest
from django.core.management import call_command
from django.test import Client

from blauweknop import keystore
from blauweknop.protocol import client_assertion, jws
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import key_api, keys, publication
from blauweknop.scheme.models import OPERATOR, AuditEntry, Key, Organisation
from tests.scheme.test_apply_api import described, post, refused, signed

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING, WONING = "00000001003214345000", "00000003271247970000"


@pytest.fixture
def world(settings, tmp_path, deployment):
    settings.KEY_DIR = tmp_path
    call_command("seed_demo", citizens=2, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return deployment


def _url(world, oin):
    return f"{world.url}/stelsel/api/v1/deelnemers/{oin}/sleutels"


def _proof(new, oin, audience, **changes):
    """The key proof: a short JWS signed with the new key, made for the participant and this address."""
    now = int(time.time())
    payload = {"iss": oin, "aud": audience, "iat": now, "exp": now + 60, **changes}
    return jws.sign({name: value for name, value in payload.items() if value is not None}, new, key_api.PROOF_TYP)


def _body(world, oin, new, *, signer=None, client_id=None, prover=None, **proof_changes):
    """``oin`` announces ``new`` (a SigningKey, or a bare JWK); its proof is signed by ``prover``, else ``new``."""
    url = _url(world, oin)
    assertion = client_assertion.sign(signer or keystore.signing_key(oin), client_id=client_id or oin, audience=url)
    jwk = new.public_jwk if isinstance(new, SigningKey) else new
    return {
        "sleutel": jwk,
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": assertion,
        "sleutelbewijs": _proof(prover or _prover(new), oin, url, **proof_changes),
    }


def _prover(new):
    return new if isinstance(new, SigningKey) else SigningKey(generate_jwk())


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
    response = _post(world, oin, _body(world, oin, new))
    assert response.status_code == 201, response.text
    assert response.json()["kid"] == new.kid and response.json()["status"] == "nieuw"
    assert Key.objects.get(owner=oin, kid=new.kid).state == Key.State.NEXT
    assert publication.in_force().version == version + 1  # published at once: the notice starts now
    entry_of = {e["oin"]: e for e in jws.unverified_parts(publication.in_force().token)[1]["organisations"]}
    assert new.kid in {k["kid"] for k in entry_of[oin]["jwks"]["keys"]}
    entry = AuditEntry.objects.get(subject=oin, action="key_added")
    assert entry.actor == keys.PARTICIPANT and entry.details["kid"] == new.kid
    again = _post(world, oin, _body(world, oin, new))
    assert again.status_code == 200 and again.json()["kid"] == new.kid


def test_an_assertion_is_used_once(world):
    body = _body(world, BELASTING, SigningKey(generate_jwk()))
    assert _post(world, BELASTING, body).status_code == 201
    _problem(_post(world, BELASTING, body), 401, "assertion_replayed")


def test_nobody_else_can_add_a_key_for_a_participant(world):
    stranger = SigningKey(generate_jwk())
    # Signed by another participant, as itself: not the participant in the address.
    _problem(
        _post(
            world,
            BELASTING,
            _body(world, BELASTING, stranger, signer=keystore.signing_key(WONING), client_id=WONING),
        ),
        403,
        "forbidden",
    )
    # Signed with a key the scheme does not list for it.
    _problem(_post(world, BELASTING, _body(world, BELASTING, stranger, signer=stranger)), 401, "invalid_client")
    assert not Key.objects.filter(kid=stranger.kid).exists()


def test_a_revoked_key_cannot_add_a_key(world, tmp_path):
    stolen = keystore.signing_key(BELASTING)
    keys.add(BELASTING, SigningKey(generate_jwk()).public_jwk, actor="beheerder")
    keys.revoke(BELASTING, stolen.kid, actor="beheerder", reason="Gestolen.")
    _problem(
        _post(world, BELASTING, _body(world, BELASTING, SigningKey(generate_jwk()), signer=stolen)),
        401,
        "key_revoked",
    )


def test_a_suspended_participant_cannot_add_a_key(world):
    Organisation.objects.filter(oin=BELASTING).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    _problem(_post(world, BELASTING, _body(world, BELASTING, SigningKey(generate_jwk()))), 403, "not_certified")


@pytest.mark.parametrize(
    ("jwk", "status", "code"),
    [
        pytest.param(generate_jwk(), 422, "bad_key", id="a-private-key"),
        pytest.param({"kty": "RSA", "n": "x", "e": "AQAB", "kid": "r"}, 422, "bad_key", id="rsa"),
        pytest.param({**SigningKey(generate_jwk()).public_jwk, "kid": "x" * 101}, 422, "bad_key", id="long-kid"),
        pytest.param(SigningKey({**generate_jwk(), "kid": "a/../b"}), 422, "bad_key", id="kid-with-slashes"),
        pytest.param(SigningKey({**generate_jwk(), "kid": "a b"}), 422, "bad_key", id="kid-with-a-space"),
        pytest.param(SigningKey({**generate_jwk(), "kid": "a%2Fb"}), 422, "bad_key", id="kid-with-a-percent"),
    ],
)
def test_an_unusable_key_is_refused(world, jwk, status, code):
    _problem(_post(world, BELASTING, _body(world, BELASTING, jwk)), status, code)
    assert not Key.objects.filter(owner=BELASTING, state=Key.State.NEXT).exists()


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
    _problem(
        _post(world, "00000000000000000000", _body(world, BELASTING, SigningKey(generate_jwk()))), 404, "not_found"
    )
    assert httpx.post(f"{world.url}/stelsel/api/v1/deelnemers/123/sleutels", json={}).status_code in (400, 404, 422)


def test_a_kid_outside_the_safe_characters_is_refused_everywhere(world):
    """F1: a kid with "/" broke the operator's key page and could not be revoked there."""
    for kid in ("a/b", "a/../b", "x?y", "é", "a\u202eb", "x" * 101, ""):
        with pytest.raises(keys.KeyRefused) as caught:
            keys.add(BELASTING, {**SigningKey(generate_jwk()).public_jwk, "kid": kid}, actor="beheerder")
        assert caught.value.code == "bad_key"
    for kid in ("k-2K1Yo_abc.def~1", "A" * 100):
        assert keys.add(BELASTING, {**SigningKey(generate_jwk()).public_jwk, "kid": kid}).kid == kid
    private = {**generate_jwk(), "kid": "x/y"}
    description = described(jwks={"keys": [SigningKey(private).public_jwk]})
    refused(post(Client(), signed(description, private)), 422, "bad_key")
    assert not Organisation.objects.filter(oin=description["oin"]).exists()


def test_a_new_key_needs_proof_that_the_participant_holds_it(world):
    """F2: a participant announced another participant's or the operator's public key as its own."""
    new = SigningKey(generate_jwk())
    body = _body(world, BELASTING, new)
    del body["sleutelbewijs"]
    response = _post(world, BELASTING, body)
    assert response.status_code in (400, 422) and response.headers["Content-Type"] == "application/problem+json"
    stranger_jwk = generate_jwk()
    stranger = SigningKey(stranger_jwk)
    url = _url(world, BELASTING)
    for changed in (
        _body(world, BELASTING, new, prover=stranger),  # signed with another key
        _body(world, BELASTING, new, prover=SigningKey({**stranger_jwk, "kid": new.kid})),  # ... naming the new kid
        _body(world, BELASTING, new, iss=WONING),  # made for another participant
        _body(world, BELASTING, new, aud=_url(world, WONING)),  # for another address
        _body(world, BELASTING, new, aud=None),
        _body(world, BELASTING, new, exp=None),
        _body(world, BELASTING, new, iat=int(time.time()) - 900, exp=int(time.time()) - 600),  # expired
        _body(world, BELASTING, new, exp=int(time.time()) + 3600),  # lives too long
        {
            **_body(world, BELASTING, new),
            "sleutelbewijs": client_assertion.sign(new, client_id=BELASTING, audience=url),
        },
        {**_body(world, BELASTING, new), "sleutelbewijs": "x" * 40},
    ):
        _problem(_post(world, BELASTING, changed), 422, "bad_key_proof")
    # Someone else's public key: nobody here can sign its proof.
    for theirs in (keystore.signing_key(WONING).public_jwk, keystore.signing_key(OPERATOR).public_jwk):
        _problem(_post(world, BELASTING, _body(world, BELASTING, theirs)), 422, "bad_key_proof")
    assert not Key.objects.filter(owner=BELASTING, state=Key.State.NEXT).exists()
    assert _post(world, BELASTING, _body(world, BELASTING, new)).status_code == 201


def test_one_key_belongs_to_one_owner(world):
    """F2: the same public key under two owners (or back under a new kid once revoked) is refused."""
    for theirs in (keystore.signing_key(WONING).public_jwk, keystore.signing_key(OPERATOR).public_jwk):
        for kid in (theirs["kid"], "een-andere-kid"):
            with pytest.raises(keys.KeyRefused) as caught:
                keys.add(BELASTING, {**theirs, "kid": kid}, actor="beheerder")
            assert caught.value.code == "key_exists"
    # An application that lists another participant's key beside its own.
    own = generate_jwk()
    description = described(jwks={"keys": [SigningKey(own).public_jwk, keystore.signing_key(WONING).public_jwk]})
    refused(post(Client(), signed(description, own)), 422, "one_key")
    assert not Organisation.objects.filter(oin=description["oin"]).exists()
    # Proven through the API too: the other owner's key holder itself cannot give it a second owner.
    _problem(_post(world, BELASTING, _body(world, BELASTING, keystore.signing_key(WONING))), 409, "key_exists")
    old = keystore.signing_key(BELASTING)
    keys.revoke(BELASTING, old.kid, actor="beheerder", reason="Gestolen.")
    with pytest.raises(keys.KeyRefused) as caught:
        keys.add(BELASTING, {**old.public_jwk, "kid": "dezelfde-sleutel-opnieuw"}, actor="beheerder")
    assert caught.value.code == "key_exists"
    assert Key.objects.filter(kid__in=["een-andere-kid", "dezelfde-sleutel-opnieuw"]).count() == 0


def test_revoking_a_stolen_current_key_does_not_make_the_thiefs_key_current(world):
    """F2: with the stolen key the thief announced keys of its own; revoking promoted the newest of them."""
    stolen = keystore.signing_key(BELASTING)
    honest = SigningKey(generate_jwk())
    assert _post(world, BELASTING, _body(world, BELASTING, honest)).status_code == 201
    thief = SigningKey(generate_jwk())
    assert _post(world, BELASTING, _body(world, BELASTING, thief, signer=stolen)).status_code == 201
    keys.revoke(BELASTING, stolen.kid, actor="beheerder", reason="Gestolen.")
    assert keys.signing_kid(BELASTING) is None  # nobody signs until the operator or a rotation says so
    assert Key.objects.get(owner=BELASTING, kid=thief.kid).state == Key.State.NEXT
    entry = AuditEntry.objects.get(subject=BELASTING, action="key_revoked")
    assert entry.details == {"kid": stolen.kid, "was": "current", "current": None}
    keys.revoke(BELASTING, thief.kid, actor="beheerder", reason="Aangekondigd door de dief.")
    # A new key while the owner has a next key: next as well, it signs after its notice.
    later = keys.add(BELASTING, SigningKey(generate_jwk()).public_jwk, actor="beheerder")
    assert later.state == Key.State.NEXT
    assert f"{BELASTING}/{later.kid} current" in keys.rotate_due(later.usable_from)


def test_revoking_the_current_key_makes_the_chosen_next_key_current(world):
    old = keystore.signing_key(BELASTING)
    first, second = SigningKey(generate_jwk()), SigningKey(generate_jwk())
    for new in (first, second):
        assert _post(world, BELASTING, _body(world, BELASTING, new)).status_code == 201
    with pytest.raises(keys.KeyRefused) as caught:
        keys.revoke(
            BELASTING, old.kid, actor="beheerder", reason="Gestolen.", successor=keystore.signing_key(WONING).kid
        )
    assert caught.value.code == "not_found"  # only a next key of the same owner
    keys.revoke(BELASTING, old.kid, actor="beheerder", reason="Gestolen.", successor=first.kid)
    assert keys.signing_kid(BELASTING) == first.kid  # the older one, as chosen; not the newest
    assert Key.objects.get(owner=BELASTING, kid=second.kid).state == Key.State.NEXT
    with pytest.raises(keys.KeyRefused) as caught:
        keys.revoke(BELASTING, second.kid, actor="beheerder", reason="Weg.", successor=first.kid)
    assert caught.value.code == "not_allowed"  # a key that is not current has no successor
