"""The Basis flow with the keyboard alone: a skip link first, focus always visible, every step reachable."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {tag: el.tagName, text: (el.innerText || el.value || '').trim(), type: el.type || '',
            outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0};
}"""


def tab_to(page: Any, wanted: Any, limit: int = 80) -> dict[str, Any]:
    """Press Tab until ``wanted(focused)`` holds; every stop on the way must show where focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outline"] != "none" and focused["outlineWidth"] >= 2, f"focus is invisible on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError("the keyboard never reached the element")


def test_the_flow_works_with_the_keyboard_alone(demo_server, new_context, steps):
    page = new_context().new_page()
    page.goto(demo_server.base_url + "/")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert first["text"] == "Naar de inhoud", "the first Tab must reach the skip link"
    assert page.locator(".utrecht-skip-link").bounding_box()["height"] > 0, "the skip link stays hidden on focus"

    steps.log_in(page, demo_server.bsns[0])
    tab_to(page, lambda f: f["text"] == "Blauwe Knop: mijn gegevens")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/gegevens/")

    tab_to(page, lambda f: f["type"] == "checkbox")
    ticked = page.evaluate("document.activeElement.checked")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") is not ticked, "Space must (un)tick the focused field"
    tab_to(page, lambda f: f["text"].startswith("Download om digitaal in te leveren"))
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert info.value.suggested_filename.endswith(".sdjwt")
