"""The portal's own records: downloads and checks, tied to the citizen by pseudonym or wallet key."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync

from blauweknop.portal import events
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import CitizenEvent, WalletKey
from blauweknop.protocol.jwk import SigningKey, generate_jwk, thumbprint
from blauweknop.pseudonyms import pseudonym

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
