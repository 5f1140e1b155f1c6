"""The organisation's page claims no data before anything was fetched, and names no "(voorbeeld)" (issue 8, item 7);
its heading reads naturally in both languages, its phone number calls with one tap, and the portal that fetches
the data is known by the name its own header shows."""

import lxml.html
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
    assert 'href="https://belastingkantoor.example/hulp"' in page


def test_no_demo_name_or_phone_number_says_voorbeeld():
    # The demo notice says once that everything is made up; names and numbers are not marked one by one.
    for spec in ORGANISATIONS:
        assert "voorbeeld)" not in spec["name"] and "voorbeeld" not in spec["contact"]["telefoon"]
        assert set(spec["description"]) == {"nl", "en"}


def _page(client, path):
    return lxml.html.fromstring(client.get(path).content.decode())


def test_it_refuses_to_title_the_page_my_organisation(citizen):
    dutch = _page(citizen, f"/organisaties/{BELASTING}/")
    assert dutch.xpath("string(//h1)") == "Uw pagina bij Belastingkantoor Voorbeeldland"
    assert dutch.xpath("string(//title)").startswith("Uw pagina bij Belastingkantoor Voorbeeldland \N{EN DASH} ")
    citizen.cookies["django_language"] = "en"
    english = _page(citizen, f"/organisaties/{BELASTING}/")
    assert english.xpath("string(//h1)") == "Your page at Belastingkantoor Voorbeeldland"
    assert english.xpath("string(//title)").startswith("Your page at Belastingkantoor Voorbeeldland \N{EN DASH} ")


@pytest.mark.parametrize(("language", "sentence"), [("nl", "Vragen over uw gegevens? Bel"), ("en", "Questions")])
def test_it_refuses_to_show_a_phone_number_that_cannot_be_tapped(citizen, language, sentence):
    citizen.cookies["django_language"] = language
    links = _page(citizen, f"/organisaties/{BELASTING}/").xpath("//main//a[starts-with(@href, 'tel:')]")
    assert [(link.get("href"), link.text_content()) for link in links] == [("tel:08000000002", "0800 000 0002")]
    assert links[0].getparent().text_content().startswith(sentence)


def test_it_refuses_to_name_the_portal_on_the_access_page_other_than_its_header_does(citizen):
    assert citizen.post(f"/organisaties/{BELASTING}/blauwe-knop/").status_code == 302
    page = _page(citizen, "/mijn-inzage/")
    header_name = page.xpath("string(//header//span[@class='blauweknop-brand__name']/text())").strip()
    fetched_by = {" ".join(cell.text_content().split()) for cell in page.xpath("//main//td[@data-label='Door wie']")}
    assert fetched_by == {header_name} == {"De Blauwe Knop"}
