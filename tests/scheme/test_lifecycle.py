"""A participant's certification steps: each checked, audited and published in one go, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import generate_jwk, public_jwk
from blauweknop.scheme import audit, lifecycle, publication
from blauweknop.scheme.client import trust_anchor
from blauweknop.scheme.models import Application, AuditEntry, Key, Organisation, PublishedDocument
from tests.concurrency import at_once

WATERSCHAP = "00000009876543210000"
VRAGER = "00000009876543211000"
STEPS = {
    "suspend": lifecycle.suspend,
    "restore": lifecycle.restore,
    "revoke": lifecycle.revoke,
}
# Which step may start from which state, and where it ends; every other pair is refused.
ALLOWED = {
    ("certified", "suspend"): "suspended",
    ("certified", "revoke"): "revoked",
    ("suspended", "restore"): "certified",
    ("suspended", "revoke"): "revoked",
}
STATES = ("certified", "suspended", "revoked")


def applicant(oin: str = WATERSCHAP) -> int:
    """The number of a waiting application of ``oin``, with one key, as ``POST /aanmeldingen`` stores it."""
    jwk = public_jwk(generate_jwk())
    fields = {
        "name": f"Deelnemer {oin[-6:]}",
        "slug": f"deelnemer-{oin[-6:]}",
        "is_holder": oin == WATERSCHAP,
        "is_requester": oin != WATERSCHAP,
        "document_types": ["vorderingen"] if oin == WATERSCHAP else [],
    }
    stored = Application.objects.create(
        oin=oin, name=fields["name"], slug=fields["slug"], fields=fields, kid=jwk["kid"], public_jwk=jwk
    )
    return stored.pk


def participant(oin: str = WATERSCHAP, certification: str = "certified", **fields) -> Organisation:
    """A participant in ``certification`` with one current key, as a certification leaves it."""
    organisation = Organisation.objects.create(
        oin=oin,
        name=f"Deelnemer {oin[-6:]}",
        slug=f"deelnemer-{oin[-6:]}",
        is_holder=oin == WATERSCHAP,
        is_requester=oin != WATERSCHAP,
        document_types=["vorderingen"] if oin == WATERSCHAP else [],
        certification=certification,
        **fields,
    )
    jwk = public_jwk(generate_jwk())
    Key.objects.create(owner=oin, kid=jwk["kid"], public_jwk=jwk, state=Key.State.CURRENT)
    return organisation


def in_force() -> scheme_document.SchemeDocument:
    """The scheme document in force, verified as every other role verifies it."""
    return scheme_document.verify(publication.in_force().token, trust_anchor())


def trail() -> list[tuple[str, str, str, str, dict]]:
    return [(e.actor, e.action, e.subject, e.reason, e.details) for e in AuditEntry.objects.order_by("pk")]


@pytest.mark.django_db
def test_an_applicant_is_certified_suspended_restored_and_revoked_each_step_published_and_audited():
    number = applicant()
    publication.publish()
    assert WATERSCHAP not in in_force().organisations  # an applicant is in no scheme document

    certified = lifecycle.certify(number, actor="beheerder-1", reason="Conformiteit geslaagd.")
    assert (certified.certification, certified.certified_since) == ("certified", timezone.localdate())
    assert in_force().is_certified(WATERSCHAP, scheme_document.HOLDER)
    assert in_force().organisations[WATERSCHAP].certified_since == timezone.localdate().isoformat()

    lifecycle.suspend(WATERSCHAP, actor="beheerder-2", reason="  Sleutel mogelijk gelekt.  ")
    assert in_force().organisations[WATERSCHAP].certification == "suspended"
    assert not in_force().is_certified(WATERSCHAP, scheme_document.HOLDER)

    Organisation.objects.filter(oin=WATERSCHAP).update(certified_since=date(2026, 1, 5))
    restored = lifecycle.restore(WATERSCHAP, actor="beheerder-1", reason="Nieuwe sleutel in gebruik.")
    assert (restored.certification, restored.certified_since) == ("certified", date(2026, 1, 5))  # since the first

    lifecycle.revoke(WATERSCHAP, actor="beheerder-2", reason="Doet niet meer mee.")
    assert in_force().organisations[WATERSCHAP].certification == "revoked"
    assert PublishedDocument.objects.count() == 5  # one document per step, and no more
    made = {"aanmelding": number, "from": "applied", "to": "certified"}
    assert trail() == [
        ("beheerder-1", "certified", WATERSCHAP, "Conformiteit geslaagd.", made),
        ("beheerder-2", "suspended", WATERSCHAP, "Sleutel mogelijk gelekt.", {"from": "certified", "to": "suspended"}),
        ("beheerder-1", "restored", WATERSCHAP, "Nieuwe sleutel in gebruik.", {"from": "suspended", "to": "certified"}),
        ("beheerder-2", "revoked", WATERSCHAP, "Doet niet meer mee.", {"from": "certified", "to": "revoked"}),
    ]
    assert [e.action for e in audit.history(WATERSCHAP)] == ["revoked", "restored", "suspended", "certified"]
    assert audit.verify_chain() is None


@pytest.mark.django_db
def test_a_refused_application_takes_nothing_and_publishes_nothing():
    """Attack review A11: a refused application was a revoked participant for good, its OIN taken."""
    number = applicant(VRAGER)
    refused = lifecycle.refuse(number, actor="beheerder-1", reason="Geen geldig doel.")
    assert (refused.state, refused.decided_at is not None) == ("refused", True)
    assert not Organisation.objects.exists() and not Key.objects.exists() and not PublishedDocument.objects.exists()
    details = {"aanmelding": number, "kid": refused.kid}
    assert trail() == [("beheerder-1", "refused", VRAGER, "Geen geldig doel.", details)]
    with pytest.raises(lifecycle.TransitionRefused) as again:
        lifecycle.certify(number, actor="beheerder-1", reason="Toch wel.")
    assert again.value.code == "not_allowed" and "al besloten" in again.value.message
    # A new application of the OIN is certified.
    assert lifecycle.certify(applicant(VRAGER), actor="beheerder-1", reason="Nu wel.").certification == "certified"


@pytest.mark.django_db
@pytest.mark.parametrize("step", [lifecycle.certify, lifecycle.refuse])
def test_an_application_is_decided_once_and_an_unknown_one_is_not_found(step):
    with pytest.raises(lifecycle.TransitionRefused) as unknown:
        step(404, actor="beheerder-1", reason="Zo.")
    assert unknown.value.code == "not_found"
    number = applicant()
    step(number, actor="beheerder-1", reason="Zo.")
    for again in (lifecycle.certify, lifecycle.refuse):
        with pytest.raises(lifecycle.TransitionRefused) as refused:
            again(number, actor="beheerder-1", reason="Zo.")
        assert refused.value.code == "not_allowed"
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("step", STEPS)
def test_every_step_is_taken_only_from_the_states_it_starts_from(state, step):
    participant(certification=state)
    if (state, step) in ALLOWED:
        assert STEPS[step](WATERSCHAP, actor="beheerder-1", reason="Zo.").certification == ALLOWED[state, step]
        assert AuditEntry.objects.count() == PublishedDocument.objects.count() == 1
        return
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        STEPS[step](WATERSCHAP, actor="beheerder-1", reason="Zo.")
    assert refused.value.code == "not_allowed"
    assert "De deelnemer is nu" in refused.value.message
    assert Organisation.objects.get(pk=WATERSCHAP).certification == state
    assert not AuditEntry.objects.exists() and not PublishedDocument.objects.exists()


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        ("certified", ["suspended", "revoked"]),
        ("suspended", ["restored", "revoked"]),
        ("revoked", []),
    ],
)
def test_the_actions_allowed_now_are_those_the_steps_take(state, actions):
    assert lifecycle.allowed(Organisation(certification=state)) == actions


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   \n\t", "x" * 1001, None], ids=["empty", "blank", "too-long", "none"])
def test_a_step_without_a_usable_reason_is_refused_before_anything_is_read(reason):
    number = applicant()
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        lifecycle.certify(number, actor="beheerder-1", reason=reason)
    assert refused.value.code == "reason_required"
    assert Application.objects.get().state == "waiting" and not Organisation.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["ok\u202eko", "rood \x1b[31m", "a\u2067b"], ids=["bidi", "escape", "isolate"])
def test_a_reason_with_a_control_or_direction_character_is_refused_and_nothing_is_kept(reason):
    number = applicant()
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        lifecycle.certify(number, actor="beheerder-1", reason=reason)
    assert refused.value.code == "reason_required" and "leesrichting" in refused.value.message
    assert Application.objects.get().state == "waiting" and not Organisation.objects.exists()
    assert not AuditEntry.objects.exists() and not PublishedDocument.objects.exists()


@pytest.mark.django_db
def test_the_document_of_a_step_vouches_for_the_trail_with_that_step_in_it():
    lifecycle.certify(applicant(), actor="beheerder-1", reason="Alles goed.")
    lifecycle.suspend(WATERSCHAP, actor="beheerder-2", reason="Lek gemeld.")
    newest = AuditEntry.objects.order_by("-pk").first()
    assert in_force().audit == scheme_document.AuditAnchor(2, newest.digest)
    assert audit.missing_since() is None


@pytest.mark.django_db
def test_a_reason_of_1000_characters_is_kept_whole():
    lifecycle.certify(applicant(), actor="beheerder-1", reason="x" * 1000)
    assert AuditEntry.objects.get().reason == "x" * 1000


@pytest.mark.django_db
def test_an_unknown_oin_is_not_found():
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        lifecycle.suspend("00000000000000000000", actor="beheerder-1", reason="Zo.")
    assert refused.value.code == "not_found"
    assert not AuditEntry.objects.exists() and not PublishedDocument.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_step_whose_document_cannot_be_published_leaves_nothing_behind(monkeypatch):
    participant(certification="certified")

    def signing_fails():
        raise OSError("the operator's key is not readable")

    monkeypatch.setattr(publication, "publish", signing_fails)
    with pytest.raises(OSError, match="not readable"):
        lifecycle.suspend(WATERSCHAP, actor="beheerder-1", reason="Zo.")
    # Not suspended in the trail while every participant still trusts it: the step did not happen at all.
    assert Organisation.objects.get(pk=WATERSCHAP).certification == "certified"
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_operators_suspending_at_once_take_one_step_and_the_second_is_told_why():
    participant(certification="certified")
    results, failures = at_once(lambda: lifecycle.suspend(WATERSCHAP, actor="beheerder-1", reason="Tegelijk."))
    assert [o.certification for o in results] == ["suspended"]
    assert [getattr(f, "code", f) for f in failures] == ["not_allowed"]
    assert trail() == [("beheerder-1", "suspended", WATERSCHAP, "Tegelijk.", {"from": "certified", "to": "suspended"})]
    assert PublishedDocument.objects.count() == 1
