"""The data page in a real browser, with JavaScript on and off, at 1280 and 320 px, in Dutch and English:
sections that fold, the total still owed, "te laat sinds", a debt named by its reference, unticking a whole
debt (said beside its box, also when its fields keep their ticks), choices that survive an error and the
language switch, a double click that gives one download, and an error shown in the section whose button
was pressed, where the page opens.
"""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from blauweknop.demo.citizens import make_citizens
from blauweknop.demo.organisations import ORGANISATIONS

from .conftest import CITIZENS

pytestmark = pytest.mark.e2e

WORDS = {
    "nl": {
        "switch": "English",
        "total": "Totaal nog te betalen",
        "late": "te laat sinds",
        "none": "Kies minstens één",
        "left out": "Dit onderdeel komt niet in uw bestand.",
    },
    "en": {
        "switch": "Nederlands",
        "total": "Total still to pay",
        "late": "late since",
        "none": "Choose at least one",
        "left out": "This part does not go into your file.",
    },
}
WIDTHS = {"1280": {"width": 1280, "height": 900}, "320": {"width": 320, "height": 640}}


def _debtor() -> tuple[str, str, list[dict[str, Any]]]:
    """A demo citizen with two or more debts at one holder, one of them late: BSN, holder name, debts."""
    names = {o["slug"]: o["name"] for o in ORGANISATIONS}
    today = date.today()
    for citizen in make_citizens(count=CITIZENS):
        for (slug, type_id), document in sorted(citizen.documents.items()):
            debts = document.get("vorderingen", []) if type_id == "vorderingen" else []
            late = [d for d in debts if date.fromisoformat(d["vervaldatum"]) < today and d["openstaandBedragInCenten"]]
            if len(debts) >= 2 and late:
                return citizen.bsn, names[slug], debts
    pytest.fail("no demo citizen has two debts at one holder, one of them late")


def _euros(cents: int, language: str) -> str:
    whole, rest = f"{Decimal(cents) / 100:,.2f}".split(".")
    return "€ " + (f"{whole.replace(',', '.')},{rest}" if language == "nl" else f"{whole}.{rest}")


def _boxes(page: Any, selector: str) -> list[bool]:
    boxes = page.locator(selector)
    return [boxes.nth(i).is_checked() for i in range(boxes.count())]


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_data_page_keeps_every_choice_and_gives_one_download_per_click(
    new_context, steps, tmp_path, javascript, width, language
):
    bsn, holder, debts = _debtor()
    page = new_context(java_script_enabled=javascript, viewport=WIDTHS[width]).new_page()
    steps.log_in(page, bsn, organisation=holder)
    if language == "en":
        steps.submit(page, page.get_by_role("button", name="English"))
    steps.press_blue_button(page)
    words = WORDS[language]

    debts_section = page.locator("details[data-documentsoort=vorderingen]")
    assert debts_section.get_attribute("open") is not None, "every category starts open"
    owed = sum(d["openstaandBedragInCenten"] for d in debts)
    assert f"{words['total']}: {_euros(owed, language)}" in debts_section.inner_text()
    today = date.today()
    late = [d for d in debts if date.fromisoformat(d["vervaldatum"]) < today and d["openstaandBedragInCenten"]]
    assert debts_section.get_by_text(words["late"]).count() == len(late)

    # The section folds and unfolds, also without JavaScript (details/summary).
    first_field = debts_section.locator("input[name=veld-vorderingen]").first
    debts_section.locator("summary").click()
    assert not first_field.is_visible(), "a folded category hides its fields"
    debts_section.locator("summary").click()
    assert first_field.is_visible()

    # Untick the first debt as a whole: with JavaScript its fields follow at once; without, the server leaves them out.
    item_fields = "input[name=veld-vorderingen][value^='vorderingen.0.']"
    first_item = debts_section.locator(".blauweknop-item__box").first
    assert debts[0]["kenmerk"] in first_item.locator("label").inner_text(), "a debt is named by its reference"
    left_out = first_item.get_by_text(words["left out"])
    assert not left_out.is_visible()
    debts_section.locator("input[name=onderdeel-vorderingen][value='1']").uncheck()
    assert not any(_boxes(page, item_fields)) if javascript else all(_boxes(page, item_fields))
    assert left_out.is_visible(), "beside the box: nothing of this debt goes into the file, whatever shows ticked"
    other = page.locator("details[data-documentsoort]:not([data-documentsoort=vorderingen]) input[name^=veld-]:checked")
    other_id = other.first.get_attribute("id")
    page.locator(f"[id='{other_id}']").uncheck()

    # The language switch sends the choices along.
    steps.submit(page, page.get_by_role("button", name=words["switch"]))
    language = "en" if language == "nl" else "nl"
    words = WORDS[language]
    assert page.locator("html").get_attribute("lang") == language
    assert not page.locator("input[name=onderdeel-vorderingen][value='1']").is_checked()
    assert not any(_boxes(page, item_fields)), "the unticked debt stays left out after the switch"
    assert not page.locator(f"[id='{other_id}']").is_checked(), "an unticked field stays unticked after the switch"

    # A double click on a download gives one file, with the first debt left out.
    downloads: list[Any] = []
    page.on("download", lambda download: downloads.append(download))
    button = page.locator("button[name=download][value='vorderingen:json']")
    button.dblclick()
    deadline = time.monotonic() + 10
    while not downloads and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.wait_for_timeout(1500)  # room for a second file, if the click were sent twice
    assert len(downloads) == 1, f"a double click gave {len(downloads)} downloads"
    # A tired hand clicks once more, after the file came: the same form within seconds gives no second file
    # (the script ignores the click; without it, the server answers 204 and the browser stays on the page).
    button.click()
    page.wait_for_timeout(1500)
    assert len(downloads) == 1, "a second click moments later gave a second file"
    path = tmp_path / "debts.json"
    downloads[0].save_as(path)
    kept = [d["kenmerk"] for d in json.loads(path.read_text())["vorderingen"]]
    assert kept == [d["kenmerk"] for d in debts[1:]]

    # An error (nothing chosen in a category) keeps every choice, too.
    other_section = page.locator("details[data-documentsoort]:not([data-documentsoort=vorderingen])").first
    ticked = other_section.locator("input[name^=veld-]:checked")
    while ticked.count():
        ticked.first.uncheck()
    steps.submit(page, other_section.locator("button[name=download][value$=':csv']"))
    alert = other_section.locator("[role=alert]")
    assert words["none"] in alert.inner_text() and other_section.locator("h2").inner_text() in alert.inner_text()
    assert page.url.endswith(f"#soort-{other_section.get_attribute('data-documentsoort')}")
    expect(alert).to_be_in_viewport()  # the page opens at the section whose button was pressed
    assert not any(_boxes(page, item_fields)), "the unticked debt stays left out after an error"
    assert not page.locator("input[name=onderdeel-vorderingen][value='1']").is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"], "no sideways scrolling"
