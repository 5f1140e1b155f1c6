"""'Wie heeft mijn gegevens ingezien?' in a real browser says what truly happened (issue 8, item 6): the press
as a fetch to view, the PDF as one entry (made by the holder for the citizen's download), the .sdjwt as
downloaded, and a check on the verify page (by the citizen, or someone they gave the copy to); with and without
JavaScript, at 1280 and 320 px, in Dutch and English."""

from __future__ import annotations

import pytest

from .test_accessibility import describe, snapshot

pytestmark = pytest.mark.e2e

SAID = {
    "nl": (
        "Opgehaald om te bekijken, op uw verzoek",
        "U heeft een PDF gemaakt en gedownload",
        "U heeft een digitale kopie gedownload (.sdjwt)",
        "Uw kopie is gecontroleerd op de controlepagina",
        "U, of iemand aan wie u de kopie gaf",
    ),
    "en": (
        "Fetched for you to view, at your request",
        "You made and downloaded a PDF",
        "You downloaded a digital copy (.sdjwt)",
        "Your copy was checked on the verify page",
        "You, or someone you gave the copy to",
    ),
}


@pytest.mark.parametrize(
    ("javascript", "width", "language"),
    [(True, 1280, "nl"), (False, 320, "en")],
    ids=["javascript-1280-nl", "no-javascript-320-en"],
)
def test_the_access_log_says_what_happened_in_a_browser(
    javascript, width, language, demo_server, new_context, steps, tmp_path
):
    context = new_context(java_script_enabled=javascript, viewport={"width": width, "height": 900})
    citizen = context.new_page()
    steps.log_in(citizen, demo_server.bsns[2])
    steps.press_blue_button(citizen)
    steps.download(citizen, tmp_path, "pdf")
    copy = steps.download(citizen, tmp_path, "sdjwt")
    receiver = new_context(java_script_enabled=javascript).new_page()
    steps.verify(receiver, copy)

    # The steps click Dutch labels; the log is read in the language of the run.
    context.add_cookies([{"name": "django_language", "value": language, "url": demo_server.base_url}])
    citizen.goto(demo_server.base_url + "/mijn-inzage/")
    rows = citizen.locator("table tbody tr").all_inner_texts()
    for sentence in SAID[language]:
        assert any(sentence in row for row in rows), f"the access log does not say {sentence!r}: {rows}"
    assert citizen.locator("html").get_attribute("lang") == language
    if javascript:  # axe runs in the page, so it needs JavaScript; the page is the same without it
        violations = snapshot(citizen)["violations"]
        assert not violations, f"axe on the access log at {width} px:\n" + describe(violations)
    shown = citizen.evaluate("document.documentElement.scrollWidth")
    assert shown <= width, f"the access log is {shown} px wide at {width} px"
