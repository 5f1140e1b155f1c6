"""Old copies in a real browser, at 1280 and 320 px, in Dutch and English, axe clean (issue 12 review).

The verify page says who made a superseded or expired copy and when, and what a citizen does with their own;
the wallet labels its column 'Nu geldig?' also stacked on a phone and marks an old copy by more than bold text;
the data page's 'Klopt dit niet?' links are targets of at least 24 by 24 px.

The copy is superseded as a registry does it: a raw UPDATE of the source table in the demo's own database, then
one run of the holder's publish task. The citizen is one of the demo's 30 whom no other browser test logs in as.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blauweknop.demo.citizens import DEFAULT_SEED, make_citizens
from tests.deployments import run_python

from .conftest import CITIZENS, SCREENSHOTS, server_env
from .test_accessibility import describe, snapshot

pytestmark = pytest.mark.e2e

TAX_OFFICE = "00000001003214345000"
SHOTS = "test_old_copies_say_who_made_them_and_stand_out_and_the_correction_links_are_big_enough"
SUPERSEDE = (
    "from tests.portal.superseding import change_at_source; change_at_source({oin!r}, {bsn!r}); print('changed')"
)
EXPIRED = """
from datetime import timedelta
from asgiref.sync import async_to_sync
from django.utils import timezone
from blauweknop import document_types, keystore
from blauweknop.protocol import sdjwt_vc
from blauweknop.scheme.client import scheme_client
scheme = async_to_sync(scheme_client.current)()
credential = sdjwt_vc.issue(
    {{"belastingjaar": 2025}}, keystore.signing_key({oin!r}), iss=scheme.organisations[{oin!r}].endpoints["issuer"],
    vct=document_types.of(scheme).get("inkomen").vct, valid_for=24 * 3600,
    now=int((timezone.now() - timedelta(days=3)).timestamp()),
)
print(sdjwt_vc.present(credential, ["belastingjaar"]))
"""


def _citizen(demo_bsns: list[str]) -> str:
    """A seeded citizen no other browser test logs in as (the correction loop takes the last unused one)."""
    unused = [c.bsn for c in reversed(make_citizens(DEFAULT_SEED, CITIZENS)) if c.bsn not in demo_bsns]
    return unused[1]


def _shell(demo_server: Any, code: str) -> str:
    """Run ``code`` in Django's shell on the demo's own data; the last line it printed."""
    env = server_env(demo_server.data_dir, int(demo_server.base_url.rsplit(":", 1)[1]))
    return run_python(env, "manage.py", "shell", "-c", code).strip().splitlines()[-1]


def _fits(page: Any, width: int, what: str) -> None:
    """axe finds nothing, and nothing is wider than the window."""
    violations = snapshot(page)["violations"]
    assert not violations, f"axe on {what} at {width} px:\n" + describe(violations)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{what} scrolls sideways at {width} px"


def _check(page: Any, server: str, copy: Path) -> Any:
    page.goto(server + "/controleren/")
    page.locator("#id_bestand").set_input_files(copy)
    with page.expect_navigation():
        page.locator("form[action='/controleren/'] button[type=submit]").click()
    return page.locator(".blauweknop-verdict")


def test_old_copies_say_who_made_them_and_stand_out_and_the_correction_links_are_big_enough(
    demo_server, new_context, steps, tmp_path
):
    server, bsn = demo_server.base_url, _citizen(demo_server.bsns)
    context = new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    steps.log_in(page, bsn)
    steps.press_blue_button(page)
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        links = page.locator("p.blauweknop-correct > a")
        assert links.count() > 0
        for n in range(links.count()):
            box = links.nth(n).bounding_box()
            assert box is not None and box["height"] >= 24 and box["width"] >= 24, f"link {n} at {width} px: {box}"
        _fits(page, width, "the data page")
        page.screenshot(
            path=SCREENSHOTS / SHOTS / f"data-page-{width}.png", full_page=True
        )  # no load: no shot of its own
    old_pdf = steps.download(page, tmp_path, "pdf", "inkomen")
    with page.expect_navigation():
        page.get_by_role("button", name="Bewaar in mijn kluis").click()

    assert _shell(demo_server, SUPERSEDE.format(oin=TAX_OFFICE, bsn=bsn)) == "changed"
    (expired := tmp_path / "verlopen.sdjwt").write_text(_shell(demo_server, EXPIRED.format(oin=TAX_OFFICE)))

    for width, language in ((1280, "nl"), (320, "en")):
        english = language == "en"
        context.add_cookies([{"name": "django_language", "value": language, "url": server}])
        page.set_viewport_size({"width": width, "height": 900})
        verdict = _check(page, server, old_pdf)
        assert verdict.get_attribute("data-verdict") == "superseded"
        made_by = verdict.locator("[data-made-by]").inner_text()
        assert made_by.startswith(
            "From: Belastingkantoor Voorbeeldland · Made on "
            if english
            else "Van: Belastingkantoor Voorbeeldland · Gemaakt op "
        )
        assert verdict.locator("[data-valid-until]").count() == 0
        own = "Is this your own copy?" if english else "Is dit uw eigen kopie?"
        assert own in verdict.locator("[data-next-step]").inner_text()
        _fits(page, width, "a superseded copy on the verify page")

        verdict = _check(page, server, expired)
        assert verdict.get_attribute("data-verdict") == "expired"
        assert verdict.locator("[data-made-by]").is_visible() and verdict.locator("[data-valid-until]").is_visible()
        _fits(page, width, "an expired copy on the verify page")

        page.goto(server + "/kluis/")
        row = page.locator("tr[data-staat='vervangen']")
        assert row.count() == 1
        cell = row.locator("td.blauweknop-vault__state")
        label = "Valid now?" if english else "Nu geldig?"
        assert cell.get_attribute("data-label") == label
        if width == 320:  # stacked: the label above the words, no colon after its question mark
            assert cell.evaluate("cell => getComputedStyle(cell, '::before').content") == f'"{label} "'
        mark = cell.locator(".blauweknop-old-copy")
        assert mark.is_visible()
        assert '"!"' in mark.evaluate("m => getComputedStyle(m, '::before').content")
        assert mark.evaluate("m => getComputedStyle(m).borderInlineStartWidth") == "4px"
        assert page.locator("tr[data-staat='geldig'] .blauweknop-old-copy").count() == 0
        _fits(page, width, "the vault with a superseded copy")
