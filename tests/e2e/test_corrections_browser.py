"""'Klopt dit niet?' in a real browser: from the data page to the form, its errors, the confirmation and
'Mijn correctieverzoeken'; with and without JavaScript, at 1280 and 320 px, in Dutch and English, accessible (axe)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .test_accessibility import describe, snapshot
from .test_every_page import BROKEN_WORDS

pytestmark = pytest.mark.e2e


def _looks_right(page, what: str, width: int, javascript: bool) -> None:
    if javascript:  # axe runs in the page, so it needs JavaScript; the page is the same without it
        violations = snapshot(page)["violations"]
        assert not violations, f"axe on {what} at {width} px:\n" + describe(violations)
    shown = page.evaluate("document.documentElement.scrollWidth")
    assert shown <= width, f"{what} is {shown} px wide at {width} px"
    assert not page.evaluate(BROKEN_WORDS), f"{what} breaks words over lines"


@pytest.mark.parametrize(
    ("javascript", "width", "language", "citizen"),
    [(True, 1280, "nl", 1), (False, 320, "en", 2)],
    ids=["javascript-1280-nl", "no-javascript-320-en"],
)
def test_a_citizen_asks_for_a_correction_in_a_browser(
    javascript, width, language, citizen, demo_server, new_context, steps
):
    english = language == "en"
    words = {
        "link": "Is this wrong?" if english else "Klopt dit niet?",
        "send": "Send to" if english else "Stuur naar",
        "required": "Write what it should say, in your view." if english else "Schrijf op wat er volgens u moet staan.",
        "sent": "Your request has been sent" if english else "Uw verzoek is verstuurd",
        "list": "My correction requests" if english else "Mijn correctieverzoeken",
    }
    context = new_context(java_script_enabled=javascript, viewport={"width": width, "height": 900})
    context.add_cookies([{"name": "django_language", "value": language, "url": demo_server.base_url}])
    page = context.new_page()
    steps.log_in(page, demo_server.bsns[citizen])
    steps.press_blue_button(page)
    links = page.get_by_role("link", name=re.compile("^" + re.escape(words["link"]) + " ."))
    assert links.count() == page.locator("input[name^='veld-']").count(), "a field without its link"
    _looks_right(page, "the data page", width, javascript)

    links.last.click()  # the last field: in a list, when the copy has one
    page.wait_for_url(re.compile(r"/correctie/\?"))
    now = page.locator("dd[data-nu]").inner_text()
    assert now, "the form does not show the value now"
    _looks_right(page, "the correction form", width, javascript)
    steps.submit(page, page.get_by_role("button", name=re.compile(words["send"])))
    assert words["required"] in page.locator("main").inner_text()
    _looks_right(page, "the correction form with its errors", width, javascript)
    _errors_are_listed_first_and_lead_to_their_fields(page)
    _the_textarea_looks_like_the_text_inputs(page)
    assert page.locator("[data-contact] a[href^='tel:']").count() == 1, "no phone number of whom to ask"

    page.locator("#id_voorstel").fill("0")
    page.locator("#id_toelichting").fill("Dit klopt niet: ik heb het al betaald.")
    steps.submit(page, page.get_by_role("button", name=re.compile(words["send"])))
    assert page.locator("h1").inner_text() == words["sent"]
    reference = page.locator("[data-kenmerk]").inner_text()
    confirmation = page.url
    _looks_right(page, "the confirmation", width, javascript)

    page.get_by_role("link", name=words["list"]).first.click()
    page.wait_for_url(re.compile(r"/correctieverzoeken/$"))
    assert page.locator(f"section[data-kenmerk='{reference}']").get_attribute("data-status") == "ontvangen"
    assert page.locator(f"section[data-kenmerk='{reference}'] [data-contact] a[href^='tel:']").count() == 1
    _looks_right(page, "Mijn correctieverzoeken", width, javascript)
    _an_old_confirmation_goes_to_the_list(new_context, steps, demo_server, citizen, language, confirmation, reference)


def _errors_are_listed_first_and_lead_to_their_fields(page) -> None:
    """The summary is the first thing in the page, under a heading; each error a link that brings its field into
    view (at 320 px the last fields are far below)."""
    first = page.evaluate("document.querySelector('.utrecht-page-body__content > :not(.blauweknop-back):not(link)').id")
    assert first == "fouten", "the error summary is not first in the page"
    assert page.locator("#fouten h2").count() == 1 and page.locator("#fouten").get_attribute("tabindex") == "-1"
    links = page.locator("#fouten a[href^='#id_']")
    assert links.count() == 2, "each of the two errors links to its field"
    target = links.last.get_attribute("href")
    links.last.click()
    expect(page.locator(target)).to_be_in_viewport()
    expect(page.locator(f"label[for='{target[1:]}']")).to_be_in_viewport()
    expect(page.locator(f"{target.replace('#id_', '#')}-fout")).to_be_in_viewport()
    page.evaluate("window.scrollTo(0, 0)")


def _the_textarea_looks_like_the_text_inputs(page) -> None:
    """Same border, radius, padding and error state as the text inputs (both are invalid here)."""
    look = "e => ['borderTopWidth', 'borderTopColor', 'borderTopLeftRadius', 'paddingLeft', 'paddingTop']"
    look += ".map(p => getComputedStyle(e)[p])"
    textarea, textbox = page.locator("#id_toelichting").evaluate(look), page.locator("#id_voorstel").evaluate(look)
    assert textarea == textbox, f"the textarea {textarea} does not look like the text input {textbox}"
    assert float(textarea[3].removesuffix("px")) >= 8, "the text touches the border"


def _an_old_confirmation_goes_to_the_list(new_context, steps, demo_server, citizen, language, address, reference):
    """In a new session, the confirmation's address leads to Mijn correctieverzoeken, not to a 404."""
    context = new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "django_language", "value": language, "url": demo_server.base_url}])
    page = context.new_page()
    steps.log_in(page, demo_server.bsns[citizen])
    page.goto(address)
    assert page.url.endswith("/correctieverzoeken/"), page.url
    assert page.locator(f"section[data-kenmerk='{reference}']").count() == 1
