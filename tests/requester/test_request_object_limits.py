"""Wrong codes at ``GET …/verzoekobjecten/{code}`` are counted per requester and caller, in fixed windows
(attacker review A7).

They were counted per client address alone, for every requester of the deployment, and each call (a refused one,
a right code) made the count last 15 minutes longer. A portal asks for all its citizens from one address: one
citizen's 101 made-up links shut every citizen out of every requester, and ordinary traffic kept it so. Now a
caller's wrong codes at one requester lock only that caller at that requester, until the window ends; and an
app manager that signs its GET (a client assertion as Bearer) always gets a right code.
"""

from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from django.test import Client

from blauweknop import keystore
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import client_assertion
from blauweknop.requester import api
from tests.portal.conftest import log_in

from .world import BANK, BANK_SLUG, BELASTING, WONING, api_url, created, is_problem

pytestmark = pytest.mark.django_db(transaction=True)

GUESSES = ("AAAAAAAA", "AAAAAAAB", "AAAAAAAC")


@pytest.fixture
def three_wrong(monkeypatch):
    monkeypatch.setattr(api, "WRONG_CODES", len(GUESSES))


def _get(url: str, signer: str | None = None) -> httpx.Response:
    """GET ``url``, signed by ``signer`` with a fresh client assertion for exactly it, or unsigned."""
    headers = {}
    if signer:
        token = client_assertion.sign(keystore.signing_key(signer), client_id=signer, audience=url)
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(url, headers=headers, timeout=30)


def _lock_out(slug: str | None = None) -> None:
    """Use up this address's wrong codes at one requester: then it is refused there for any code."""
    base = api_url(slug) if slug else api_url()
    for guess in GUESSES:
        assert is_problem(_get(f"{base}/verzoekobjecten/{guess}"), 404)
    assert is_problem(_get(f"{base}/verzoekobjecten/AAAAAAAD"), 429, "too_many_requests")


def test_wrong_codes_at_one_requester_do_not_lock_the_address_out_of_another(demo_world, three_wrong):
    bank_code = created(slug=BANK_SLUG, oin=BANK)["code"]
    _lock_out()
    assert _get(f"{api_url(BANK_SLUG)}/verzoekobjecten/{bank_code}").status_code == 200
    for guess in GUESSES:  # and the bank counts its own
        assert is_problem(_get(f"{api_url(BANK_SLUG)}/verzoekobjecten/{guess}"), 404)


def test_a_signed_get_of_the_app_manager_gets_a_right_code_while_its_address_is_locked(demo_world, three_wrong):
    code = created()["code"]
    url = f"{api_url()}/verzoekobjecten/{code}"
    _lock_out()
    assert is_problem(_get(url), 429, "too_many_requests")  # unsigned, from the same address
    answer = _get(url, signer=PORTAL_OIN)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/oauth-authz-req+jwt"


def test_the_app_managers_own_wrong_codes_are_counted_apart_and_never_refuse_a_right_one(demo_world, monkeypatch):
    monkeypatch.setattr(api, "APP_MANAGER_WRONG_CODES", 2)
    code = created()["code"]
    for guess in GUESSES[:2]:
        assert is_problem(_get(f"{api_url()}/verzoekobjecten/{guess}", signer=PORTAL_OIN), 404, "not_found")
    assert is_problem(_get(f"{api_url()}/verzoekobjecten/AAAAAAAD", signer=PORTAL_OIN), 429, "too_many_requests")
    assert _get(f"{api_url()}/verzoekobjecten/{code}", signer=PORTAL_OIN).status_code == 200
    # Unsigned callers from this address have a count of their own, untouched.
    assert _get(f"{api_url()}/verzoekobjecten/{code}").status_code == 200


def test_a_signed_get_must_be_an_app_managers_for_exactly_this_address_and_once(demo_world):
    code = created()["code"]
    url = f"{api_url()}/verzoekobjecten/{code}"
    assert is_problem(_get(url, signer=WONING), 401, "invalid_client")  # a requester is no app manager
    other = client_assertion.sign(
        keystore.signing_key(PORTAL_OIN), client_id=PORTAL_OIN, audience=f"{api_url()}/verzoekobjecten/AAAAAAAA"
    )
    assert is_problem(httpx.get(url, headers={"Authorization": f"Bearer {other}"}, timeout=30), 401, "aud_mismatch")
    token = client_assertion.sign(keystore.signing_key(PORTAL_OIN), client_id=PORTAL_OIN, audience=url)
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 200
    again = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert is_problem(again, 401, "assertion_replayed")


def test_a_window_is_fixed_refused_calls_do_not_make_it_last_longer(demo_world, three_wrong, monkeypatch):
    code = created()["code"]
    window = {"now": 1_000}
    monkeypatch.setattr(api, "_window", lambda: window["now"])
    _lock_out()
    for _ in range(3):  # refused calls, a right code among them: none counts, none makes the window longer
        assert is_problem(_get(f"{api_url()}/verzoekobjecten/{code}"), 429, "too_many_requests")
    window["now"] += 1
    assert _get(f"{api_url()}/verzoekobjecten/{code}").status_code == 200


def test_one_citizens_made_up_links_do_not_shut_another_out_through_the_portal(demo_world, monkeypatch, bsn):
    """As in the review: one citizen opens made-up links of the corporation in the portal, past every limit; then
    another citizen's real link of that corporation still opens (the portal signs its GET)."""
    monkeypatch.setattr(api, "WRONG_CODES", len(GUESSES))
    monkeypatch.setattr(api, "APP_MANAGER_WRONG_CODES", len(GUESSES))
    made = created()
    others = list(
        SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen")
        .exclude(bsn=bsn)
        .values_list("bsn", flat=True)[:1]
    )
    prober, citizen = Client(), Client()
    assert log_in(prober, bsn).status_code == 302
    for guess in (*GUESSES, "AAAAAAAD"):
        link = f"/delen/?{urlencode({'client_id': WONING, 'request_uri': f'{api_url()}/verzoekobjecten/{guess}'})}"
        assert prober.get(link).status_code in (404, 502)
    assert log_in(citizen, others[0]).status_code == 302
    link = urlsplit(made["link"])
    opened = citizen.get(f"{link.path}?{link.query}")
    assert opened.status_code == 303 and "/delen/" in opened["Location"], opened.status_code
