"""'Mijn toestemmingen' says what is true, in plain words, and withdrawing asks first (without JavaScript)."""

from __future__ import annotations

import re

import pytest

from blauweknop.portal import consents
from blauweknop.portal.models import Consent
from tests.portal.consent_world import asked, given
from tests.portal.consent_world import citizen as person
from tests.portal.test_consent_pages import text

NAME = "Woningcorporatie Thuisbasis"


@pytest.fixture
def mine(citizen_bsn, demo_world):
    """The logged-in citizen's own standing consent, for the woningcorporatie."""
    consent, _key = given(person(citizen_bsn))
    return consent


def test_a_running_consent_says_how_it_stands_why_it_may_and_whom_to_call(citizen, mine):
    page = text(citizen.get(f"/toestemmingen/{mine.pk}/"))
    assert "Waarom mag dat?" in page and "Grondslag" not in page
    assert "Hoe staat het Loopt nog" in page
    assert f"Vragen? Bel {NAME}: 0800 000 0006 ." in page  # the requester's contact in the scheme document
    assert "kunt u altijd intrekken" in text(citizen.get("/toestemmingen/"))
    citizen.cookies["django_language"] = "en"
    english = text(citizen.get("/toestemmingen/"))
    assert "Active consents" in english and "Repeated access, up to and including" in english
    assert "Still active" in english and "Standing" not in english and "Runs" not in english


def test_withdrawing_asks_first_on_a_page_of_its_own_then_one_post_withdraws(citizen, citizen_bsn, mine):
    page = citizen.get(f"/toestemmingen/{mine.pk}/").content.decode()
    assert re.search(rf'<form action="/toestemmingen/{mine.pk}/intrekken/" method="get">', page)
    question = citizen.get(f"/toestemmingen/{mine.pk}/intrekken/")
    words = text(question)
    assert question.status_code == 200 and "Weet u het zeker?" in words
    assert "Ja, trek in" in words and "Nee, terug" in words and "<script" not in question.content.decode()
    assert re.search(rf'action="/toestemmingen/{mine.pk}/intrekken/" method="post"', question.content.decode())
    assert Consent.objects.get(pk=mine.pk).state == Consent.State.GIVEN  # asking withdraws nothing
    done = citizen.post(f"/toestemmingen/{mine.pk}/intrekken/")
    assert done.status_code == 302 and Consent.objects.get(pk=mine.pk).state == Consent.State.WITHDRAWN
    assert citizen.get(f"/toestemmingen/{mine.pk}/intrekken/").status_code == 302  # nothing left to withdraw
    other, _key = given(person(citizen_bsn))
    citizen.cookies["django_language"] = "en"
    english = text(citizen.get(f"/toestemmingen/{other.pk}/intrekken/"))
    assert "Are you sure?" in english and "Yes, withdraw" in english and "No, go back" in english


def test_a_refused_fetch_says_who_tried_and_why(citizen, mine):
    citizen.post(f"/toestemmingen/{mine.pk}/intrekken/")
    consents.fetch_refused(Consent.objects.get(pk=mine.pk), "consent_withdrawn")
    page = text(citizen.get(f"/toestemmingen/{mine.pk}/"))
    assert f"{NAME} wilde uw gegevens ophalen. Dat mocht niet meer: u had uw toestemming ingetrokken." in page
    assert "Hoe staat het Ingetrokken" in page and "Trek toestemming in" not in page
    citizen.cookies["django_language"] = "en"
    english = text(citizen.get(f"/toestemmingen/{mine.pk}/"))
    assert f"{NAME} wanted to fetch your data. That was no longer allowed: you had withdrawn your consent." in english


def test_refused_and_failed_consents_say_so_and_offer_no_withdrawing(citizen, citizen_bsn, demo_world):
    refused = consents.refuse(person(citizen_bsn), asked(), requester_name=NAME, request_object="eyJ.request.object")
    failed, _key = given(person(citizen_bsn), access="eenmalig")
    consents.not_delivered(failed, "ontbreekt")
    listing = text(citizen.get("/toestemmingen/"))
    assert "kunt u altijd intrekken" not in listing  # nothing runs: nothing to withdraw
    assert "Hoe staat het U zei nee" in listing
    assert "Hoe staat het Niet gelukt, er is niets gedeeld" in listing
    for consent in (refused, failed):
        page = text(citizen.get(f"/toestemmingen/{consent.pk}/"))
        assert "intrekken" not in page and "Trek toestemming in" not in page
    citizen.cookies["django_language"] = "en"
    english = text(citizen.get("/toestemmingen/"))
    assert "Did not work, nothing was shared" in english and "You said no" in english
