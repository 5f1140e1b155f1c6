"""Browser end-to-end tests: the real demo server over real HTTP, driven by Debian's Chromium.

One server and one browser per test session. The server runs as a subprocess exactly as in the
demo (first_run, migrate, seed_demo, uvicorn) with its database, keys and secrets in a temporary
folder, so the tests never touch its var/ data. Its output goes to a log file that must never contain a demo BSN.

Every page a browser context loads is saved as a full-page PNG, one folder per test, in var/screenshots/
(or the folder BLAUWEKNOP_SCREENSHOTS names): open them before you call a page done.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deployments import (
    REPO,
    clean_environment,
    free_port,
    run_python,
    start_uvicorn,
    stop_process,
    wait_until_up,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("BLAUWEKNOP_SCREENSHOTS") or REPO / "var" / "screenshots")
SCHEME_DOCUMENT = "/stelsel/api/v1/stelseldocument"
CITIZENS = 30


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser end-to-end tests against the real demo server (slow)")


@dataclass
class DemoServer:
    """The running demo: where it is, the demo BSNs seed_demo printed, and where its output goes."""

    base_url: str
    bsns: list[str]
    log: Path
    data_dir: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def bsn_leaks(self, text: str) -> list[str]:
        return [bsn for bsn in self.bsns if bsn in text]


def server_env(data_dir: Path, port: int) -> dict[str, str]:
    """The environment of a demo process on ``port`` with its data in ``data_dir``, none of the shell's settings."""
    env = clean_environment()
    env.update(BLAUWEKNOP_DEMO="True", BLAUWEKNOP_DATA_DIR=str(data_dir), PORT=str(port), PYTHONUNBUFFERED="1")
    # The PostgreSQL pass of make test names a database of its own for the server; never the shell's DATABASE_URL.
    if database := os.environ.get("BLAUWEKNOP_E2E_DATABASE_URL"):
        env["DATABASE_URL"] = database
        # A pool smaller than the default 10: a request that holds a connection while it waits on this same
        # process (as the requester's fetches did on the portal) then stalls here, not only under load in CI.
        env["BLAUWEKNOP_DB_POOL_MAX"] = "4"
    return env


def demo_bsns(seed_output: str) -> list[str]:
    """The three demo BSNs seed_demo printed."""
    _, _, listing = seed_output.partition("Demo BSNs")
    bsns = re.findall(r"^\s+(\d{9})\s", listing, flags=re.MULTILINE)
    if len(bsns) != 3:
        pytest.fail(f"seed_demo did not print three demo BSNs:\n{seed_output}")
    return bsns


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo (every role in one uvicorn process) on a free port, seeded with a small world."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    log = tmp_path_factory.mktemp("e2e-log") / "server.log"
    run_python(server_env(data_dir, 0), "-m", "blauweknop.demo.first_run")
    run_python(server_env(data_dir, 0), "manage.py", "migrate", "--noinput", "-v0")
    server = None
    for _attempt in range(3):
        port = free_port()
        env = server_env(data_dir, port)
        # seed_demo publishes the scheme document with this port in every URL, so it runs per port.
        bsns = demo_bsns(run_python(env, "manage.py", "seed_demo", "--citizens", str(CITIZENS)))
        base_url = f"http://127.0.0.1:{port}"
        process = start_uvicorn(env, port, log)
        if wait_until_up(process, base_url + SCHEME_DOCUMENT):
            server = DemoServer(base_url, bsns, log, data_dir, process)
            break
        stop_process(process)
    if server is None:
        pytest.fail(f"The demo server did not start; its output:\n{log.read_text(errors='replace')[-4000:]}")
    if os.environ.get("BLAUWEKNOP_E2E_DATABASE_URL") and list(data_dir.glob("*.sqlite3")):
        pytest.fail("The demo server was to use PostgreSQL but made an SQLite database.")
    try:
        yield server
    finally:
        stop_process(server.process)
    leaks = server.bsn_leaks(server.log_text())
    if leaks:
        pytest.fail(f"The server log ({log}) contains demo BSNs {leaks}: a BSN must never be logged.")


@pytest.fixture(scope="session")
def outage_url(demo_server: DemoServer) -> Iterator[str]:
    """A second server on the demo's data whose scheme operator does not answer: its pages show the outage."""
    for _attempt in range(3):
        port = free_port()
        unreachable = f"http://127.0.0.1:{free_port()}/stelsel"  # nothing listens there
        env = {**server_env(demo_server.data_dir, port), "BLAUWEKNOP_SCHEME_URL": unreachable}
        process = start_uvicorn(env, port, demo_server.log)
        # It still publishes its own scheme document; only its client looks for the operator elsewhere.
        if wait_until_up(process, f"http://127.0.0.1:{port}{SCHEME_DOCUMENT}"):
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                stop_process(process)
            return
        stop_process(process)
    pytest.fail(f"The outage server did not start; its output:\n{demo_server.log_text()[-4000:]}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session. Missing Chromium fails; it never skips."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. "
            "Run scripts/install-test-tools.sh; Playwright's own browser download is never used."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "The Python package playwright is missing: install it with the test extras (pip install -e '.[test]')."
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def requested_urls() -> list[str]:
    """Every URL any browser context of this session asked for."""
    return []


PAGE_STATE = """({url: location.href, lang: document.documentElement.lang,
    width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight})"""


def _screenshot_name(number: int, url: str, language: str | None) -> str:
    path = re.sub(r"[^A-Za-z0-9]+", "-", urlsplit(url).path).strip("-") or "home"
    return f"{number:02d}-{path[:80]}.{language or 'no-lang'}.png"


class Screenshots:
    """Saves a full-page PNG of every page a browser context loads, numbered and named after path and language.

    Each page is shot from Playwright's event handler as soon as it has loaded, while the test goes on, with
    one call of Chromium's debugging protocol: Playwright's own screenshot waits for the page to settle and
    stalls when the test navigates on meanwhile. ``wait`` lets shots in flight finish before the context closes.
    """

    def __init__(self, context: Any, folder: Path) -> None:
        self.context = context
        self.folder = folder
        self.count = itertools.count(1)
        self.pending = 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        context.on("page", self.watch)

    def watch(self, page: Any) -> None:
        session = self.context.new_cdp_session(page)
        page.on("load", lambda loaded: self.shoot(session, loaded.url))

    def shoot(self, session: Any, url: str) -> None:
        from playwright.sync_api import Error  # present: the context exists

        self.pending += 1
        try:
            shown = session.send("Runtime.evaluate", {"expression": PAGE_STATE, "returnByValue": True})["result"]
            state = shown.get("value") or {}
            if state.get("url") != url:
                return  # the test already navigated on: the next page gets its own shot
            clip = {"x": 0, "y": 0, "width": state["width"], "height": state["height"], "scale": 1}
            shot = session.send("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip})
            name = _screenshot_name(next(self.count), url, state.get("lang"))
            (self.folder / name).write_bytes(base64.b64decode(shot["data"]))
        except Error:
            pass  # the page closed meanwhile
        finally:
            self.pending -= 1

    def wait(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            self.context.cookies()  # any call lets Playwright's event loop, and so the shots, run on


@pytest.fixture(scope="session")
def open_context(browser: Any, requested_urls: list[str]) -> Callable[..., AbstractContextManager[Any]]:
    """A browser context (Dutch by default, every request recorded, every page saved as a screenshot
    into a folder named ``name`` unless ``shoot_every_page`` is off), closed when the with-block ends."""

    @contextmanager
    def context_for(name: str, *, shoot_every_page: bool = True, **options: Any) -> Iterator[Any]:
        context = browser.new_context(**{"locale": "nl-NL", "accept_downloads": True, **options})
        context.set_default_timeout(15_000)
        context.on("request", lambda request: requested_urls.append(request.url))
        # A test that names its own screenshots (test_every_page) need not pay for a second set.
        folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        screenshots = Screenshots(context, folder) if shoot_every_page else None
        try:
            yield context
        finally:
            if screenshots:
                screenshots.wait()
            context.close()

    return context_for


@pytest.fixture
def new_context(
    open_context: Callable[..., AbstractContextManager[Any]], request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Make browser contexts for this test (see ``open_context``); closed after the test."""
    with ExitStack() as contexts:
        made = itertools.count(1)

        def make(**options: Any) -> Any:
            number = next(made)
            name = request.node.name + (f"-{number}" if number > 1 else "")
            return contexts.enter_context(open_context(name, **options))

        yield make


# The data page's two download buttons, by the kind of copy they give.
DOWNLOADS = {"sdjwt": "Download om digitaal in te leveren (.sdjwt)", "pdf": "Download om te lezen of te printen (PDF)"}


class Steps:
    """The steps every browser test takes the same way, through the page as a citizen would."""

    def __init__(self, server: DemoServer) -> None:
        self.server = server

    @staticmethod
    def submit(page: Any, button: Any) -> None:
        """Click a button that submits a form, and wait until the page it leads to has loaded."""
        with page.expect_navigation():
            button.click()

    def log_in(self, page: Any, bsn: str, organisation: str = "Belastingkantoor Voorbeeldland") -> None:
        """From the home page: open the organisation, log in at the DigiD mock, land on its page."""
        page.goto(self.server.base_url + "/")
        page.get_by_role("link", name=organisation, exact=True).click()
        page.wait_for_url(re.compile(r"/inloggen/\?next="))
        page.locator("#id_bsn").fill(bsn)
        self.submit(page, page.locator("form[action^='/inloggen/'] button[type=submit]"))
        assert "/organisaties/" in page.url, f"login did not lead to the organisation page but to {page.url}"

    def press_blue_button(self, page: Any) -> None:
        """Press the Blauwe Knop on the organisation page and land on the data page."""
        self.submit(page, page.locator("form[action$='/blauwe-knop/'] button[type=submit]"))
        assert page.url.endswith("/gegevens/"), f"the Blauwe Knop did not lead to the data page but to {page.url}"

    def open_organisation(self, page: Any, organisation: str) -> None:
        """From the home page, logged in already: open the organisation's page."""
        page.goto(self.server.base_url + "/")
        page.get_by_role("link", name=organisation, exact=True).click()
        page.wait_for_url(re.compile(r"/organisaties/[^/]+/$"))

    def download(self, page: Any, target: Path, kind: str, category: str | None = None) -> Path:
        """On the data page: download a copy (``kind`` "sdjwt" or "pdf") of ``category`` (default: the first
        shown), with the fields as ticked, into ``target``."""
        sections = page.locator("details[data-documentsoort]")
        form = page.locator(f"details[data-documentsoort='{category}']") if category else sections
        with page.expect_download() as info:
            form.first.get_by_role("button", name=DOWNLOADS[kind]).click()
        download = info.value
        assert download.suggested_filename.endswith(f".{kind}"), download.suggested_filename
        path = target / download.suggested_filename
        download.save_as(path)
        return path

    def verify(self, page: Any, copy: Path) -> tuple[str, dict[str, str]]:
        """Upload ``copy`` on the public verify page; its verdict and the fields it shows, by claim path."""
        page.goto(self.server.base_url + "/controleren/")
        page.locator("#id_bestand").set_input_files(copy)
        self.submit(page, page.locator("form[action='/controleren/'] button[type=submit]"))
        verdict = page.locator(".blauweknop-verdict")
        assert verdict.count() == 1, "the verify page shows no verdict"
        cells = page.locator("td[data-path]")
        fields = {
            cells.nth(i).get_attribute("data-path"): cells.nth(i).inner_text().strip() for i in range(cells.count())
        }
        return verdict.inner_text(), fields


@pytest.fixture(scope="session")
def steps(demo_server: DemoServer) -> Steps:
    return Steps(demo_server)
