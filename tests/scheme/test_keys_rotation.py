"""A holder's key rotation, end to end (issue 11, item 2): real keys, a real holder behind a live server.

Old copies keep verifying (their key is retiring, still published until they have expired), new copies are
signed with the new key, and a revoked key's copies fail with key_revoked on the verify page and in the CLI.
"""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from blauweknop import keystore
from blauweknop.cli import main
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import jws, session_assertion
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import audit, keys, publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import AuditEntry, Key

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING, DUO = "00000001003214345000", "00000001001234567000"
SLUGS = {BELASTING: "belastingkantoor"}


@pytest.fixture
def world(settings, tmp_path, deployment):
    """The demo world with keys of its own: a test adds private keys to its folder."""
    settings.KEY_DIR = tmp_path
    call_command("seed_demo", citizens=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return deployment


@pytest.fixture
def bsn(world):
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]


def _new_key(tmp_path, owner):
    """A new private key, put where the owner's deployment finds it beside its first."""
    jwk = generate_jwk()
    (tmp_path / f"{owner}.{jwk['kid']}.jwk").write_text(json.dumps(jwk))
    return SigningKey(jwk)


def _issue(world, bsn):
    """A copy from the tax office, asked as the portal asks it."""
    assertion = session_assertion.sign(
        keystore.signing_key(PORTAL_OIN),
        app_manager_oin=PORTAL_OIN,
        holder_oin=BELASTING,
        bsn=bsn,
        assurance_level="substantieel",
        wallet_jwk=SigningKey(generate_jwk()).public_jwk,
    )
    body = {"appbeheerderverklaring": assertion, "documentsoort": "inkomen"}
    response = httpx.post(f"{world.url}/belastingkantoor/api/v1/verklaringen", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["verklaring"]


def _kid(copy):
    return jws.unverified_parts(copy.split("~")[0])[0]["kid"]


def _verdict(client, copy):
    """What the portal's verify page says of an uploaded copy: valid, or the kind of refusal."""
    response = client.post("/controleren/", {"bestand": SimpleUploadedFile("kopie.sdjwt", copy.encode())})
    html = response.content.decode()
    assert response.status_code == 200
    if "Echt en geldig" in html:
        return "valid"
    start = html.index('data-verdict="') + len('data-verdict="')
    return html[start : html.index('"', start)]


def _cli(world, tmp_path, capsys, copy):
    (tmp_path / "kopie.sdjwt").write_text(copy)
    scheme = f"{world.url}/stelsel/api/v1/stelseldocument"
    code = main(["verify", str(tmp_path / "kopie.sdjwt"), "--scheme-document", scheme, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _refresh():
    scheme_client.forget()


def _rotate(tmp_path, when):
    """The tax office announces a new key; the worker makes it current once its notice has passed."""
    new = _new_key(tmp_path, BELASTING)
    added = keys.add(BELASTING, new.public_jwk, actor="beheerder")
    assert added.state == Key.State.NEXT and added.usable_from > when
    assert keys.rotate_due(added.usable_from - timedelta(seconds=1)) == []  # not before every verifier knows it
    assert f"{BELASTING}/{new.kid} current" in keys.rotate_due(added.usable_from)
    _refresh()
    return new


def test_old_copies_verify_until_they_expire_and_new_ones_use_the_new_key(world, bsn, tmp_path, client, capsys):
    old_kid = keys.signing_kid(BELASTING)
    before = _issue(world, bsn)
    assert _kid(before) == old_kid
    new = _rotate(tmp_path, timezone.now())
    after = _issue(world, bsn)
    assert _kid(after) == new.kid != old_kid
    for copy in (before, after):
        assert _verdict(client, copy) == "valid"
        code, report = _cli(world, tmp_path, capsys, copy)
        assert code == 0 and report["valid"] and report["issuer"]["oin"] == BELASTING
    # The old key stays published until the old copy has expired, then leaves the scheme document.
    retiring = Key.objects.get(owner=BELASTING, kid=old_kid)
    expires = datetime.fromtimestamp(jws.unverified_parts(before.split("~")[0])[1]["exp"], UTC)
    assert retiring.state == Key.State.RETIRING and retiring.retire_at > expires
    assert keys.rotate_due(expires) == []
    assert keys.rotate_due(retiring.retire_at) == [f"{BELASTING}/{old_kid} retired"]
    listed = publication.in_force().token
    assert old_kid not in json.dumps(jws.unverified_parts(listed)[1]["organisations"])
    actions = list(AuditEntry.objects.filter(subject=BELASTING).order_by("pk").values_list("action", "actor"))
    seeded = ("certified", "systeem")  # seed_demo certifies the demo organisations once
    assert actions == [seeded, ("key_added", "beheerder"), ("key_promoted", "systeem"), ("key_retired", "systeem")]
    assert audit.verify_chain() is None


def test_the_status_lists_are_signed_with_the_new_key_too(world, bsn, tmp_path, client):
    new = _rotate(tmp_path, timezone.now())
    copy = _issue(world, bsn)
    assert _kid(copy) == new.kid
    status = jws.unverified_parts(copy.split("~")[0])[1]["status"]["status_list"]["uri"]
    token = httpx.get(status, timeout=30).text
    assert jws.unverified_parts(token)[0]["kid"] == new.kid
    assert _verdict(client, copy) == "valid"  # its status list verifies against the new key


def test_a_revoked_keys_copies_fail_with_key_revoked_on_the_verify_page_and_in_the_cli(
    world, bsn, tmp_path, client, capsys
):
    stolen_kid = keys.signing_kid(BELASTING)
    before = _issue(world, bsn)
    _rotate(tmp_path, timezone.now())
    after = _issue(world, bsn)
    keys.revoke(BELASTING, stolen_kid, actor="beheerder", reason="De sleutel is gestolen.")
    _refresh()
    assert _verdict(client, before) == "key_revoked"
    response = client.post("/controleren/", {"bestand": SimpleUploadedFile("kopie.sdjwt", before.encode())})
    assert "sleutel waarmee de organisatie deze kopie ondertekende, is ingetrokken" in response.content.decode()
    code, report = _cli(world, tmp_path, capsys, before)
    assert code == 1 and report["code"] == "key_revoked" and "revoked" in report["message"]
    # The new key's copies still count, and the holder goes on issuing with it.
    assert _verdict(client, after) == "valid"
    assert _cli(world, tmp_path, capsys, _issue(world, bsn))[0] == 0


def test_revoking_the_current_key_makes_the_chosen_next_one_current_at_once(world, bsn, tmp_path, client):
    stolen_kid = keys.signing_kid(BELASTING)
    new = _new_key(tmp_path, BELASTING)
    keys.add(BELASTING, new.public_jwk, actor="beheerder")
    keys.revoke(BELASTING, stolen_kid, actor="beheerder", reason="Verloren laptop.", successor=new.kid)
    assert keys.signing_kid(BELASTING) == new.kid
    _refresh()
    copy = _issue(world, bsn)
    assert _kid(copy) == new.kid and _verdict(client, copy) == "valid"
