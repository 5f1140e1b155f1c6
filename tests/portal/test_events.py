"""The portal's own records: downloads and checks, tied to the citizen by pseudonym or wallet key."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync

from blauweknop.portal import events
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import CitizenEvent, WalletKey
from blauweknop.protocol.jwk import SigningKey, generate_jwk, thumbprint
from blauweknop.pseudonyms import pseudonym
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)
BSN = "999993653"
HOLDER = "00000001003214345000"


def _citizen() -> Citizen:
    return Citizen(BSN, "midden", SigningKey(generate_jwk()).public_jwk)


def test_a_download_is_recorded_under_the_pseudonym_in_its_format():
    async_to_sync(events.record_download)(_citizen(), HOLDER, "inkomen", "csv")
    event = CitizenEvent.objects.get()
    assert (event.citizen, event.holder_oin, event.document_type, event.activity, event.format) == (
        pseudonym(BSN),
        HOLDER,
        "inkomen",
        "gedownload",
        "csv",
    )


def test_it_refuses_a_format_that_is_not_a_download():
    with pytest.raises(ValueError, match="format"):
        async_to_sync(events.record_download)(_citizen(), HOLDER, "inkomen", "exe")
    assert not CitizenEvent.objects.exists()


def test_a_wallet_key_is_remembered_only_ever_longer():
    citizen, now = _citizen(), datetime.now(UTC)
    async_to_sync(events.remember_wallet)(citizen, now + timedelta(days=30))
    async_to_sync(events.remember_wallet)(citizen, now + timedelta(days=7))
    key = WalletKey.objects.get()
    assert (key.thumbprint, key.citizen) == (thumbprint(citizen.wallet_jwk), pseudonym(BSN))
    assert key.expires_at == now + timedelta(days=30)


def test_a_check_is_tied_to_the_citizen_through_their_wallet_key():
    citizen = _citizen()
    async_to_sync(events.remember_wallet)(citizen, datetime.now(UTC) + timedelta(days=1))
    async_to_sync(events.record_check)(HOLDER, "inkomen", wallet_thumbprint=thumbprint(citizen.wallet_jwk))
    event = CitizenEvent.objects.get()
    assert (event.citizen, event.activity, event.format) == (pseudonym(BSN), "gecontroleerd", "bestand")


def test_it_records_no_check_it_cannot_tie_to_a_citizen():
    async_to_sync(events.record_check)(HOLDER, "inkomen", wallet_thumbprint="unknown-key")
    async_to_sync(events.record_check)(HOLDER, "inkomen")
    assert not CitizenEvent.objects.exists()


def test_a_check_by_printed_code_names_the_citizen_directly():
    async_to_sync(events.record_check)(HOLDER, "vorderingen", citizen=pseudonym(BSN))
    event = CitizenEvent.objects.get()
    assert (event.citizen, event.format) == (pseudonym(BSN), "code")


def _check_by_file(citizen: Citizen, type_id: str = "inkomen") -> None:
    async_to_sync(events.record_check)(HOLDER, type_id, wallet_thumbprint=thumbprint(citizen.wallet_jwk))


def test_it_refuses_to_record_a_copy_checked_again_within_the_hour():
    citizen = _citizen()
    async_to_sync(events.remember_wallet)(citizen, datetime.now(UTC) + timedelta(days=1))
    for _ in range(60):  # link previews, a page refreshed: the citizen's page would fill up
        _check_by_file(citizen)
    async_to_sync(events.record_check)(HOLDER, "inkomen", citizen=pseudonym(BSN))  # the paper: another copy
    _check_by_file(citizen, "vorderingen")
    assert sorted(CitizenEvent.objects.values_list("document_type", "format")) == [
        ("inkomen", "bestand"),
        ("inkomen", "code"),
        ("vorderingen", "bestand"),
    ]
    CitizenEvent.objects.update(at=datetime.now(UTC) - events.CHECKS_APART - timedelta(seconds=1))
    _check_by_file(citizen)
    assert CitizenEvent.objects.filter(document_type="inkomen", format="bestand").count() == 2


def test_it_refuses_to_keep_events_past_their_retention():
    now = datetime.now(UTC)
    for age in (events.RETENTION + timedelta(days=1), events.RETENTION + timedelta(days=400), timedelta(days=30)):
        CitizenEvent.objects.create(
            citizen=pseudonym(BSN), holder_oin=HOLDER, document_type="inkomen", activity="gedownload", at=now - age
        )
    assert events.prune(now) == 2
    assert list(CitizenEvent.objects.values_list("at", flat=True)) == [now - timedelta(days=30)]


def test_it_refuses_to_record_one_copy_checked_at_the_same_moment_twice():
    def check() -> None:
        event = CitizenEvent(citizen=pseudonym(BSN), holder_oin=HOLDER, document_type="inkomen", format="bestand")
        events._record_check(event)

    _results, failures = at_once(check, workers=6)
    assert failures == []
    assert CitizenEvent.objects.count() == 1
