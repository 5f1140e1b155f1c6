"""The consent register: what a consent keeps, who may end it, and that it ends on time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blauweknop.portal import consents
from blauweknop.portal.models import Consent, ConsentEvent, UsedClientAssertion
from blauweknop.portal.tasks import end_consents
from tests.portal.consent_world import ASKED, SPAARBANK, asked, citizen, given

pytestmark = pytest.mark.django_db(transaction=True)

BSN = "123456782"
OTHER_BSN = "111222333"


def kinds(consent: Consent) -> list[str]:
    return list(ConsentEvent.objects.filter(consent=consent).values_list("kind", flat=True))


def test_a_standing_consent_keeps_the_bsn_and_a_key_of_its_own_sealed_and_nothing_in_clear():
    who = citizen(BSN)
    consent, key = given(who)
    row = Consent.objects.get(pk=consent.pk)
    assert row.state == "gegeven" and row.approved == {"inkomen": list(ASKED)} and kinds(row) == ["gegeven"]
    assert row.citizen == who.pseudonym and BSN.encode() not in bytes(row.sealed)
    assert key.public_jwk != who.wallet_jwk  # copies for the requester are bound to this consent only
    opened = consents.unseal(row)
    assert opened.citizen.bsn == BSN and opened.wallet_key.public_jwk == key.public_jwk
    assert opened.citizen.wallet_jwk == key.public_jwk


def test_a_seal_moved_to_another_consent_does_not_open():
    mine, _ = given(citizen(BSN))
    theirs, _ = given(citizen(OTHER_BSN))
    Consent.objects.filter(pk=theirs.pk).update(sealed=Consent.objects.get(pk=mine.pk).sealed)
    with pytest.raises(consents.Unreadable):
        consents.unseal(Consent.objects.get(pk=theirs.pk))
    assert consents.unseal(Consent.objects.get(pk=mine.pk)).citizen.bsn == BSN


def test_a_one_time_consent_keeps_nothing_and_ends_with_its_delivery():
    consent, _ = given(citizen(BSN), access="eenmalig")
    assert consent.sealed is None and consent.valid_until is None
    consents.delivered(consent, {"houders": {"inkomen": ["00000001003214345000"]}, "velden": {"inkomen": list(ASKED)}})
    row = Consent.objects.get(pk=consent.pk)
    assert row.state == "verlopen" and row.ended_at is not None
    assert kinds(row) == ["gegeven", "geleverd", "verlopen"]


def test_a_refusal_is_recorded_and_shares_nothing():
    who = citizen(BSN)
    consent = consents.refuse(who, asked(), requester_name="Woningcorporatie Thuisbasis", request_object="eyJ.x")
    row = Consent.objects.get(pk=consent.pk)
    assert row.state == "geweigerd" and row.approved == {} and row.sealed is None and kinds(row) == ["geweigerd"]
    assert not consents.withdraw(who.pseudonym, consent.pk)  # nothing to withdraw


def test_only_the_citizen_can_withdraw_and_withdrawal_wipes_the_seal_at_once():
    who, other = citizen(BSN), citizen(OTHER_BSN)
    consent, _ = given(who)
    assert not consents.withdraw(other.pseudonym, consent.pk)
    assert Consent.objects.get(pk=consent.pk).state == "gegeven"
    assert consents.withdraw(who.pseudonym, consent.pk)
    row = Consent.objects.get(pk=consent.pk)
    assert row.state == "ingetrokken" and row.sealed is None and row.ended_at is not None
    assert kinds(row) == ["gegeven", "ingetrokken"]
    with pytest.raises(consents.Unreadable):
        consents.unseal(row)
    assert not consents.withdraw(who.pseudonym, consent.pk)  # once


def test_standing_consents_expire_on_their_date_and_lose_their_seal():
    who = citizen(BSN)
    soon, _ = given(who, days=2)
    later, _ = given(who, SPAARBANK, days=60)
    assert end_consents(timezone.now()) == 0
    assert end_consents(timezone.now() + timedelta(days=3)) == 1  # the clock moved on three days
    assert Consent.objects.get(pk=soon.pk).state == "verlopen" and Consent.objects.get(pk=soon.pk).sealed is None
    assert kinds(soon) == ["gegeven", "verlopen"]
    assert Consent.objects.get(pk=later.pk).state == "gegeven" and Consent.objects.get(pk=later.pk).sealed
    assert end_consents(timezone.now() + timedelta(days=3)) == 0  # once


def test_two_citizens_consents_stay_apart():
    me, them = citizen(BSN), citizen(OTHER_BSN)
    mine, _ = given(me)
    theirs, _ = given(them, SPAARBANK)
    assert [c.pk for c in consents.for_citizen(me.pseudonym)] == [mine.pk]
    assert [c.pk for c in consents.for_citizen(them.pseudonym)] == [theirs.pk]
    assert consents.of_citizen(me.pseudonym, theirs.pk) is None
    assert consents.unseal(Consent.objects.get(pk=theirs.pk)).citizen.bsn == OTHER_BSN


def test_a_one_time_consent_never_delivered_ends_after_a_while_and_used_assertions_are_forgotten():
    consent, _ = given(citizen(BSN), access="eenmalig")
    UsedClientAssertion.objects.create(key="a" * 64, expires_at=timezone.now() + timedelta(minutes=5))
    assert end_consents(timezone.now()) == 0 and UsedClientAssertion.objects.count() == 1
    assert end_consents(timezone.now() + consents.ONCE_ENDS_AFTER + timedelta(minutes=1)) == 1
    assert Consent.objects.get(pk=consent.pk).state == "verlopen" and UsedClientAssertion.objects.count() == 0
