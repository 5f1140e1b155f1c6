"""The whole correction loop in a real browser, against the real demo server (issue 12).

A citizen asks Belastingkantoor Voorbeeldland to correct an amount of their income; its staff member logs in
with a password and a TOTP code, takes the request up and accepts it; the PDF the citizen downloaded before is
then shown as superseded on the verify page, and a new download carries the corrected value and verifies.

The citizen is one of the demo's 30 whom no other browser test logs in as: the demo server is shared, and
the correction changes the source for good.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from blauweknop.demo import first_run
from blauweknop.demo.citizens import DEFAULT_SEED, make_citizens
from blauweknop.demo.management.commands.seed_demo import HOLDER_STAFF, staff_login
from tests.e2e.conftest import CITIZENS
from tests.e2e.test_plus_browser import accessible, log_in_staff, submit

pytestmark = pytest.mark.e2e

BELASTINGKANTOOR = "00000001003214345000"
INCOME = "verzamelinkomenInCenten"
NEW_INCOME = "45.000,00"  # typed by the citizen, as people write an amount; shown back the same way


def _unused_citizen(demo_bsns: list[str]) -> str:
    """A seeded citizen no other browser test logs in as (every citizen has an income at the tax office)."""
    return next(c.bsn for c in reversed(make_citizens(DEFAULT_SEED, CITIZENS)) if c.bsn not in demo_bsns)


def _ask_for_correction(page: Any) -> str:
    """On the data page: 'Klopt dit niet?' next to the income, the form filled in and sent; the kenmerk."""
    page.locator(f"a[href*='veld={INCOME}']").click()
    page.wait_for_url(re.compile(r"/correctie/\?"))
    accessible(page)
    page.locator("#id_voorstel").fill(NEW_INCOME)
    page.locator("#id_toelichting").fill("Mijn inkomen was lager. Ik werkte een half jaar niet.")
    submit(page, page.get_by_role("button", name=re.compile("^Stuur naar")))
    assert page.locator("h1").inner_text() == "Uw verzoek is verstuurd", page.locator("main").inner_text()[:400]
    accessible(page)
    return page.locator("[data-kenmerk]").inner_text().strip()


def _accept(page: Any, reference: str) -> None:
    """As the holder's staff, from the queue: take the request up, accept the proposed value, confirm."""
    submit(page, page.get_by_role("link", name=reference, exact=True))
    accessible(page)
    assert "45.000,00" in page.locator("main").inner_text()  # the proposal, as the citizen typed it
    submit(page, page.get_by_role("button", name="In behandeling nemen"))
    submit(page, page.get_by_role("link", name="Aanpassen"))
    accessible(page)
    assert page.locator("#id_value").input_value() == NEW_INCOME  # prefilled with the proposal
    submit(page, page.get_by_role("button", name="Verder"))
    accessible(page)  # the confirm step: what will be written
    submit(page, page.get_by_role("button", name="Ja: Gegevens aanpassen"))
    accessible(page)


def test_a_correction_accepted_by_staff_supersedes_the_old_pdf_and_the_new_copy_has_the_new_value(
    demo_server, new_context, steps, tmp_path
):
    server, bsn = demo_server.base_url, _unused_citizen(demo_server.bsns)
    citizen = new_context().new_page()
    steps.log_in(citizen, bsn)
    steps.press_blue_button(citizen)
    old_pdf = steps.download(citizen, tmp_path, "pdf", "inkomen")
    verdict, fields = steps.verify(citizen, old_pdf)
    assert citizen.locator(".blauweknop-verdict--ok").count() == 1, verdict
    assert NEW_INCOME not in fields[INCOME]

    steps.open_organisation(citizen, "Belastingkantoor Voorbeeldland")
    steps.press_blue_button(citizen)
    reference = _ask_for_correction(citizen)

    secret_key = first_run.secret_path(demo_server.data_dir, "DJANGO_SECRET_KEY").read_text().strip()
    password, totp_key = staff_login(secret_key, f"holder:{BELASTINGKANTOOR}")
    staff = new_context().new_page()
    staff.goto(server + "/gegevenshouder/beheer/")
    assert "/gegevenshouder/beheer/inloggen/?next=" in staff.url, staff.url
    log_in_staff(staff, server, "/gegevenshouder/beheer/", HOLDER_STAFF[BELASTINGKANTOOR], password, totp_key)
    _accept(staff, reference)

    verdict, _ = steps.verify(citizen, old_pdf)
    assert "Vervangen door nieuwere gegevens" in verdict, verdict

    steps.open_organisation(citizen, "Belastingkantoor Voorbeeldland")
    steps.press_blue_button(citizen)
    (later := tmp_path / "na-de-correctie").mkdir()
    new_pdf = steps.download(citizen, later, "pdf", "inkomen")
    verdict, fields = steps.verify(citizen, new_pdf)
    assert citizen.locator(".blauweknop-verdict--ok").count() == 1, verdict
    assert fields[INCOME] == f"€ {NEW_INCOME}", fields

    citizen.goto(server + "/correctieverzoeken/")
    accessible(citizen)
    assert citizen.locator(f"section[data-kenmerk='{reference}']").get_attribute("data-status") == "aangepast"
