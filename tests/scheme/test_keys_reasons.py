"""A key's reason goes into the audit trail as written: the same check as every other reason there (F9)."""

import pytest

from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import keys
from blauweknop.scheme.models import AuditEntry, Key

pytestmark = pytest.mark.django_db

OIN = "00000009876543210000"


@pytest.mark.parametrize(
    "reason",
    ["Gestolen\u202egnirts", "Gestolen\x1b[2J", "   ", "x" * 1001],
    ids=["right-to-left-override", "escape", "blank", "too-long"],
)
def test_a_revocation_with_a_reason_the_audit_trail_refuses_changes_nothing(reason):
    first = keys.add(OIN, SigningKey(generate_jwk()).public_jwk)
    with pytest.raises(keys.KeyRefused) as refused:
        keys.revoke(OIN, first.kid, actor="beheerder", reason=reason)
    assert refused.value.code == "reason_required" and refused.value.message
    assert Key.objects.get(pk=first.pk).state == Key.State.CURRENT
    assert not AuditEntry.objects.filter(action="key_revoked").exists()


def test_an_announcement_with_a_direction_character_in_its_reason_is_refused():
    keys.add(OIN, SigningKey(generate_jwk()).public_jwk)
    with pytest.raises(keys.KeyRefused) as refused:
        keys.add(OIN, SigningKey(generate_jwk()).public_jwk, actor="beheerder", reason="Nieuwe\u2066sleutel")
    assert refused.value.code == "reason_required"
    assert Key.objects.filter(owner=OIN).count() == 1
