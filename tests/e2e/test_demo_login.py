"""The DigiD mock of the demo offers its citizens to pick from: one click logs in, no BSN typed (issue 8, item 9)."""

from __future__ import annotations

import pytest

from blauweknop.demo.showcase import examples

pytestmark = pytest.mark.e2e
BELASTING = "00000001003214345000"


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_picking_a_demo_citizen_logs_in_as_them(javascript, demo_server, new_context, steps):
    page = new_context(java_script_enabled=javascript, viewport={"width": 320, "height": 800}).new_page()
    page.goto(f"{demo_server.base_url}/inloggen/?next=/organisaties/{BELASTING}/")
    example = examples()[0]
    steps.submit(page, page.get_by_role("button", name=f"Inloggen als {example.name}"))
    assert page.url == f"{demo_server.base_url}/organisaties/{BELASTING}/"
    assert f"Ingelogd als {example.first_name}" in page.locator("header").inner_text()
    assert example.bsn not in page.url
