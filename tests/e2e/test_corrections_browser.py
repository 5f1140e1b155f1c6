"""'Klopt dit niet?' in a real browser: from the data page to the form, its errors, the confirmation and
'Mijn correctieverzoeken'; with and without JavaScript, at 1280 and 320 px, in Dutch and English, accessible (axe)."""

from __future__ import annotations

import re

import pytest

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

    page.locator("#id_voorstel").fill("0")
    page.locator("#id_toelichting").fill("Dit klopt niet: ik heb het al betaald.")
    steps.submit(page, page.get_by_role("button", name=re.compile(words["send"])))
    assert page.locator("h1").inner_text() == words["sent"]
    reference = page.locator("[data-kenmerk]").inner_text()
    _looks_right(page, "the confirmation", width, javascript)

    page.get_by_role("link", name=words["list"]).first.click()
    page.wait_for_url(re.compile(r"/correctieverzoeken/$"))
    assert page.locator(f"section[data-kenmerk='{reference}']").get_attribute("data-status") == "ontvangen"
    _looks_right(page, "Mijn correctieverzoeken", width, javascript)
