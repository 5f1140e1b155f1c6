"""The debt overview in a real browser: after Mijn overzicht, every debt on one page that axe finds no fault in,
in Dutch and English, that does not scroll sideways at 320 CSS pixels, and that prints without header or forms."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.e2e.test_accessibility import describe, snapshot

pytestmark = pytest.mark.e2e


def _debts_page(demo_server, new_context, steps, **options):
    page = new_context(**options).new_page()
    steps.log_in(page, demo_server.bsns[0])
    page.goto(demo_server.base_url + "/overzicht/")  # asks every organisation, then shows what they said
    page.wait_for_load_state("load")
    page.goto(demo_server.base_url + "/overzicht/schulden/")
    assert page.locator(".blauweknop-debt").count() > 0, "the demo citizen's debt overview lists no debts"
    return page


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_debt_overview_and_its_print_view_have_no_accessibility_faults(language, demo_server, new_context, steps):
    page = _debts_page(demo_server, new_context, steps)
    if language == "en":
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "All your debts together"
    for url in (page.url, page.url.split("?")[0] + "?weergave=afdrukken&sorteer=bedrag"):
        page.goto(url)
        snap = snapshot(page)
        assert not snap["violations"], f"axe on {url} ({language}):\n" + describe(snap["violations"])
        assert snap["lang"] == language


def test_the_debt_overview_does_not_scroll_sideways_at_320_css_pixels(demo_server, new_context, steps):
    page = _debts_page(demo_server, new_context, steps, viewport={"width": 320, "height": 640})
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 321)
            .slice(0, 10).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
    )
    assert widths[0] <= 320 + 1, f"the debt overview scrolls sideways at 320 px: {widths[0]}; too wide: {too_wide}"


def test_on_paper_only_the_overview_shows(demo_server, new_context, steps):
    page = _debts_page(demo_server, new_context, steps)
    page.emulate_media(media="print")
    assert not page.locator("header").is_visible() and not page.locator("form.blauweknop-debt-choice").is_visible()
    assert page.locator(".blauweknop-debt").first.is_visible()


def test_a_choice_shows_its_arrow_and_an_account_number_stays_on_one_line_at_320_css_pixels(
    demo_server, new_context, steps
):
    page = _debts_page(demo_server, new_context, steps, viewport={"width": 320, "height": 640})
    arrows = page.locator("select").evaluate_all("es => es.map(e => getComputedStyle(e).backgroundImage)")
    assert arrows and all(a.startswith(f'url("{demo_server.base_url}/static/') for a in arrows), arrows
    for arrow in set(arrows):  # drawn by the components instead of the browser's; a data: URL the CSP would block
        drawn = page.request.get(arrow[len('url("') : -len('")')])
        assert drawn.ok and drawn.headers["content-type"].startswith("image/svg+xml")
    accounts = page.locator(".blauweknop-iban")
    assert accounts.count() > 0, "the demo citizen's debts say nowhere how to pay"
    lines = accounts.evaluate_all("es => es.map(e => e.getClientRects().length)")
    assert lines == [1] * len(lines), f"an account number wraps at 320 px: {lines}"


def test_a_printed_sheet_holds_more_than_two_debts(demo_server, new_context, steps, tmp_path):
    page = _debts_page(demo_server, new_context, steps)
    page.goto(page.url + "?weergave=afdrukken")
    cards = page.locator(".blauweknop-debt").count()
    (tmp_path / "printed.pdf").write_bytes(page.pdf(format="A4"))
    info = subprocess.run([shutil.which("pdfinfo"), str(tmp_path / "printed.pdf")], capture_output=True, text=True)
    sheets = int(re.search(r"^Pages:\s+(\d+)$", info.stdout, re.M).group(1))
    assert cards / sheets > 2, f"{cards} debts on {sheets} A4 sheets"
