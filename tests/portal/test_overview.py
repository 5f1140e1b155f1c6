"""Mijn overzicht (issue 9, item 1): every organisation at once, streamed as they answer, kept for the session."""

from __future__ import annotations

import re

import lxml.html
import pytest
from asgiref.sync import async_to_sync
from django.template.loader import render_to_string
from django.test import Client

from blauweknop import document_types
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import overview
from blauweknop.portal.models import SessionCopies, VaultCopy
from blauweknop.protocol import sdjwt
from blauweknop.protocol.scheme_document import HOLDER
from blauweknop.scheme.client import scheme_client
from tests.portal.conftest import scheme_lists_another_key

from .conftest import BELASTING, GEMEENTE, log_in
from .test_holder_failures import _move

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = "http://127.0.0.1:9"  # nothing listens there
END = "overzicht-einde"
UNREACHABLE = "is nu niet bereikbaar. Probeer het later nog eens."


def streamed(response) -> str:
    """The whole body of a streamed page, read part by part as a server would send it."""
    assert response.streaming, "the overview was not streamed"

    async def read() -> bytes:
        return b"".join([part async for part in response])

    return async_to_sync(read)().decode()


def body(response) -> str:
    return streamed(response) if response.streaming else response.content.decode()


def sections(html: str) -> dict[str, str]:
    """Each organisation's section as its outcome, by OIN, in the order of the page."""
    page = lxml.html.fromstring(html)
    return {s.get("data-oin"): s.get("data-uitkomst") for s in page.xpath("//main//section[@data-oin]")}


def holders() -> dict[str, str]:
    scheme = async_to_sync(scheme_client.current)()
    return {p.oin: p.name for p in scheme.organisations.values() if HOLDER in p.roles}


def test_it_asks_every_organisation_and_streams_one_complete_page(citizen):
    response = citizen.get("/overzicht/")
    assert response.status_code == 200
    html = streamed(response)
    shown = sections(html)
    assert set(shown) == set(holders())
    assert shown[BELASTING] == "opgehaald" and shown[GEMEENTE] == "opgehaald"
    page = lxml.html.fromstring(html)
    assert page.xpath(f"//*[@id='{END}']"), "the streamed page has no end"
    assert html.rstrip().endswith("</html>") and html.count("<html") == 1 and html.count("</body>") == 1
    end = " ".join(page.xpath(f"string(//*[@id='{END}'])").split())
    assert f"{len(shown)} van {len(shown)} organisaties gaven antwoord" in end
    # The streamed page keeps every header a page has.
    assert response["Cache-Control"] == "no-store"
    assert "default-src" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_kept_answers_show_again_without_asking_anyone(citizen):
    first = sections(streamed(citizen.get("/overzicht/")))
    for oin in first:  # were the holders asked again, each would now be unreachable
        _move(oin, CLOSED)
    response = citizen.get("/overzicht/")
    assert not response.streaming
    html = response.content.decode()
    assert sections(html) == {oin: first[oin] for oin in sorted(first, key=holders().get)}, "not in name order"
    assert UNREACHABLE not in html
    assert "Nog te betalen" in html and "/overzicht/schulden/" in html


def test_fetch_again_asks_every_organisation_anew_and_a_closed_one_says_so(citizen):
    streamed(citizen.get("/overzicht/"))
    _move(GEMEENTE, CLOSED)
    again = citizen.post("/overzicht/")
    assert again.status_code == 303 and again["Location"] == "/overzicht/"
    html = streamed(citizen.get("/overzicht/"))
    shown = sections(html)
    assert shown[GEMEENTE] == "onbereikbaar" and shown[BELASTING] == "opgehaald"
    assert f"Gemeente Voorbeeldstad {UNREACHABLE}" in " ".join(html.split())
    assert not citizen.get("/overzicht/").streaming, "the fetch was asked once, not for every visit after"


def test_it_refuses_to_fetch_again_twice_within_half_a_minute(citizen):
    streamed(citizen.get("/overzicht/"))
    assert citizen.post("/overzicht/").status_code == 303
    first = sections(streamed(citizen.get("/overzicht/")))  # the first press asks every organisation anew
    for oin in first:  # were the holders asked again, each would now be unreachable
        _move(oin, CLOSED)
    again = citizen.post("/overzicht/")
    assert again.status_code == 303 and again["Location"] == "/overzicht/"
    response = citizen.get("/overzicht/")
    assert not response.streaming, "a second press asked every organisation again"
    html = response.content.decode()
    assert set(sections(html).items()) == set(first.items()) and UNREACHABLE not in html
    said = re.search(r"U heeft net alles opgehaald\. Over (\d+) seconden kunt u het opnieuw doen\.", html)
    assert said and 25 <= int(said.group(1)) <= 30


@pytest.mark.parametrize(
    ("last", "wait"),
    [(None, 0), ("gisteren", 0), (1000.0, 30), (990.5, 21), (970.0, 0), (900.0, 0), (5000.0, 30)],
    ids=["never", "not-a-moment", "just-now", "a-while-ago", "exactly-long-enough", "long-ago", "clock-went-back"],
)
def test_fetch_again_waits_half_a_minute_after_the_last_press(last, wait):
    assert overview.wait_to_fetch_again(last, 1000.0) == wait


def test_each_citizen_sees_only_their_own(client, two_citizen_bsns):
    pages = {}
    for bsn in two_citizen_bsns:
        browser = Client()
        log_in(browser, bsn)
        pages[bsn] = streamed(browser.get("/overzicht/"))
        kept = SessionCopies.objects.filter(session_id=browser.session.session_key)
        about = {sdjwt.unverified_claims(c)["burgerservicenummer"] for row in kept for c in row.credentials.values()}
        assert about == {bsn}
    for bsn, html in pages.items():
        other = next(b for b in two_citizen_bsns if b != bsn)
        street = SourceRecord.objects.get(holder_oin=GEMEENTE, document_type="persoonsgegevens", bsn=bsn)
        other_street = SourceRecord.objects.get(holder_oin=GEMEENTE, document_type="persoonsgegevens", bsn=other)
        assert street.data["adres"]["straat"] in html
        if other_street.data["adres"]["straat"] != street.data["adres"]["straat"]:
            assert other_street.data["adres"]["straat"] not in html
        assert bsn not in html and other not in html, "a BSN on the overview"


def test_it_sends_someone_logged_out_to_log_in_first(client, demo_world):
    response = client.get("/overzicht/")
    assert response.status_code == 302 and response["Location"] == "/inloggen/?next=/overzicht/"
    assert client.post("/overzicht/").status_code in (302, 403)


def test_it_refuses_fetch_again_without_the_forms_csrf_token(citizen_bsn):
    browser = Client(enforce_csrf_checks=True)
    log_in(browser, citizen_bsn)
    assert browser.post("/overzicht/").status_code == 403


@pytest.mark.parametrize("query", ["?next=//elders.example", "?kopie=x%00y&terug=javascript:1", "?" + "a=1&" * 500])
def test_odd_query_strings_change_nothing(citizen, query):
    assert sections(body(citizen.get("/overzicht/" + query)))


def test_it_refuses_other_methods(citizen):
    assert citizen.put("/overzicht/").status_code == 405


def test_the_streamed_page_is_in_english_when_chosen(citizen):
    citizen.cookies["django_language"] = "en"
    html = " ".join(streamed(citizen.get("/overzicht/")).split())
    assert "My overview" in html and "organisations answered" in html and "Keep in my vault" in html


def test_the_header_leads_to_the_overview_and_the_vault_and_marks_the_overview(citizen):
    streamed(citizen.get("/overzicht/"))
    page = lxml.html.fromstring(citizen.get("/overzicht/").content.decode())
    assert page.xpath("//header//nav//a[@href='/overzicht/'][@aria-current='page']")
    assert page.xpath("//header//nav//a[@href='/kluis/'][not(@aria-current)]")
    home = lxml.html.fromstring(citizen.get("/").content.decode())
    assert home.xpath("//main//a[@href='/overzicht/'][normalize-space()='Bekijk alles in één overzicht']")
    assert not home.xpath("//header//a[@aria-current]")


OUTCOME_WORDS = {
    "geen": "Belastingkantoor Voorbeeldland heeft geen gegevens over u.",
    "onbereikbaar": f"Belastingkantoor Voorbeeldland {UNREACHABLE}",
    "onbetrouwbaar": "Belastingkantoor Voorbeeldland gaf gegevens die we niet konden controleren. "
    "We laten ze daarom niet zien.",
    "overgeslagen": "Belastingkantoor Voorbeeldland hebben we even overgeslagen, "
    "omdat het de laatste keren niet lukte. Probeer het over een paar minuten opnieuw.",
    "doet-niet-mee": "Belastingkantoor Voorbeeldland doet nu niet mee aan de Blauwe Knop.",
}


@pytest.mark.parametrize("outcome", list(OUTCOME_WORDS))
def test_each_outcome_is_said_in_plain_words_and_a_failure_says_whom_to_call(demo_world, outcome):
    scheme = async_to_sync(scheme_client.current)()
    holder = scheme.organisations[BELASTING]
    shown = overview.source(document_types.of(scheme), holder, outcome, {}, [])
    html = " ".join(render_to_string(overview.SECTION, {"source": shown}).split())
    assert OUTCOME_WORDS[outcome] in html
    phone = holder.info["contact"]["telefoon"]
    assert ("Bel Belastingkantoor Voorbeeldland: " in html and phone in html) == (outcome != "geen")
    assert "Bewaar in mijn kluis" not in html and "<dl" not in html


def test_a_copy_that_fails_verification_shows_no_value_on_the_overview(citizen):
    scheme_lists_another_key(BELASTING)
    html = " ".join(streamed(citizen.get("/overzicht/")).split())
    assert sections(html)[BELASTING] == "onbetrouwbaar"
    assert OUTCOME_WORDS["onbetrouwbaar"] in html
    assert "Verzamelinkomen" not in html and f'kopie" value="{BELASTING}:' not in html
    kept = SessionCopies.objects.get(holder_oin=BELASTING)
    assert kept.outcome == "onbetrouwbaar" and kept.credentials == {}


@pytest.mark.parametrize(
    ("answered", "said"),
    [(1, "1 van 3 organisaties gaf antwoord."), (2, "2 van 3 organisaties gaven antwoord.")],
)
def test_the_end_says_how_many_answered_in_proper_dutch(answered, said):
    html = " ".join(render_to_string(overview.END, {"answered": answered, "asked": 3, "streamed": True}).split())
    assert said in html
    assert "Bij de andere staat wat er niet lukte en wie u kunt bellen." in html


def test_keep_in_my_vault_from_the_overview_keeps_that_organisations_copies_and_comes_back(citizen):
    page = lxml.html.fromstring(streamed(citizen.get("/overzicht/")))
    (form,) = page.xpath(f"//section[@data-oin='{BELASTING}']//form[@action='/kluis/bewaren/']")
    fields = {
        "kopie": form.xpath(".//input[@name='kopie']/@value"),
        "terug": form.xpath("string(.//input[@name='terug']/@value)"),
    }
    assert fields["kopie"] and all(value.startswith(f"{BELASTING}:") for value in fields["kopie"])
    response = citizen.post("/kluis/bewaren/", fields)
    assert response.status_code == 302 and response["Location"] == "/overzicht/"
    back = citizen.get("/overzicht/")
    assert not back.streaming and "in uw kluis" in back.content.decode()
    kept = set(VaultCopy.objects.values_list("holder_oin", "document_type"))
    assert kept == {tuple(value.split(":")) for value in fields["kopie"]}
