"""A requester that looks at data it received sees whether each copy still holds at its source (R8).

It keeps each copy's status reference and end (not the copy): the staff page and the back office API
look the holder's status list up again when asked. Two citizens' data with two requesters (one with
standing access, one once); the registry then changes one citizen's income straight in the source
table and the holder's worker runs once: only that citizen's delivery says "Vervangen door nieuwere
gegevens". A copy past its end says "Verlopen".
"""

from datetime import date, timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from blauweknop.holder.models import SourceRecord
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.requester import copy_state
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from tests.portal.superseding import change_at_source

from .test_fetching import lawful
from .test_staff_login import log_in, make_staff
from .world import (
    BANK,
    BANK_SLUG,
    BELASTING,
    WONING,
    WONING_SLUG,
    as_portal,
    copy,
    created,
    income_request,
    opened,
    post_answer,
    presentation,
    scheme,
    state_of,
    vp_token,
)

pytestmark = pytest.mark.django_db(transaction=True)

SUPERSEDED = (
    "Vervangen door nieuwere gegevens. De organisatie heeft de gegevens veranderd nadat deze kopie werd gemaakt. "
    "Gebruik deze gegevens niet meer. Haal de nieuwste gegevens op, of vraag de inwoner om ze opnieuw te delen."
)


def _answered(bsn: str, body: dict, *, slug: str, oin: str) -> str:
    """A request of ``oin`` answered with ``bsn``'s income from the real tax office, as the portal answers; its code."""
    made = created(body, slug=slug, oin=oin)
    request = opened(made)
    wallet = SigningKey(generate_jwk())
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": f"tst-{oin[-6:]}"}
    assert post_answer(as_portal(fields, slug=slug), slug=slug).status_code == 200
    return made["code"]


@pytest.fixture
def two_deliveries(demo_world):
    """Citizen A's income with the housing corporation (standing access), citizen B's with the bank (once)."""
    bsns = sorted(
        SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)
    )[:2]
    standing = income_request(toegang="doorlopend", toegangTot=(date.today() + timedelta(days=60)).isoformat())
    housing = _answered(bsns[0], standing, slug=WONING_SLUG, oin=WONING)
    bank = _answered(bsns[1], income_request(), slug=BANK_SLUG, oin=BANK)
    return bsns, housing, bank


def _stand(code: str, *, slug: str, oin: str) -> list[str]:
    response = state_of(code, slug=slug, oin=oin)
    assert response.status_code == 200, response.text
    return [received["stand"] for received in response.json()["ontvangen"]]


def _page(oin: str, user: str, code: str, *, english: bool = False) -> str:
    client = Client()
    assert log_in(client, user, make_staff(oin, user))["Location"] == "/vragers/"
    if english:
        client.cookies["django_language"] = "en"
    response = client.get(f"/vragers/verzoeken/{ShareRequest.objects.get(code=code).pk}/")
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_only_the_changed_citizens_delivery_says_vervangen_on_the_page_and_in_the_api(two_deliveries):
    (changed_bsn, _), housing, bank = two_deliveries
    assert _stand(housing, slug=WONING_SLUG, oin=WONING) == ["geldig"]
    change_at_source(BELASTING, changed_bsn)
    assert _stand(housing, slug=WONING_SLUG, oin=WONING) == ["vervangen"]
    assert _stand(bank, slug=BANK_SLUG, oin=BANK) == ["geldig"]
    page = _page(WONING, "anna", housing)
    assert f'data-staat="vervangen"><strong>{SUPERSEDED}</strong>' in page
    other = _page(BANK, "bert", bank)
    assert 'data-staat="geldig">Nog geldig. De organisatie heeft deze gegevens niet veranderd.' in other
    assert "Vervangen door nieuwere gegevens" not in other


def test_the_english_page_says_replaced_by_newer_data(two_deliveries):
    (changed_bsn, _), housing, _bank = two_deliveries
    change_at_source(BELASTING, changed_bsn)
    page = _page(WONING, "anna", housing, english=True)
    assert "Replaced by newer data. The organisation changed the data after this copy was made." in page


def test_a_copy_past_its_end_says_verlopen(two_deliveries):
    _bsns, housing, bank = two_deliveries
    row = ReceivedCredential.objects.get(request__code=bank)
    assert row.expires_at is not None and row.status_uri and row.status_idx is not None
    later = row.expires_at + timedelta(seconds=1)  # the clock moved past the copy's own end
    assert copy_state.states([row], scheme(), later) == [copy_state.State.EXPIRED]
    assert copy_state.states([row], scheme(), timezone.now()) == [copy_state.State.VALID]
    ReceivedCredential.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert _stand(bank, slug=BANK_SLUG, oin=BANK) == ["verlopen"]
    page = _page(BANK, "bert", bank)
    assert 'data-staat="verlopen"><strong>Verlopen. Haal de nieuwste gegevens op' in page
    assert _stand(housing, slug=WONING_SLUG, oin=WONING) == ["geldig"]


def test_a_holder_whose_list_is_out_of_reach_makes_the_state_unknown_not_valid(two_deliveries, monkeypatch):
    _bsns, housing, _bank = two_deliveries

    def down(uri):
        raise httpx.ConnectError("down")

    monkeypatch.setattr("blauweknop.requester.outbound.download_status_list", down)
    rows = list(ReceivedCredential.objects.filter(request__code=housing))
    assert copy_state.states(rows, scheme(), timezone.now()) == [copy_state.State.UNKNOWN]


def test_a_copy_fetched_on_a_legal_basis_keeps_what_tells_it_was_superseded_since(two_deliveries):
    (changed_bsn, other_bsn), _housing, _bank = two_deliveries
    for bsn in (changed_bsn, other_bsn):
        response = lawful(bsn=bsn)
        assert response.status_code == 201, response.text
        assert (response.json()["stand"], response.json()["geldigTot"] is not None) == ("geldig", True)
    change_at_source(BELASTING, changed_bsn)
    rows = list(ReceivedCredential.objects.filter(via=ReceivedCredential.Via.LAW).order_by("pk"))
    assert copy_state.states(rows, scheme(), timezone.now()) == [copy_state.State.SUPERSEDED, copy_state.State.VALID]
