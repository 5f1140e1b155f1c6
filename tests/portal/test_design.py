"""The look every page shares (issue 8, items 1, 9 and 10): the Blauwe Knop mark with an accessible name in
the header, the mark as favicon, one header with help, language and account, a help link on every page,
our own theme instead of the example one, and a button page for organisations whose snippet brings only
the button's own small stylesheet into someone else's site."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import RequestFactory

from blauweknop.accounts.models import User
from tests.portal.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

BELASTING = "00000001003214345000"
PUBLIC_PAGES = ["/", "/hulp/", "/knop/", "/controleren/", "/inloggen/", "/deze-pagina-is-er-niet/"]
MARK = "/static/blauweknop/mark.svg"
REPO = Path(__file__).resolve().parents[2]


def page_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.content.decode())


def assert_shared_look(page: lxml.html.HtmlElement) -> None:
    """The parts of the page every page must have, whatever its content."""
    assert "blauweknop-theme" in page.get("class", "").split()
    marks = page.xpath("//header//img[contains(@class, 'blauweknop-mark')]")
    assert len(marks) == 1, "the header shows no Blauwe Knop mark"
    assert marks[0].get("src") == MARK and marks[0].get("alt", "").strip(), "the mark has no accessible name"
    assert marks[0].get("width") == marks[0].get("height"), "the mark is not square, so not round"
    assert page.xpath(f"//head/link[@rel='icon'][@href='{MARK}'][@type='image/svg+xml']"), "no favicon"
    assert page.xpath("//header//a[@href='/hulp/']"), "the header has no link to the help page"
    assert page.xpath("//footer//a[@href='/hulp/']"), "the footer has no link to the help page"
    assert not page.xpath("//footer//a[contains(@href, '/knop/')]"), "the footer links /knop/"
    stylesheets = page.xpath("//head/link[@rel='stylesheet']/@href")
    assert "/static/blauweknop/theme.css" in stylesheets
    assert not [href for href in stylesheets if "tokens" in href or "voorbeeld" in href], stylesheets


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_it_refuses_to_leave_a_public_page_without_the_mark_favicon_and_help(client, demo_world, path):
    assert_shared_look(page_of(client.get(path)))


def test_it_refuses_to_leave_the_citizens_pages_without_the_mark_favicon_and_help(citizen):
    for path in ["/", f"/organisaties/{BELASTING}/", "/mijn-inzage/", "/hulp/"]:
        response = citizen.get(path)
        assert response.status_code == 200, path
        assert_shared_look(page_of(response))


@pytest.mark.parametrize("template", ["500.html", "413.html", "413_attachment.html"])
def test_it_refuses_to_show_an_error_page_without_the_shared_look(template):
    assert_shared_look(lxml.html.fromstring(render_to_string(template)))


def test_it_refuses_to_show_a_csrf_failure_without_the_shared_look(settings):
    settings.DEMO = True
    assert_shared_look(lxml.html.fromstring(render_to_string("403_csrf.html", request=RequestFactory().get("/"))))


def header_items(page: lxml.html.HtmlElement) -> list[tuple[str, str]]:
    """The header's navigation as (kind, text): links and buttons are actions, the rest plain text."""
    items = page.xpath("//header//nav//li/*[self::a or self::span or self::form]")
    shown = []
    for item in items:
        target = item.xpath(".//button")[0] if item.tag == "form" else item
        shown.append((target.get("class"), " ".join(target.text_content().split())))
    return shown


def test_it_refuses_to_style_the_header_links_and_buttons_differently(citizen):
    items = header_items(page_of(citizen.get("/")))
    texts = [text for _, text in items]
    # The pages first, then the language, then the account: on a small screen that packs into three rows.
    pages = ["Mijn overzicht", "Mijn kluis", "Hulp", "Wie heeft mijn gegevens ingezien?"]
    assert texts[:6] == [*pages, "Nederlands", "English"]
    assert texts[6].startswith("Ingelogd") and texts[7:] == ["Uitloggen"], texts
    # Links and buttons alike carry the one action style; only "Ingelogd" is plain text.
    assert {cls for cls, _ in items[:6] + items[7:]} == {"blauweknop-nav__action"}
    assert items[6][0] == "blauweknop-nav__text"


@pytest.mark.parametrize(("first_name", "shown"), [("Noor", "Ingelogd als Noor"), ("", "Ingelogd")])
def test_it_names_the_citizen_in_the_header_only_when_the_first_name_is_known(client, citizen_bsn, first_name, shown):
    log_in(client, citizen_bsn)
    User.objects.filter(bsn=citizen_bsn).update(first_name=first_name)
    texts = [text for _, text in header_items(page_of(client.get("/")))]
    assert texts[6] == shown


def test_the_header_marks_the_page_you_are_on(citizen):
    for path, current in [("/hulp/", "Hulp"), ("/mijn-inzage/", "Wie heeft mijn gegevens ingezien?")]:
        links = page_of(citizen.get(path)).xpath("//header//a[@aria-current='page']")
        assert [" ".join(link.text_content().split()) for link in links] == [current], path


def test_it_refuses_to_show_account_items_to_someone_not_logged_in(client, demo_world):
    texts = [text for _, text in header_items(page_of(client.get("/")))]
    assert texts == ["Hulp", "Nederlands", "English"]


def test_the_help_page_answers_every_question(client, demo_world):
    page = page_of(client.get("/hulp/"))
    sections = page.xpath("//main//section/@aria-labelledby")
    assert sections == [
        "wat",
        "wanneer",
        "soorten",
        "overzicht",
        "schulden",
        "kluis",
        "gegevens",
        "controleren",
        "bellen",
        "organisaties",
    ]
    contents = page.xpath("//nav[contains(@class, 'blauweknop-contents')]//a/@href")
    assert contents == [f"#{section}" for section in sections], "the table of contents misses a section"
    text = page.text_content()
    assert "15 minuten" in text and "Informatiepunt Digitale Overheid" in text
    assert "verzonnen" in page.xpath("string(//section[@aria-labelledby='bellen'])"), "no demo help desk"
    assert page.xpath("//main//a[@href='/controleren/']") and page.xpath("//main//a[@href='/knop/']")


@pytest.mark.parametrize(
    ("path", "heading"), [("/hulp/", "Help and explanation"), ("/knop/", "The Blue Button on your own website")]
)
def test_it_refuses_to_leave_dutch_on_the_english_help_and_button_pages(client, demo_world, path, heading):
    page = page_of(client.get(path))
    client.post("/i18n/setlang/", {"language": "en", "next": path})
    english = page_of(client.get(path))
    assert english.get("lang") == "en"
    assert english.xpath("string(//h1)") == heading
    # Every heading, paragraph and list item is in English: none reads the same as in Dutch.
    blocks = "//main//*[self::h1 or self::h2 or self::h3 or self::p or self::li]"
    untranslated = [
        " ".join(dutch.text_content().split())
        for dutch, translated in zip(page.xpath(blocks), english.xpath(blocks), strict=True)
        if dutch.text_content() == translated.text_content()
    ]
    assert untranslated == []


def test_it_refuses_to_promise_a_demo_help_desk_outside_the_demo(client, demo_world, settings):
    settings.DEMO = False
    whom_to_call = page_of(client.get("/hulp/")).xpath("string(//section[@aria-labelledby='bellen'])")
    assert "Bel de organisatie" in whom_to_call and "0800" not in whom_to_call


def css_selectors(css: str) -> list[str]:
    """Every selector of every rule in ``css`` (no nesting: our stylesheets have none)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    preludes = re.findall(r"([^{}]+)\{[^{}]*\}", css)
    return [selector.strip() for prelude in preludes for selector in prelude.split(",")]


def test_it_refuses_to_put_anything_but_the_button_in_knop_css():
    css = Path(finders.find("blauweknop/knop.css")).read_text()
    selectors = css_selectors(css)
    assert selectors, "knop.css has no rules"
    assert all(selector.startswith(".blauweknop-button") for selector in selectors), selectors
    assert "@import" not in css and "@font-face" not in css and "var(--blauweknop-color" not in css


def test_it_refuses_to_pull_the_site_stylesheet_into_an_organisations_site(client, demo_world):
    page = page_of(client.get("/knop/"))
    snippet = page.xpath("string(//pre[contains(@class, 'blauweknop-snippet')])")
    assert '<link rel="stylesheet" href="http://testserver/static/blauweknop/knop.css">' in snippet
    assert "site.css" not in snippet and "theme.css" not in snippet and "utrecht" not in snippet
    assert 'src="http://testserver/static/blauweknop/mark.svg"' in snippet
    assert 'action="http://testserver/organisaties/OIN/"' in snippet
    assert "docs/button.md" in page.text_content()
    assert (REPO / "docs" / "button.md").read_text().count("OIN") > 3


def test_the_mark_is_round_blue_and_named():
    svg = lxml.etree.fromstring(Path(finders.find("blauweknop/mark.svg")).read_bytes())
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert svg.get("viewBox") == "0 0 100 100" and svg.get("role") == "img"
    assert svg.xpath("string(s:title)", namespaces=ns) == "De Blauwe Knop"
    outer = svg.xpath("s:circle", namespaces=ns)[0]
    assert (outer.get("cx"), outer.get("cy"), outer.get("r")) == ("50", "50", "50")
    assert outer.get("fill") == "#154c8f"


def test_it_refuses_to_serve_the_example_theme():
    assert not any("voorbeeld" in str(folder) for folder in settings.STATICFILES_DIRS)
    assert "voorbeeld" not in (REPO / "package.json").read_text()


def test_the_help_page_says_how_long_the_record_of_downloads_and_checks_is_kept(client, demo_world):
    data = page_of(client.get("/hulp/")).xpath("string(//section[@aria-labelledby='gegevens'])")
    assert "18 maanden" in data and "binnen een uur" in data


def section_text(page: lxml.html.HtmlElement, section: str) -> str:
    return " ".join(page.xpath(f"string(//section[@aria-labelledby='{section}'])").split())


def test_it_refuses_to_say_that_centraal_does_not_work_yet(client, demo_world):
    page = page_of(client.get("/hulp/"))
    kinds = section_text(page, "soorten")
    assert "Ze werken alle drie." in kinds and "komt later" not in kinds
    assert "Nu werkt alleen Basis" not in kinds and "Gebruik tot die tijd Basis" not in kinds
    assert "later" not in page.xpath("string(//section[@aria-labelledby='soorten']//h3[3])")
    assert "later" not in page.xpath("string(//section[@aria-labelledby='soorten']//h3[2])")


def test_the_help_page_explains_the_overview_the_debts_and_their_download(client, demo_world):
    page = page_of(client.get("/hulp/"))
    overview = section_text(page, "overzicht")
    assert "alle organisaties tegelijk" in overview
    assert "niet op tijd antwoord? Dan noemen we die organisatie" in overview
    assert "de gegevens van alle andere organisaties" in overview
    debts = section_text(page, "schulden")
    for term in ["kenmerk", "eerste bedrag", "openstaande bedrag", "vervaldatum", "betalingsregeling", "bezwaar"]:
        assert term in debts.lower(), term
    assert "Elke kopie heeft het echtheidskenmerk van de organisatie waar die vandaan komt" in debts


def test_it_refuses_to_say_every_copy_is_thrown_away_at_logout_without_naming_the_vault(client, demo_world):
    page = page_of(client.get("/hulp/"))
    data = section_text(page, "gegevens")
    assert "Dan gooien we de kopie weg." in data and "Bewaar in mijn kluis" in data
    vault = section_text(page, "kluis")
    assert "Dan bewaren we niets" in vault and "versleuteld" in vault and "ingelogd met DigiD" in vault
    assert "echt weg" in vault and "ook uw BSN" in vault
    assert "eerder intrekken" in vault and "Vernieuwen" in vault


def test_every_citizen_page_leads_to_mijn_toestemmingen_from_the_footer(client, demo_world):
    # In the footer, not the header: the header must stay one row at 1280 px and low at 320 px.
    for path in ("/", "/hulp/", "/controleren/"):
        assert page_of(client.get(path)).xpath("//footer//a[@href='/toestemmingen/']"), path
