"""Mijn overzicht in a real browser (issue 9, must be shown): one holder stopped and one answering after the
timeout. The other organisations show their data, the stopped and the slow one say so in plain words, and the
page is complete within the timeout plus a small margin, with JavaScript on and off. Also over plain HTTP: the
page arrives part by part through the whole middleware stack, the first organisations long before the slow one.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deployments import free_port, run_python, start_uvicorn, stop_process, wait_until_up
from tests.e2e.conftest import SCHEME_DOCUMENT, SCREENSHOTS, DemoServer, server_env
from tests.e2e.test_accessibility import describe, snapshot
from tests.portal.stand_in import Answering, serving

pytestmark = pytest.mark.e2e

TIMEOUT = 2  # seconds: the overview's timeout on the server under test (BLAUWEKNOP_OVERVIEW_TIMEOUT)
MARGIN = 1.5  # seconds on top of it for the page's own work on a busy 2-core machine
SLOW = 3 * TIMEOUT  # the slow holder answers long after the overview gave up on it
STOPPED = "00000001579573023000"  # Wegenbelastingdienst Voorbeeldland: at a port nothing listens on
LATE = "00000001005660336000"  # Rijksincasso Alimentatie: behind a stand-in that answers after SLOW seconds
UNREACHABLE = "is nu niet bereikbaar. Probeer het later nog eens."
END = "#overzicht-einde"

MOVE = """
import json, sys
from django.core.cache import cache
from blauweknop.scheme import publication
from blauweknop.scheme.models import Organisation
moves = json.loads(sys.argv[-1])
before = dict(Organisation.objects.filter(oin__in=moves).values_list("oin", "base_url"))
for oin, url in moves.items():
    Organisation.objects.filter(oin=oin).update(base_url=url)
publication.publish()
cache.clear()  # every process takes the new document at once, not after its refresh time
print(json.dumps(before))
"""


class _Late(Answering):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(SLOW)
        with contextlib.suppress(OSError):  # the portal stopped waiting long ago
            self.answer(503, "application/problem+json", b'{"code": "busy"}')


def _move(demo_server: DemoServer, moves: dict[str, str]) -> dict[str, str]:
    """Publish holders at other addresses in the demo's own database; their addresses before."""
    env = server_env(demo_server.data_dir, int(demo_server.base_url.rsplit(":", 1)[1]))
    code = MOVE.replace("sys.argv[-1]", repr(json.dumps(moves)))
    return json.loads(run_python(env, "manage.py", "shell", "-c", code).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def overview_server(demo_server: DemoServer) -> Iterator[str]:
    """A second web process on the demo's data with a short overview timeout, while two holders fail; its URL."""
    with serving(_Late) as late:
        before = _move(
            demo_server, {STOPPED: f"http://127.0.0.1:{free_port()}", LATE: f"http://127.0.0.1:{late.server_port}"}
        )
        port = free_port()
        env = {
            **server_env(demo_server.data_dir, port),
            "BLAUWEKNOP_OVERVIEW_TIMEOUT": str(TIMEOUT),
            # Asked every time, however often they failed: the circuit breaker has tests of its own.
            "BLAUWEKNOP_BREAKER_FAILURES": "1000",
            "BLAUWEKNOP_SCHEME_URL": demo_server.base_url + "/stelsel",
        }
        process = start_uvicorn(env, port, demo_server.log)
        try:
            assert wait_until_up(process, f"http://127.0.0.1:{port}{SCHEME_DOCUMENT}"), demo_server.log_text()[-4000:]
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(process)
            _move(demo_server, before)  # the other browser tests find every holder where it was


def _complete(page: Any, started: float, shot: Path | None = None) -> tuple[float, float]:
    """Seconds from ``started`` until the first organisation's section and until the end of the page arrived.

    While the slow holder is still awaited, the page shows what came in and says it is busy (saved to ``shot``).
    """
    page.wait_for_selector("main section[data-oin]", state="attached")
    first = time.monotonic() - started
    if shot is not None and first < TIMEOUT / 2:
        assert page.locator(END).count() == 0 and page.locator(".blauweknop-overview__busy").is_visible()
        page.screenshot(path=shot, full_page=True)
    page.wait_for_selector(END, state="attached", timeout=(TIMEOUT + 10) * 1000)
    return first, time.monotonic() - started


def _sections(page: Any) -> dict[str, tuple[str, str]]:
    found = page.locator("main section[data-oin]")
    return {
        found.nth(i).get_attribute("data-oin"): (
            found.nth(i).get_attribute("data-uitkomst"),
            " ".join(found.nth(i).inner_text().split()),
        )
        for i in range(found.count())
    }


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_overview_shows_every_source_and_is_complete_within_the_timeout(
    new_context, demo_server, overview_server, javascript
):
    context = new_context(viewport={"width": 320, "height": 800}, java_script_enabled=javascript)
    page = context.new_page()
    # Logged out, from the home page: the overview asks to log in first, then shows at once.
    page.goto(overview_server + "/")
    page.get_by_role("link", name="Bekijk alles in één overzicht").click()
    page.wait_for_url(re.compile(r"/inloggen/\?next=/overzicht/"))
    page.locator("#id_bsn").fill(demo_server.bsns[0])
    started = time.monotonic()
    with page.expect_navigation(wait_until="commit"):
        page.locator("form[action^='/inloggen/'] button[type=submit]").click()
    first, complete = _complete(page, started)
    assert page.url.endswith("/overzicht/")
    mode = f"JavaScript {'on' if javascript else 'off'}"
    print(f"overview after login, {mode}: first section {first:.2f} s, end {complete:.2f} s")
    # Fetch again, with the page's own button: measured without the first request of a fresh process.
    started = time.monotonic()
    with page.expect_navigation(wait_until="commit"):
        page.get_by_role("button", name="Haal alles opnieuw op").click()
    shot = SCREENSHOTS / f"overview-while-streaming-{'js' if javascript else 'no-js'}.png"
    first, complete = _complete(page, started, shot)
    page.wait_for_load_state("load")
    print(f"overview fetched again, {mode}: first section {first:.2f} s, end {complete:.2f} s")
    assert complete <= TIMEOUT + MARGIN, f"the page took {complete:.2f} s to complete, the timeout is {TIMEOUT} s"

    shown = _sections(page)
    for oin in (STOPPED, LATE):
        outcome, text = shown[oin]
        assert outcome == "onbereikbaar", (oin, outcome)
        assert UNREACHABLE in text, text
        assert "Bel" in text, f"the section does not say whom to call: {text}"
    others = {oin: value for oin, value in shown.items() if oin not in (STOPPED, LATE)}
    assert others and all(outcome in ("opgehaald", "geen") for outcome, _ in others.values()), others
    assert sum(outcome == "opgehaald" for outcome, _ in others.values()) >= 2
    assert "Nog te betalen" in page.locator("main").inner_text()
    end = " ".join(page.locator(END).inner_text().split())
    assert f"{len(others)} van {len(shown)} organisaties gaven antwoord" in end
    assert not page.locator(".blauweknop-overview__busy").is_visible(), "still says it is busy after the end"

    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"the overview scrolls sideways at 320 px: {width} px"
    if javascript:  # axe runs in the page
        violations = snapshot(page)["violations"]
        assert not violations, "axe on the overview:\n" + describe(violations)

    # The kept answers, in name order, without asking again: at once, also the slow one.
    started = time.monotonic()
    page.goto(overview_server + "/overzicht/")
    assert time.monotonic() - started < TIMEOUT
    names = [page.locator(f"#bron-{oin}").inner_text() for oin in _sections(page)]
    assert names == sorted(names)


def test_the_page_arrives_part_by_part_the_slow_source_last_in_the_chosen_language(demo_server, overview_server):
    with httpx.Client(base_url=overview_server, timeout=30) as client:
        client.get("/inloggen/")
        logged_in = client.post(
            "/inloggen/", data={"bsn": demo_server.bsns[1]}, headers={"X-CSRFToken": client.cookies["csrftoken"]}
        )
        assert logged_in.status_code == 302
        client.cookies.set("django_language", "en")  # the parts made after the view returned are in English too
        started, arrivals, html = time.monotonic(), [], ""
        with client.stream("GET", "/overzicht/") as response:
            assert response.headers["Cache-Control"] == "no-store"
            assert "default-src" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Frame-Options"] == "DENY"
            for chunk in response.iter_text():
                html += chunk
                arrivals.append((time.monotonic() - started, len(re.findall(r"<section ", html))))
    first = next(moment for moment, count in arrivals if count)
    slow = html.index(f'data-oin="{LATE}"')
    before_slow = len(re.findall(r"<section ", html[:slow]))
    done = arrivals[-1][0]
    print(f"streamed: first section after {first:.2f} s, the end after {done:.2f} s, {len(arrivals)} parts")
    assert before_slow >= 2, "the slow source was not among the last to arrive"
    assert first < TIMEOUT / 2, f"the first section came after {first:.2f} s: the page was held back"
    assert done <= TIMEOUT + MARGIN
    assert 'id="overzicht-einde"' in html and html.rstrip().endswith("</html>")
    words = " ".join(html.split())
    assert "Rijksincasso Alimentatie cannot be reached just now. Please try again later." in words
    assert "organisations answered" in words and "Fetch everything again" in words
