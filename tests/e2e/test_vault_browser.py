"""'Mijn kluis' in a real browser: keep from the data page, see it valid, delete after 'Weet u het zeker?',
download all; with and without JavaScript, at 1280 and 320 px, in Dutch and English, accessible (axe)."""

from __future__ import annotations

import zipfile

import pytest

from .test_accessibility import describe, snapshot
from .test_every_page import BROKEN_WORDS

pytestmark = pytest.mark.e2e


def _no_violations(page, what: str, width: int, javascript: bool) -> None:
    if javascript:  # axe runs in the page, so it needs JavaScript; the page is the same without it
        violations = snapshot(page)["violations"]
        assert not violations, f"axe on {what} at {width} px:\n" + describe(violations)
    shown = page.evaluate("document.documentElement.scrollWidth")
    assert shown <= width, f"{what} is {shown} px wide at {width} px"


@pytest.mark.parametrize(
    ("javascript", "width", "language", "citizen"),
    [(True, 1280, "nl", 1), (False, 320, "en", 2)],
    ids=["javascript-1280-nl", "no-javascript-320-en"],
)
def test_a_citizen_keeps_sees_deletes_and_downloads_in_a_browser(
    javascript, width, language, citizen, demo_server, new_context, steps
):
    english = language == "en"
    context = new_context(java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page = context.new_page()
    steps.log_in(page, demo_server.bsns[citizen])
    steps.press_blue_button(page)
    fetched = page.locator("details[data-documentsoort]").count()
    steps.submit(page, page.get_by_role("button", name="Bewaar in mijn kluis"))
    assert page.url.endswith("/gegevens/"), "keeping goes back to the data page"
    assert "nu in uw kluis" in page.locator("[role=status]").first.inner_text()
    # A second organisation: "Persoonsgegevens" is the longest word a narrow column must keep whole.
    steps.open_organisation(page, "Gemeente Voorbeeldstad")
    steps.press_blue_button(page)
    fetched += page.locator("details[data-documentsoort]").count()
    steps.submit(page, page.get_by_role("button", name="Bewaar in mijn kluis"))

    context.add_cookies([{"name": "django_language", "value": language, "url": demo_server.base_url}])
    page.goto(demo_server.base_url + "/kluis/")
    rows = page.locator("table tbody tr")
    kept = rows.count()
    assert kept >= fetched and page.locator("tr[data-staat='geldig']").count() == kept
    _no_violations(page, "the vault", width, javascript)
    assert not page.evaluate(BROKEN_WORDS), "the vault's table breaks words over lines"
    warning = page.locator(
        "#" + page.locator("form[action$='/kluis/downloaden/'] button").get_attribute("aria-describedby")
    )
    assert "BSN" in warning.inner_text() and warning.is_visible()

    steps.submit(page, rows.first.get_by_role("button", name="View" if english else "Bekijken"))
    assert page.locator("dl[data-kopie]").get_attribute("data-staat") == "geldig"
    assert page.locator("dl.blauweknop-vault-copy__fields dt").count() > 0 and "/kluis/bekijken/" in page.url
    _no_violations(page, "a kept copy", width, javascript)
    page.goto(demo_server.base_url + "/kluis/")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download everything (ZIP)" if english else "Download alles (ZIP)").click()
    archive = zipfile.ZipFile(info.value.path())
    assert sum(name.endswith(".sdjwt") for name in archive.namelist()) == kept
    assert ("README.txt" if english else "LEESMIJ.txt") in archive.namelist()

    steps.submit(page, rows.first.get_by_role("button", name="Delete" if english else "Verwijderen"))
    assert page.locator("h1").inner_text() == ("Are you sure?" if english else "Weet u het zeker?")
    _no_violations(page, "the delete question", width, javascript)
    steps.submit(page, page.get_by_role("button", name="Yes, delete" if english else "Ja, verwijderen"))
    assert page.locator("table tbody tr").count() == kept - 1

    steps.submit(page, page.get_by_role("button", name="Delete everything" if english else "Verwijder alles"))
    steps.submit(page, page.get_by_role("button", name="Yes, delete" if english else "Ja, verwijderen"))
    assert page.locator("table").count() == 0
    assert ("Your vault is empty." if english else "Uw kluis is leeg.") in page.content()
    _no_violations(page, "the empty vault", width, javascript)
