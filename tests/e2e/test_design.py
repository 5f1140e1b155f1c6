"""The shared look in a real browser (issue 8, items 1, 9 and 10), at 1280 and 320 CSS pixels, in Dutch and
English, with JavaScript on and off: the header fits the screen, the Blauwe Knop mark stays round (its box is
as wide as it is high, in the header and in the button), nothing scrolls sideways at 320 px, the header's links
and buttons look alike, the logged-in header leaves a 320 px screen to the page (it took 250 px), and axe
finds no WCAG violations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_accessibility import describe, snapshot

pytestmark = pytest.mark.e2e

WIDTHS = [1280, 320]
LANGUAGES = {"nl": "Nederlands", "en": "English"}
PUBLIC = ["/", "/hulp/", "/knop/"]
# What makes two header items look alike, as the browser computes it.
LOOK = """el => { const s = getComputedStyle(el);
    return [s.color, s.fontSize, s.fontFamily, s.fontWeight, s.textDecorationLine, s.backgroundColor].join(' | '); }"""


def assert_round(box: dict[str, float] | None, what: str) -> None:
    assert box is not None, f"{what} is not shown"
    assert box["width"] >= 24, f"{what} is smaller than 24 px: {box}"
    assert abs(box["width"] - box["height"]) < 0.5, f"{what} is squashed: {box['width']} x {box['height']}"


def assert_fits(page: Any, width: int) -> None:
    """Nothing sticks out to the right: no sideways scrolling, every header item inside the screen."""
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways at {width} px: {scroll_width} px wide"
    for item in page.locator("header a, header button, header span").all():
        if not item.is_visible():
            continue  # the tagline gives way on a small screen
        box = item.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (
            f"{item.inner_text()!r} sticks out of the header at {width} px: {box}"
        )


def assert_header_items_look_alike(page: Any) -> None:
    """Links and buttons in the header share one look (the current language is bold, as it should)."""
    items = page.locator("header .blauweknop-nav__action:not([aria-current])").all()
    looks = {item.inner_text(): item.evaluate(LOOK) for item in items}
    assert len(set(looks.values())) == 1, f"the header's items differ in style: {looks}"
    if not page.url.endswith("/hulp/"):  # there the help link is the current page, so bold
        assert {item.evaluate("el => el.tagName") for item in items} == {"A", "BUTTON"}, looks


def choose_language(page: Any, steps: Any, language: str) -> None:
    page.goto(steps.server.base_url + "/")
    steps.submit(page, page.get_by_role("button", name=LANGUAGES[language], exact=True))
    assert page.locator("html").get_attribute("lang") == language


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("width", WIDTHS)
def test_the_public_pages_keep_their_shape(new_context, steps, width, language, javascript):
    context = new_context(viewport={"width": width, "height": 800}, java_script_enabled=javascript)
    page = context.new_page()
    choose_language(page, steps, language)
    for path in PUBLIC:
        page.goto(steps.server.base_url + path)
        assert_round(page.locator("header img.blauweknop-mark").bounding_box(), f"the header's mark on {path}")
        assert_fits(page, width)
        assert_header_items_look_alike(page)
        favicon = page.locator("link[rel=icon]").get_attribute("href")
        assert page.request.get(steps.server.base_url + favicon).headers["content-type"].startswith("image/svg+xml")
        if path == "/knop/":
            assert_round(page.locator("main .blauweknop-button__mark").bounding_box(), "the button's mark")
        if javascript:  # axe runs in the page, so it needs JavaScript; the layout is the same without it
            violations = snapshot(page)["violations"]
            assert not violations, f"axe on {page.url} at {width} px:\n" + describe(violations)


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("width", WIDTHS)
def test_the_header_of_a_logged_in_citizen_fits_and_looks_alike(new_context, steps, demo_server, width, language):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    steps.log_in(page, demo_server.bsns[1])
    choose_language(page, steps, language)
    logged_in = {"nl": "Ingelogd", "en": "Logged in"}[language]
    assert page.locator("header .blauweknop-nav__text").inner_text().startswith(logged_in)
    for path in ["/", "/mijn-inzage/", "/hulp/"]:
        page.goto(demo_server.base_url + path)
        assert_round(page.locator("header img.blauweknop-mark").bounding_box(), f"the header's mark on {path}")
        assert_fits(page, width)
        assert_header_items_look_alike(page)
    violations = snapshot(page)["violations"]
    assert not violations, f"axe on {page.url} at {width} px:\n" + describe(violations)


def test_the_help_page_leads_to_checking_a_copy_and_organisations_to_the_button(new_context, steps):
    page = new_context(viewport={"width": 320, "height": 800}).new_page()
    page.goto(steps.server.base_url + "/")
    page.locator("header a[href='/hulp/']").click()
    page.wait_for_url("**/hulp/")
    page.get_by_role("link", name="Wie kunt u bellen?").first.click()
    assert page.url.endswith("/hulp/#bellen")
    page.locator("main a[href='/knop/']").click()
    page.wait_for_url("**/knop/")
    assert page.locator("footer a[href='/knop/']").count() == 0
    page.locator("main a[href='/hulp/#organisaties']").click()  # the way back
    page.wait_for_url("**/hulp/#organisaties")
    page.locator("main a[href='/controleren/']").click()
    page.wait_for_url("**/controleren/")


HEADER_LIMIT = 140  # px at 320 px wide: about a quarter of a small phone's screen, the rest is the page


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_it_refuses_a_logged_in_header_taller_than_140_px_at_320_px(new_context, steps, demo_server, language):
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    steps.log_in(page, demo_server.bsns[1])
    choose_language(page, steps, language)
    for path in ["/", "/mijn-inzage/", "/hulp/"]:
        page.goto(demo_server.base_url + path)
        height = page.locator("header").bounding_box()["height"]
        print(f"header at 320 px, {language}, {path}: {height:.0f} px")
        assert height < HEADER_LIMIT, f"the header on {path} takes {height:.0f} px of a 320 px wide screen"
        assert_fits(page, 320)


LONG_NAME = "Maximiliaan-Alexander"  # 21 characters: a long first name, as DigiD may give it
# A first name no header row holds: it is cut short, never pushes "Uitloggen" onto a row of its own.
NAMES = [LONG_NAME, "Wilhelmina-Theodora-Alexandrina-Maximiliana"]


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("name", NAMES, ids=["21-characters", "43-characters"])
def test_it_refuses_to_wrap_the_logged_in_header_at_1280_px_with_a_long_name(
    new_context, steps, demo_server, language, name
):
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    steps.log_in(page, demo_server.bsns[1])
    choose_language(page, steps, language)
    for path in ["/", "/mijn-inzage/", "/hulp/", "/kluis/"]:
        page.goto(demo_server.base_url + path)
        # The name as the server would render it for a citizen called so: the layout is the browser's own.
        page.locator("header .blauweknop-nav__text").evaluate(
            """(el, name) => { const last = (el.querySelector('.blauweknop-nav__name') || el).lastChild;
                last.textContent = last.textContent.replace(/\\S+$/, name); }""",
            name,
        )
        assert name in page.locator("header .blauweknop-nav__text").text_content()
        # The page links, the language and the account share one row under the mark and the name.
        tops = {
            item.inner_text(): round(item.bounding_box()["y"])
            for item in page.locator("header .blauweknop-nav__item").all()
        }
        print(f"header at 1280 px, {language}, {path}: {tops}")
        assert len(set(tops.values())) == 1, f"the header on {path} takes more than one row at 1280 px: {tops}"
        assert_fits(page, 1280)
