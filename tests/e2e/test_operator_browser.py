"""The scheme operator in the browser, against the real demo server: logs in with a password and a TOTP code,
finds a new applicant, certifies it with a reason after "Weet u het zeker?", and the participant then stands in
the published scheme document as certified.

The applicant applies as any organisation does: ``blauweknop scheme apply`` against the server's API, signed with
its own key. The operator's login is the one seed_demo prints (derived from the secret key in the server's data
folder). Every operator page is checked with axe-core, in Dutch and in English, and saved as a screenshot.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from blauweknop.cli import main
from blauweknop.demo import first_run
from blauweknop.demo.management.commands.seed_demo import OPERATOR, OPERATOR_USERNAME, staff_login
from tests.e2e.test_plus_browser import accessible, log_in_staff, submit
from tests.scheme.test_apply_api import KEYS, WONINGCORPORATIE, described

pytestmark = pytest.mark.e2e

REASON = "Conformiteitstoets geslaagd; contract getekend op 3 maart."
# A requester, not a holder: the demo server is shared with the citizens' browser tests, whose overview would
# otherwise ask the new (made-up, unreachable) holder and find it unreachable.
APPLICANT = WONINGCORPORATIE


def apply(server: Any, folder: Path) -> None:
    """The housing corporation applies with the CLI, signed with its own key, as any organisation joining does."""
    participant, key = folder / "deelnemer.json", folder / "private.jwk"
    participant.write_text(json.dumps(described(APPLICANT)))
    key.write_text(json.dumps(KEYS[APPLICANT][0]))
    arguments = ["scheme", "apply", "--file", str(participant), "--key", str(key), "--scheme", f"{server}/stelsel"]
    # In a thread of its own: the CLI's bounded client runs an event loop, and Playwright's has one running here.
    with ThreadPoolExecutor(1) as thread:
        assert thread.submit(main, arguments).result() == 0


def published_status(server: str, oin: str) -> str | None:
    """The participant's certification in the scheme document the server publishes now (``None``: not in it)."""
    token = httpx.get(f"{server}/stelsel/api/v1/stelseldocument", timeout=30).text.strip().strip('"')
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return next((entry["certification"]["status"] for entry in claims["organisations"] if entry["oin"] == oin), None)


def test_the_operator_logs_in_with_two_factors_and_certifies_a_new_applicant(demo_server, open_context, tmp_path):
    server = demo_server.base_url
    apply(server, tmp_path)
    assert published_status(server, APPLICANT) is None  # an applicant is never in the scheme document

    secret_key = first_run.secret_path(demo_server.data_dir, "DJANGO_SECRET_KEY").read_text().strip()
    password, totp_key = staff_login(secret_key, OPERATOR)
    with open_context("operator") as context:
        page = context.new_page()
        page.goto(server + "/stelsel/beheer/")
        assert "/stelsel/beheer/inloggen/?next=" in page.url, page.url
        accessible(page)
        log_in_staff(page, server, "/stelsel/beheer/", OPERATOR_USERNAME, password, totp_key)

        # The new applicant waits on the home page; its page shows its key and its application.
        submit(page, page.get_by_role("link", name="Woningcorporatie Voorbeeld"))
        accessible(page)
        assert page.locator("#stand").inner_text() == "Aangemeld"
        assert "aanvrager" in page.locator("main").inner_text()

        submit(page, page.get_by_role("link", name="Certificeren", exact=True))
        accessible(page)
        submit(page, page.get_by_role("button", name="Verder"))  # without a reason: said next to the field
        assert page.locator("#id_reason-fout").inner_text().startswith("Schrijf een reden op")
        accessible(page)
        page.locator("#id_reason").fill(REASON)
        submit(page, page.get_by_role("button", name="Verder"))
        assert page.get_by_role("heading", name="Weet u het zeker?").count() == 1
        accessible(page)
        assert published_status(server, APPLICANT) is None  # nothing happened before the confirmation
        submit(page, page.get_by_role("button", name="Ja: Certificeren"))
        assert page.locator("#stand").inner_text() == "Gecertificeerd"
        assert REASON in page.locator("main").inner_text()
        accessible(page)
        assert published_status(server, APPLICANT) == "certified"

        page.get_by_role("link", name="Logboek").click()
        page.wait_for_url("**/stelsel/beheer/logboek/")
        assert "Het logboek is compleet" in page.locator("#keten").inner_text()
        assert REASON in page.locator("tbody tr").first.inner_text()
        accessible(page)
        for url in ["/stelsel/beheer/deelnemers/", "/stelsel/beheer/beveiliging/"]:
            page.goto(server + url)
            accessible(page)

        # The same pages in English.
        context.add_cookies([{"name": "django_language", "value": "en", "url": server}])
        for url in ["/stelsel/beheer/", f"/stelsel/beheer/deelnemers/{APPLICANT}/", "/stelsel/beheer/logboek/"]:
            page.goto(server + url)
            assert page.locator("html").get_attribute("lang") == "en"
            accessible(page)
        assert "Certified" in page.content() or "certified" in page.content()
        page.goto(server + f"/stelsel/beheer/deelnemers/{APPLICANT}/schorsen/")
        assert page.get_by_role("heading", name="Suspend: Woningcorporatie Voorbeeld").count() == 1
        accessible(page)

    with open_context("operator-en", locale="en-GB") as context:  # the login in English, not logged in
        page = context.new_page()
        context.add_cookies([{"name": "django_language", "value": "en", "url": server}])
        page.goto(server + "/stelsel/beheer/logboek/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "/stelsel/beheer/inloggen/?next=" in page.url
        accessible(page)
