"""A copy names whom it is about: someone else's income copy is told apart on the verify page, in a real browser
(issue 8, item 3). The owner downloads with the data page's default ticks; a receiver checks the file it was handed."""

from __future__ import annotations

import pytest
from django.utils import translation

from blauweknop.demo.citizens import DEFAULT_SEED, make_citizens
from blauweknop.display import format_value

from .conftest import CITIZENS

pytestmark = pytest.mark.e2e


def _who(bsn: str, language: str) -> dict[str, str]:
    """The name and date of birth of the demo citizen ``bsn`` as the verify page shows them, by claim path."""
    citizen = next(c for c in make_citizens(DEFAULT_SEED, CITIZENS) if c.bsn == bsn)
    income = citizen.documents[("belastingkantoor", "inkomen")]
    with translation.override(language):
        born = format_value("date", income["geboorte"]["datum"])
    return {
        "naam.voornamen": income["naam"]["voornamen"],
        "naam.geslachtsnaam": income["naam"]["geslachtsnaam"],
        "geboorte.datum": born,
    }


@pytest.mark.parametrize(
    ("javascript", "width", "language"),
    [(True, 1280, "nl"), (False, 320, "en")],
    ids=["javascript-1280-nl", "no-javascript-320-en"],
)
def test_someone_elses_income_copy_names_its_owner_on_the_verify_page(
    javascript, width, language, demo_server, new_context, steps, tmp_path
):
    owner, presenter = demo_server.bsns[:2]
    citizen = new_context(java_script_enabled=javascript).new_page()
    steps.log_in(citizen, owner)
    steps.press_blue_button(citizen)
    copy = steps.download(citizen, tmp_path, "sdjwt", "inkomen")

    # The presenter hands in the owner's file; the receiver checks it, in their own language and on a phone.
    size = {"width": width, "height": 800}
    receiving = new_context(java_script_enabled=javascript, viewport=size)
    receiving.add_cookies([{"name": "django_language", "value": language, "url": demo_server.base_url}])
    receiver = receiving.new_page()
    verdict, fields = steps.verify(receiver, copy)
    assert receiver.locator("html").get_attribute("lang") == language
    assert "Belastingkantoor Voorbeeldland" in verdict
    owners, presenters = _who(owner, language), _who(presenter, language)
    assert {path: fields.get(path) for path in owners} == owners
    assert presenters["naam.geslachtsnaam"] not in fields.values() or presenters == owners
    assert "burgerservicenummer" not in fields, "the BSN is shared only when the citizen ticks it"
    width_shown = receiver.evaluate("document.documentElement.scrollWidth")
    assert width_shown <= width, f"the verify page is {width_shown} px wide at {width} px"
