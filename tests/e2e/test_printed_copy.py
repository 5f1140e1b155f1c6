"""A printed copy checked in a real browser by the code on the paper (issue 8, item 4).

Download the PDF in Chromium, read the check code from the PDF's own text, type it on /controleren/ as
someone holding the paper would (lower case, with spaces), and see the same fields as on the paper; with
JavaScript on and off, at 1280 and 320 CSS pixels, in Dutch and English, axe clean.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_accessibility import snapshot

pytestmark = pytest.mark.e2e

CODE_ON_PAPER = re.compile(r"(?:Controlecode|Check code): ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")
LANGUAGE_BUTTON = {"nl": "Nederlands", "en": "English"}
SHOWN = {"nl": "Echt en geldig", "en": "Genuine and valid"}


def pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) must be installed by the test setup"
    return subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def axe_clean(page: Any, javascript: bool) -> None:
    """No axe violations on the page; axe needs the page's JavaScript, so without it this checks nothing."""
    if javascript:
        violations = snapshot(page)["violations"]
        assert violations == [], violations


def check_by_code(page: Any, steps: Any, code: str) -> None:
    """Type ``code`` as someone reading the paper would (lower case, with spaces) and check it."""
    page.locator("#id_controlecode").fill(" ".join(code.lower().replace("-", "")))
    steps.submit(page, page.locator("form[action='/controleren/met-code/'] button[type=submit]"))
    assert page.url.endswith("/controleren/met-code/"), page.url  # the result, with no code in the address


def fields_on_page(page: Any) -> dict[str, str]:
    cells = page.locator("td[data-path]")
    return {cells.nth(i).get_attribute("data-path"): cells.nth(i).inner_text().strip() for i in range(cells.count())}


@pytest.mark.parametrize(
    ("javascript", "width", "language"),
    [(True, 1280, "nl"), (True, 320, "en"), (False, 320, "nl"), (False, 1280, "en")],
    ids=["js-1280-nl", "js-320-en", "nojs-320-nl", "nojs-1280-en"],
)
def test_the_code_on_a_downloaded_pdf_opens_its_fields_in_the_browser(
    new_context, steps, demo_server, requested_urls, tmp_path, javascript, width, language
):
    context = new_context(java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page = context.new_page()
    steps.log_in(page, demo_server.bsns[0])
    steps.press_blue_button(page)
    paper = steps.download(page, tmp_path, "pdf", category="inkomen")
    text = pdf_text(paper)
    found = CODE_ON_PAPER.search(text)
    assert found, "the PDF shows no check code"
    code = found.group(1)
    assert f"/controleren/{code}/" in text, "the PDF does not print the code's own address"

    page.goto(demo_server.base_url + "/controleren/")
    if language != "nl":
        steps.submit(page, page.get_by_role("button", name=LANGUAGE_BUTTON[language], exact=True))
    check_by_code(page, steps, code)
    assert page.locator(".blauweknop-verdict--ok h2").inner_text().strip() == SHOWN[language]
    fields = fields_on_page(page)
    assert fields, "the code page shows no fields"
    axe_clean(page, javascript)
    assert page.locator("html").get_attribute("lang") == language
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the code page scrolls sideways"
    if language != "nl":  # the paper is in Dutch: compare the values in Dutch
        steps.submit(page, page.get_by_role("button", name=LANGUAGE_BUTTON["nl"], exact=True))
        assert page.url.endswith("/controleren/"), "the language switch did not lead back to the verify page"
        check_by_code(page, steps, code)
        assert set(fields_on_page(page)) == set(fields)
        fields = fields_on_page(page)
    for value in fields.values():
        assert value in text, f"{value!r} is on the page but not on the paper"
    assert not [url for url in requested_urls if code in url], "the typed code was sent to an address"
    assert code not in demo_server.log_text(), "the check code was logged"

    page.goto(demo_server.base_url + "/controleren/AAAA-AAAA-AAAA/")
    error = page.locator("#controlecode-fout")
    assert error.count() == 1 and page.locator("#id_controlecode").get_attribute("aria-invalid") == "true"
    axe_clean(page, javascript)
    assert demo_server.bsn_leaks(" ".join(requested_urls)) == [], "a BSN appeared in a URL"
