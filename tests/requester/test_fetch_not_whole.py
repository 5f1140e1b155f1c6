"""A standing fetch with a holder down: the requester keeps and says that its data are not whole (attacker review A8).

The debt counsellor has standing access to every debt of a citizen with debts at two holders or more (two holders
issuing the same type). One holder does not answer: the portal's answer names it (``nietBereikt``); the requester
keeps that with the fetch, its API gives it (``nietBereikt`` of the fetch and of the request's state), and its
staff page says "Niet compleet: <naam> gaf nu geen antwoord. Haal later opnieuw op." in Dutch, and in English. A
next fetch with every holder answering is whole again, and the page stops saying so.
"""

from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from blauweknop.holder.models import SourceRecord
from blauweknop.requester.models import ShareRequest
from blauweknop.scheme.models import Organisation
from tests.portal.conftest import log_in
from tests.portal.test_holder_failures import _move
from tests.portal.test_refused_fetch_records import DEBTS, debtors
from tests.requester.test_staff_login import log_in as staff_log_in
from tests.requester.test_staff_login import make_staff

from .world import api_url, authenticated, created, state_of

pytestmark = pytest.mark.django_db(transaction=True)

COUNSELLOR, COUNSELLOR_SLUG = "00000003512873460000", "schuldhulp-voorbeeldstad"


def _every_debt() -> dict:
    return {
        "kenmerk": "schuld-7",
        "doel": {"nl": "Wij maken een overzicht van uw schulden.", "en": "We make an overview of your debts."},
        "grondslag": "toestemming",
        "bewaartermijnDagen": 30,
        "toegang": "doorlopend",
        "toegangTot": (date.today() + timedelta(days=60)).isoformat(),
        "gevraagd": [
            {"documentsoort": "vorderingen", "meerdere": True, "velden": [{"pad": path} for path in DEBTS]},
        ],
    }


def _fetch(code: str) -> httpx.Response:
    url = f"{api_url(COUNSELLOR_SLUG)}/verzoeken/{code}/ophalen"
    return httpx.post(url, json=authenticated({}, url, COUNSELLOR), timeout=60)


def _page(client, code: str, language: str = "nl") -> str:
    pk = ShareRequest.objects.get(code=code).pk
    client.cookies["django_language"] = language
    return client.get(f"/vragers/verzoeken/{pk}/").content.decode()


def test_a_fetch_with_a_holder_down_is_kept_and_shown_as_not_whole(client, demo_world):
    debtor, _ = debtors()
    made = created(_every_debt(), slug=COUNSELLOR_SLUG, oin=COUNSELLOR)
    assert log_in(client, debtor).status_code == 302
    link = urlsplit(made["link"])
    opened = client.get(f"{link.path}?{link.query}")
    assert client.post(opened["Location"], {"besluit": "ja"}).status_code == 303
    client.logout()

    whole = _fetch(made["code"])
    assert whole.status_code == 200, whole.text
    assert whole.json()["nietBereikt"] == []
    every = len(whole.json()["ontvangen"])
    holders = sorted(
        SourceRecord.objects.filter(bsn=debtor, document_type="vorderingen").values_list("holder_oin", flat=True)
    )
    assert len(holders) >= 2 and every >= 2
    silent = holders[0]
    name, address = Organisation.objects.filter(oin=silent).values_list("name", "base_url").get()
    _move(silent, "http://127.0.0.1:9")

    part = _fetch(made["code"])
    assert part.status_code == 200, part.text
    assert part.json()["nietBereikt"] == [silent]
    assert 0 < len(part.json()["ontvangen"]) < every
    state = state_of(made["code"], slug=COUNSELLOR_SLUG, oin=COUNSELLOR).json()
    assert state["nietBereikt"] == [silent]

    assert staff_log_in(client, "sam", make_staff(COUNSELLOR, "sam")).status_code == 302
    dutch = _page(client, made["code"])
    assert 'id="niet-compleet"' in dutch
    assert f"Niet compleet: {name} gaf nu geen antwoord. Haal later opnieuw op." in dutch
    english = _page(client, made["code"], "en")
    assert f"Not complete: {name} did not answer now. Fetch again later." in english

    _move(silent, address)  # back where it answers
    again = _fetch(made["code"])
    assert again.status_code == 200 and again.json()["nietBereikt"] == [], again.text
    assert 'id="niet-compleet"' not in _page(client, made["code"])
