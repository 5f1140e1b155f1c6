"""The operator's own key rotation (issue 11, item 2): announced in jwks.json, current after its notice, revocable."""

import json
import logging
from datetime import timedelta

import httpx
import pytest
from django.core.management import call_command

from blauweknop.accounts.models import RevokedOperatorKey
from blauweknop.protocol import jws, scheme_document
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.scheme import keys, publication
from blauweknop.scheme.client import check, scheme_client, trust_anchor
from blauweknop.scheme.models import OPERATOR, AuditEntry, Key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(settings, tmp_path, deployment):
    settings.KEY_DIR = tmp_path
    call_command("seed_demo", citizens=2, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return deployment


def _operator_key(tmp_path, *, held=True):
    jwk = generate_jwk()
    if held:
        (tmp_path / f"{OPERATOR}.{jwk['kid']}.jwk").write_text(json.dumps(jwk))
    return SigningKey(jwk)


def _published(world):
    return httpx.get(f"{world.url}/stelsel/api/v1/stelseldocument", timeout=30).text


def _jwks(world):
    return httpx.get(f"{world.url}/stelsel/api/v1/jwks.json", timeout=30).json()


def _rotate(world, tmp_path):
    old = keys.signing_kid(OPERATOR)
    new = _operator_key(tmp_path)
    added = keys.add(OPERATOR, new.public_jwk, actor="beheerder")
    assert added.usable_from - added.added_at == keys.OPERATOR_NOTICE  # time to update every trust anchor
    assert {k["kid"] for k in _jwks(world)["keys"]} == {old, new.kid}
    assert keys.rotate_due(added.usable_from) == [f"{OPERATOR}/{old} retiring", f"{OPERATOR}/{new.kid} current"]
    return old, new


def test_a_document_signed_with_the_new_operator_key_verifies_with_an_anchor_holding_both(world, tmp_path):
    old, new = _rotate(world, tmp_path)
    token = _published(world)
    assert jws.unverified_parts(token)[0]["kid"] == new.kid
    both = KeySet.from_jwks(_jwks(world))
    assert {k.kid for k in both.keys} == {old, new.kid}
    assert scheme_document.verify(token, both).version == publication.in_force().version
    assert {k.kid for k in trust_anchor().keys} >= {old, new.kid}  # the demo's anchor follows its keys
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(token, KeySet([k.jwk for k in both.keys if k.kid == old]))
    assert caught.value.code == "unknown_key"  # a participant that did not add the new key
    actions = list(AuditEntry.objects.filter(subject=OPERATOR).values_list("action", flat=True).order_by("pk"))
    assert actions == ["operator_key_added", "operator_key_promoted"]


def test_a_next_operator_key_whose_private_key_is_not_held_is_not_used(world, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    current = keys.signing_kid(OPERATOR)
    stranger = _operator_key(tmp_path, held=False)
    added = keys.add(OPERATOR, stranger.public_jwk, actor="beheerder")
    assert keys.rotate_due(added.usable_from) == []
    assert keys.signing_kid(OPERATOR) == current
    assert "its private key is not held here" in caplog.text


def test_a_revoked_operator_key_is_refused_once_a_document_listing_it_was_seen(world, tmp_path):
    old, _new = _rotate(world, tmp_path)
    old_private = SigningKey(json.loads((tmp_path / f"{OPERATOR}.jwk").read_text()))
    keys.revoke(OPERATOR, old, actor="beheerder", reason="De sleutel is uitgelekt.")
    assert old not in {k["kid"] for k in _jwks(world)["keys"]}
    seen = check(_published(world), None)
    assert seen.operator_revoked_kids == {old}
    # Whoever has the old key signs a newer document that says nothing of the revocation.
    payload = {**jws.unverified_parts(_published(world))[1], "version": seen.version + 1, "operator_revoked_kids": []}
    forged = scheme_document.sign(payload, old_private)
    with pytest.raises(VerificationError) as caught:
        check(forged, seen)
    assert caught.value.code == "key_revoked"
    # After a restart the process holds no document: what it wrote down refuses the forged one all the same.
    scheme_client.forget()
    assert RevokedOperatorKey.objects.filter(kid=old).exists()
    with pytest.raises(VerificationError) as caught:
        check(forged, None)
    assert caught.value.code == "key_revoked"
    with pytest.raises(VerificationError) as caught:
        scheme_document.verify(forged, trust_anchor())
    assert caught.value.code == "key_revoked"
    # A deployment that never read a document listing it trusts its anchor, which still holds the key.
    RevokedOperatorKey.objects.all().delete()
    assert check(forged, None).version == seen.version + 1


def test_the_operators_current_key_cannot_be_revoked_without_a_key_to_take_over(world):
    current = keys.signing_kid(OPERATOR)
    with pytest.raises(keys.KeyRefused) as caught:
        keys.revoke(OPERATOR, current, actor="beheerder", reason="Test.")
    assert caught.value.code == "not_allowed"
    assert Key.objects.get(owner=OPERATOR, kid=current).state == Key.State.CURRENT


def test_the_operators_current_key_waits_for_its_successors_notice_unless_in_an_emergency(world, tmp_path):
    """F10: a successor known for a minute was made current at once; participants' anchors lack it then."""
    current = keys.signing_kid(OPERATOR)
    new = _operator_key(tmp_path)
    added = keys.add(OPERATOR, new.public_jwk, actor="beheerder")
    with pytest.raises(keys.KeyRefused) as caught:
        keys.revoke(OPERATOR, current, actor="beheerder", reason="Uitgelekt.")
    assert caught.value.code == "not_allowed"  # the operator says which key signs the scheme document next
    for early in (added.added_at + timedelta(minutes=1), added.usable_from - timedelta(seconds=1)):
        with pytest.raises(keys.KeyRefused) as caught:
            keys.revoke(OPERATOR, current, actor="beheerder", reason="Uitgelekt.", successor=new.kid, now=early)
        assert caught.value.code == "notice_running" and "14 dagen" in caught.value.message
    assert keys.signing_kid(OPERATOR) == current and not AuditEntry.objects.filter(action="operator_key_revoked")
    keys.revoke(OPERATOR, current, actor="beheerder", reason="Uitgelekt.", successor=new.kid, now=added.usable_from)
    assert keys.signing_kid(OPERATOR) == new.kid
    assert jws.unverified_parts(_published(world))[0]["kid"] == new.kid
    entry = AuditEntry.objects.get(action="operator_key_revoked")
    assert entry.details == {"kid": current, "was": "current", "current": new.kid}


def test_in_an_emergency_the_operators_key_is_revoked_before_its_successors_notice(world, tmp_path):
    current = keys.signing_kid(OPERATOR)
    new = _operator_key(tmp_path)
    keys.add(OPERATOR, new.public_jwk, actor="beheerder")
    keys.revoke(OPERATOR, current, actor="beheerder", reason="Zeker gestolen.", successor=new.kid, emergency=True)
    assert keys.signing_kid(OPERATOR) == new.kid
    assert AuditEntry.objects.get(action="operator_key_revoked").details["notice_cut_short"] is True


def test_an_operator_successor_without_its_private_key_here_is_refused(world, tmp_path):
    current = keys.signing_kid(OPERATOR)
    stranger = _operator_key(tmp_path, held=False)
    keys.add(OPERATOR, stranger.public_jwk, actor="beheerder")
    with pytest.raises(keys.KeyRefused) as caught:
        keys.revoke(OPERATOR, current, actor="beheerder", reason="Test.", successor=stranger.kid, emergency=True)
    assert caught.value.code == "not_allowed" and keys.signing_kid(OPERATOR) == current


def test_the_scheme_client_keeps_working_across_an_operator_rotation(world, tmp_path):
    scheme_client.forget()
    scheme_client.refresh()
    before = scheme_client.in_hand()
    _rotate(world, tmp_path)
    scheme_client.forget()
    scheme_client.refresh()
    assert scheme_client.in_hand().version > before.version
