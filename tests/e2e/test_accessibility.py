"""Accessibility of every page of the Basis flow, in Dutch and in English (axe-core, WCAG 2.2 AA),
English pages that are really in English, and reflow at 320 CSS pixels (WCAG 1.4.10).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = {"nl": "Nederlands", "en": "English"}  # the language buttons' labels (name_local)
PAGES = [
    "home",
    "login",
    "login-error",
    "organisation",
    "data",
    "verify",
    "verify-result",
    "verify-refused",
    "too-large",
    "access-log",
    "help",
    "button",
    "not-found",
    "outage",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """async (tags) => {
    const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
    return results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
    }));
}"""
HOLDER = "Belastingkantoor Voorbeeldland"
NOT_A_BSN = "123456789"  # fails the eleven test: the login page shows its error
BILINGUAL = {"too-large"}  # answered before Django chooses a language, so in Dutch and English at once
TOO_LARGE = 3 * 1024 * 1024  # over the 2 MB a request body may have (blauweknop.limits)


def snapshot(page: Any) -> dict[str, Any]:
    """What the tests need to know about the page on screen: axe's violations, its language, its h1."""
    assert AXE.exists(), f"{AXE} is missing: run npm ci"
    # Run through the browser's debugging protocol: the site's CSP (rightly) refuses an inline <script>.
    page.evaluate("() => {\n" + AXE.read_text() + "\n}")
    return {
        "url": page.url,
        "violations": page.evaluate(AXE_RUN, AXE_TAGS),
        "lang": page.locator("html").get_attribute("lang"),
        "h1": [h.strip() for h in page.locator("h1").all_inner_texts()],
    }


def walk(
    context: Any, steps: Any, language: str, bsn: str, downloads: Path, outage_url: str
) -> dict[str, dict[str, Any]]:
    """Every page of the flow in one language, chosen with the site's own language buttons."""
    seen = {}
    page = context.new_page()
    page.goto(steps.server.base_url + "/")
    steps.submit(page, page.get_by_role("button", name=LANGUAGES[language], exact=True))
    assert page.locator("html").get_attribute("lang") == language, f"the {LANGUAGES[language]} button did nothing"
    # Each organisation's name on a line of its own, its description under it (not run on as one sentence).
    link, item = page.get_by_role("link", name=HOLDER, exact=True), page.locator("li", has_text=HOLDER)
    assert item.bounding_box()["height"] > 1.5 * link.bounding_box()["height"], "the description runs on after the name"
    seen["home"] = snapshot(page)

    page.get_by_role("link", name=HOLDER, exact=True).click()
    page.wait_for_url(re.compile(r"/inloggen/\?next="))
    seen["login"] = snapshot(page)

    login_button = page.locator("form[action^='/inloggen/'] button[type=submit]")
    page.locator("#id_bsn").fill(NOT_A_BSN)
    steps.submit(page, login_button)
    assert page.locator("#id_bsn[aria-invalid=true]").count() == 1, "the login page shows no error"
    # Nine digits that fail the eleven test: the error must not send the citizen off counting digits.
    error = page.locator("#bsn-fout").inner_text()
    assert {"nl": "Kijk elk cijfer na", "en": "Check every digit"}[language] in error, error
    seen["login-error"] = snapshot(page)

    page.locator("#id_bsn").fill(bsn)
    steps.submit(page, login_button)
    assert "/organisaties/" in page.url
    seen["organisation"] = snapshot(page)

    steps.press_blue_button(page)
    assert page.locator("input[type=checkbox][name^=veld-]").count() > 0, "the data page shows no data"
    seen["data"] = snapshot(page)

    with page.expect_download() as info:
        page.locator("button[name=download][value$=sdjwt]").first.click()
    copy = downloads / f"{language}.sdjwt"
    info.value.save_as(copy)

    page.locator("footer a[href='/controleren/']").click()
    page.wait_for_url("**/controleren/")
    seen["verify"] = snapshot(page)

    page.locator("#id_bestand").set_input_files(copy)
    steps.submit(page, page.locator("form[action='/controleren/'] button[type=submit]"))
    assert page.locator(".blauweknop-verdict--ok").count() == 1, "the verify page shows no positive result"
    seen["verify-result"] = snapshot(page)

    # A copy with one character changed: refused, and the page says whom to ask next.
    text = copy.read_text().strip()
    tampered = downloads / f"{language}-tampered.sdjwt"
    tampered.write_text(text[:40] + ("A" if text[40] != "A" else "B") + text[41:])
    page.locator("#id_bestand").set_input_files(tampered)
    steps.submit(page, page.locator("form[action='/controleren/'] button[type=submit]"))
    assert page.locator(".blauweknop-verdict--bad [data-next-step]").count() == 1, "a refused copy says no next step"
    seen["verify-refused"] = snapshot(page)

    too_large = downloads / "too-large.pdf"
    too_large.write_bytes(b"%PDF-1.7\n" + b"0" * TOO_LARGE)
    page.locator("#id_bestand").set_input_files(too_large)
    steps.submit(page, page.locator("form[action='/controleren/'] button[type=submit]"))
    assert page.locator("h1").inner_text() == "Dit is te groot", "a too large upload does not get the 413 page"
    assert "Vraag wie u het bestand gaf" in page.locator("main").inner_text(), "the 413 page says no one to ask"
    seen["too-large"] = snapshot(page)
    page.goto(steps.server.base_url + "/controleren/")

    page.locator("header a[href='/mijn-inzage/']").click()
    page.wait_for_url("**/mijn-inzage/")
    assert page.locator("table tbody tr").count() > 0, "the access log does not list the fetches just made"
    seen["access-log"] = snapshot(page)

    page.locator("header a[href='/hulp/']").click()
    page.wait_for_url("**/hulp/")
    seen["help"] = snapshot(page)

    page.locator("main a[href='/knop/']").click()  # for organisations: linked from the help page only
    page.wait_for_url("**/knop/")
    seen["button"] = snapshot(page)

    page.goto(steps.server.base_url + "/deze-pagina-is-er-niet/")
    seen["not-found"] = snapshot(page)

    answer = page.goto(outage_url + "/")  # same host, so the language cookie holds there too
    assert answer.status == 503, f"the home page without a scheme operator answers {answer.status}"
    seen["outage"] = snapshot(page)
    return seen


@pytest.fixture(scope="module")
def pages(open_context, demo_server, outage_url, steps, tmp_path_factory) -> dict[tuple[str, str], dict[str, Any]]:
    """Every page of the flow in both languages, walked once per language in a fresh context."""
    downloads = tmp_path_factory.mktemp("a11y-downloads")
    found = {}
    for language in LANGUAGES:
        with open_context(f"accessibility-{language}") as context:
            for name, snap in walk(context, steps, language, demo_server.bsns[2], downloads, outage_url).items():
                found[language, name] = snap
    return found


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("name", PAGES)
def test_accessibility(pages, language, name):
    snap = pages[language, name]
    violations = snap["violations"]
    assert not violations, f"axe found {len(violations)} WCAG violations on {snap['url']} ({language}):\n" + describe(
        violations
    )


@pytest.mark.parametrize("name", [name for name in PAGES if name not in BILINGUAL])
def test_english_page_is_in_english(pages, name):
    english, dutch = pages["en", name], pages["nl", name]
    assert english["lang"] == "en", f"{english['url']} in English has <html lang={english['lang']!r}>"
    assert dutch["lang"] == "nl", f"{dutch['url']} in Dutch has <html lang={dutch['lang']!r}>"
    assert len(english["h1"]) == 1, f"expected one h1 on {english['url']}, found {english['h1']}"
    assert english["h1"] != dutch["h1"], f"the English page {english['url']} still has the Dutch heading {dutch['h1']}"


@pytest.mark.parametrize("name", ["home", "data", "verify-error", "access-log"])
def test_no_horizontal_scrolling_at_320_css_pixels(name, demo_server, new_context, steps):
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    if name == "home":
        page.goto(demo_server.base_url + "/")
    elif name == "verify-error":  # no file chosen: the file field shows its error beside a red border
        page.goto(demo_server.base_url + "/controleren/")
        steps.submit(page, page.locator("form[action='/controleren/'] button[type=submit]"))
        assert page.locator("#id_bestand[aria-invalid=true]").count() == 1
    else:
        steps.log_in(page, demo_server.bsns[0])
        steps.press_blue_button(page)
    if name == "access-log":  # five columns: each must stay wide enough to show whole words
        page.goto(demo_server.base_url + "/mijn-inzage/")
        cells = page.evaluate("() => [...document.querySelectorAll('td')].map(td => td.clientWidth)")
        assert cells, "the access log lists nothing after the Blauwe Knop was pressed"
        narrowest = min(cells)
        assert narrowest >= 160, f"a cell of the access log is {narrowest} px wide at 320 px: words break into letters"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 321)
            .slice(0, 10).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
    )
    assert widths[0] <= 320 + 1, f"{page.url} scrolls sideways at 320 px: scrollWidth {widths[0]}; too wide: {too_wide}"
