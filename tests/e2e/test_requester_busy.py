"""The requester's waits on others have threads of their own (attacker review A1).

In the demo every role shares one uvicorn process. The requester used to wait for the portal in the event
loop's default pool: min(32, cpus + 4) threads, 6 on a 2-core machine. Ten standing fetches right after a
withdrawal filled it, and the portal's 403 to them could not be logged (Django logs every 4xx and 5xx answer in
that same pool) until the requester's threads gave up after 20 s: 502 upstream_failed instead of 403
consent_withdrawn, and every other error answer of the process waited as long.

Each of those fetches also held a database connection while it waited on the portal (CI, PostgreSQL): ten
took the whole pool, and the portal could not answer them until they gave up (502 after 20 s).

Here, against the real demo server, a citizen approves a standing request and withdraws it, and the back office
fetches ten times at once (as many as it may have under way) before the withdrawal notice reaches it (no worker
runs in this server): each fetch goes to the portal. All answer 403 consent_withdrawn within seconds, and an
unrelated 404 answers fast meanwhile. On PostgreSQL the server's pool has fewer connections than there are fetches.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from blauweknop.protocol import client_assertion
from blauweknop.protocol.jwk import SigningKey
from blauweknop.requester import outbound

pytestmark = pytest.mark.e2e

HOUSING = "00000003271247970000"  # Woningcorporatie Thuisbasis
AT_ONCE = outbound.PER_REQUESTER  # all the back office may have under way; more than the old pool of a 2-core machine
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, f"no form on {page.url}"
    return found.group(1)


def _standing_request(api: str, key: SigningKey) -> dict:
    until = (date.today() + timedelta(days=30)).isoformat()
    body = {
        "doel": {"nl": "Wij kijken of uw inkomen past bij de woning.", "en": "We check whether your income fits."},
        "grondslag": "toestemming",
        "bewaartermijnDagen": 30,
        "toegang": "doorlopend",
        "toegangTot": until,
        "gevraagd": [
            {
                "documentsoort": "inkomen",
                "velden": [{"pad": "belastingjaar"}, {"pad": "verzamelinkomenInCenten"}],
            }
        ],
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": client_assertion.sign(key, client_id=HOUSING, audience=f"{api}/verzoeken"),
    }
    made = httpx.post(f"{api}/verzoeken", json=body, timeout=30)
    assert made.status_code == 201, made.text
    return made.json()


def test_fetches_after_a_withdrawal_are_refused_within_seconds_and_other_answers_do_not_wait(demo_server):
    base = demo_server.base_url
    key = SigningKey(json.loads((demo_server.data_dir / "keys" / f"{HOUSING}.jwk").read_text()))
    api = f"{base}/vragers/woningcorporatie-thuisbasis/api/v1"
    made = _standing_request(api, key)
    code = made["code"]
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as browser:
        opened = urlsplit(made["link"])
        login = browser.get("/inloggen/?" + urlencode({"next": f"{opened.path}?{opened.query}"}))
        review = browser.post(
            str(login.url),
            data={"csrfmiddlewaretoken": _csrf(login), "voorbeeldburger": "2"},
            headers={"Referer": str(login.url)},
        )
        assert "/delen/" in review.url.path, review.url
        done = browser.post(
            str(review.url),
            data={"csrfmiddlewaretoken": _csrf(review), "besluit": "ja"},
            headers={"Referer": str(review.url)},
        )
        assert done.status_code == 200, done.status_code
        state_url = f"{api}/verzoeken/{code}"
        bearer = client_assertion.sign(key, client_id=HOUSING, audience=state_url)
        state = httpx.get(state_url, headers={"Authorization": f"Bearer {bearer}"}, timeout=30).json()
        assert state["status"] == "goedgekeurd", state
        withdraw = f"/toestemmingen/{state['toestemming']}/intrekken/"
        question = browser.get(withdraw)
        withdrawn = browser.post(
            withdraw, data={"csrfmiddlewaretoken": _csrf(question)}, headers={"Referer": str(question.url)}
        )
        assert withdrawn.status_code == 200, withdrawn.status_code

    fetch_url = f"{api}/verzoeken/{code}/ophalen"
    bodies = [
        {
            "client_assertion_type": client_assertion.ASSERTION_TYPE,
            "client_assertion": client_assertion.sign(key, client_id=HOUSING, audience=fetch_url),
        }
        for _ in range(AT_ONCE)
    ]

    def fetch(body: dict) -> tuple[int, str | None, float]:
        started = time.monotonic()
        answer = httpx.post(fetch_url, json=body, timeout=60)
        return answer.status_code, answer.json().get("code"), time.monotonic() - started

    def unrelated() -> tuple[int, float]:
        time.sleep(0.3)  # while the fetches wait on the portal
        started = time.monotonic()
        answer = httpx.get(f"{api}/verzoekobjecten/ZZZZZZZZ", timeout=60)
        return answer.status_code, time.monotonic() - started

    with ThreadPoolExecutor(AT_ONCE + 1) as pool:
        other = pool.submit(unrelated)
        fetched = list(pool.map(fetch, bodies))
    assert {(status, problem) for status, problem, _ in fetched} == {(403, "consent_withdrawn")}, fetched
    slowest = max(seconds for *_, seconds in fetched)
    assert slowest < 5, f"the slowest fetch took {slowest:.1f} s"
    status, seconds = other.result()
    assert status == 404 and seconds < 2, (status, seconds)
