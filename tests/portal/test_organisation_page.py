"""The organisation's page claims no data before anything was fetched, and names no "(voorbeeld)" (issue 8, item 7)."""

import pytest

from blauweknop.demo.organisations import ORGANISATIONS

from .conftest import BELASTING

pytestmark = pytest.mark.django_db


def test_it_does_not_claim_the_organisation_holds_data_before_anything_was_fetched(citizen):
    page = citizen.get(f"/organisaties/{BELASTING}/").content.decode()
    assert "heeft deze soorten gegevens over u" not in page
    assert "Deze organisatie kan deze soorten gegevens over u hebben:" in page
    citizen.cookies["django_language"] = "en"
    english = citizen.get(f"/organisaties/{BELASTING}/").content.decode()
    assert "This organisation may have these kinds of data about you:" in english
    assert "Sets your income and collects national taxes." in english


def test_it_leads_back_and_to_the_organisations_own_help(citizen):
    page = citizen.get(f"/organisaties/{BELASTING}/").content.decode()
    assert 'href="/">Terug naar het begin</a>' in page
    assert "Bel 0800 000 0002." in page and 'href="https://belastingkantoor.example/hulp"' in page


def test_no_demo_name_or_phone_number_says_voorbeeld():
    # The demo notice says once that everything is made up; names and numbers are not marked one by one.
    for spec in ORGANISATIONS:
        assert "voorbeeld)" not in spec["name"] and "voorbeeld" not in spec["contact"]["telefoon"]
        assert set(spec["description"]) == {"nl", "en"}
