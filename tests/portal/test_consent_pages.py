"""'Mijn toestemmingen': the citizen sees and withdraws only their own consents, and every use of them."""

import html
import re

import pytest
from django.test import Client

from blauweknop.portal import consents
from blauweknop.portal.models import Consent
from tests.portal.conftest import BELASTING, log_in
from tests.portal.consent_world import SPAARBANK, citizen, given


@pytest.fixture
def two(demo_world, two_citizen_bsns):
    """Two logged-in citizens, each with a standing consent of their own."""
    clients = []
    for bsn, requester in zip(two_citizen_bsns, (None, SPAARBANK), strict=True):
        client = Client()
        assert log_in(client, bsn).status_code == 302
        consent, _ = given(citizen(bsn), *([requester] if requester else []))
        clients.append((client, consent, citizen(bsn).pseudonym))
    return clients


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_the_list_says_who_what_why_on_what_basis_until_when_and_how_often(two):
    (client, consent, _), _ = two
    consents.delivered(consent, {"houders": {"inkomen": [BELASTING]}, "velden": {"inkomen": ["belastingjaar"]}})
    page = text(client.get("/toestemmingen/"))
    assert "Lopende toestemmingen" in page and "Woningcorporatie Thuisbasis" in page
    assert "Inkomen: Verzamelinkomen, Jaar" in page or "Inkomen : Verzamelinkomen, Jaar" in page
    assert "Toetsen of u de huur kunt betalen." in page and "Uw toestemming" in page
    assert "Doorlopend, tot en met" in page and "1 keer" in page
    assert "Spaarbank" not in page  # the other citizen's consent


def test_a_consent_page_shows_every_use_and_after_withdrawal_every_refused_fetch(two):
    (client, consent, _), _ = two
    consents.delivered(consent, {"houders": {"inkomen": [BELASTING]}, "velden": {"inkomen": ["belastingjaar"]}})
    assert client.get(f"/toestemmingen/{consent.pk}/intrekken/").status_code == 200  # a GET only asks
    assert Consent.objects.get(pk=consent.pk).state == "gegeven"
    response = client.post(f"/toestemmingen/{consent.pk}/intrekken/")
    assert response.status_code == 302 and response["Location"] == f"/toestemmingen/{consent.pk}/"
    consents.fetch_refused(Consent.objects.get(pk=consent.pk), "consent_withdrawn")
    page = text(client.get(response["Location"]))
    assert "U heeft deze toestemming ingetrokken" in page and "kan vanaf dat moment geen gegevens meer ophalen" in page
    assert "Trek toestemming in" not in page
    assert (
        "U deelde uw gegevens met Woningcorporatie Thuisbasis" in page
        and "Belastingkantoor Voorbeeldland" in page
        and "Inkomen: Jaar" in page
    )
    assert "Woningcorporatie Thuisbasis wilde uw gegevens ophalen. Dat mocht niet meer: u had uw toestemming" in page
    ended = text(client.get("/toestemmingen/"))
    assert "U heeft nu geen lopende toestemmingen." in ended and "Ingetrokken" in ended


def test_another_citizen_can_neither_see_nor_withdraw_a_consent(two):
    (client, _mine, _), (_, theirs, _) = two
    for url in ("", "bewijs.json", "bewijs.pdf"):
        assert client.get(f"/toestemmingen/{theirs.pk}/{url}").status_code == 404
    assert client.post(f"/toestemmingen/{theirs.pk}/intrekken/").status_code == 404
    assert Consent.objects.get(pk=theirs.pk).state == "gegeven" and Consent.objects.get(pk=theirs.pk).sealed


def test_withdrawing_is_one_button_and_in_english_too(two):
    (client, consent, _), _ = two
    page = client.get(f"/toestemmingen/{consent.pk}/").content.decode()
    assert len(re.findall(r"<form[^>]*intrekken", page)) == 1 and "<script" not in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = text(client.get(f"/toestemmingen/{consent.pk}/"))
    assert "Withdraw consent" in english and "Income" in english


def test_the_pages_need_a_login(demo_world):
    assert Client().get("/toestemmingen/").status_code == 302
