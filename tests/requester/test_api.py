"""The requester's back office API: make a request, open it as a wallet would, only with the requester's own key."""

import json
import re
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from blauweknop import keystore
from blauweknop.protocol import check_code, client_assertion, jws
from blauweknop.requester import api
from blauweknop.requester.tasks import forget_received_before
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation

from .world import (
    BANK,
    BANK_SLUG,
    INCOME,
    WONING,
    api_url,
    assertion,
    authenticated,
    create,
    created,
    income_request,
    is_problem,
    opened,
    state_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_request_gets_a_short_code_a_link_and_a_signed_request_object_a_wallet_accepts(demo_world):
    made = created()
    assert re.fullmatch(f"[{check_code.ALPHABET}]{{8}}", made["code"])
    assert made["weergaveCode"] == f"{made['code'][:4]}-{made['code'][4:]}"
    assert made["status"] == "open"
    link = urlsplit(made["link"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{demo_world.url}/delen/"
    assert parse_qs(link.query) == {"client_id": [WONING], "request_uri": [made["requestUri"]]}
    assert made["requestUri"] == f"{api_url()}/verzoekobjecten/{made['code']}"
    request = opened(made)
    assert request.client_id == WONING and request.response_uri == f"{api_url()}/antwoorden"
    (asked,) = request.query.credentials
    assert asked.id == "inkomen" and asked.paths() == INCOME
    assert asked.paths(required_only=True) == ["belastingjaar", "verzamelinkomenInCenten"]
    assert request.terms.retention_days == 30 and request.terms.legal_basis == "toestemming"
    assert request.terms.reference == "" and request.terms.access == "eenmalig"  # the kenmerk stays here
    assert state_of(made["code"]).json()["kenmerk"] == "dossier-17"


def test_the_kenmerk_is_not_published_in_the_request_object_anyone_with_the_code_reads(demo_world):
    """Attack review A5: a back office that uses a BSN as its kenmerk published it to anyone with the code."""
    made = created(income_request(kenmerk="999260121"))
    public = httpx.get(made["requestUri"], timeout=30)
    assert public.status_code == 200 and "999260121" not in json.dumps(jws.unverified_parts(public.text))
    assert state_of(made["code"]).json()["kenmerk"] == "999260121"  # the requester's own API still has it


@pytest.mark.parametrize("hidden", ["\u202eneeg sgnidnev\u202c", "\u200b", "\u2067x\u2069"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_purpose_with_hidden_or_direction_characters_is_refused_with_a_problem(demo_world, hidden, language):
    """Attack review A4: the citizen consents to the purpose; U+202E made it read otherwise than it is kept."""
    body = income_request()
    body["doel"] = {**body["doel"], language: f"Wij controleren uw inkomen {hidden} en delen het niet."}
    refused = create(body)
    assert is_problem(refused, 400) and refused.json()["code"] == "invalid_request"
    assert f"purpose ({language})" in refused.json()["detail"] and "direction characters" in refused.json()["detail"]


def test_standing_access_carries_its_end_date_into_the_signed_request(demo_world):
    until = (date.today() + timedelta(days=90)).isoformat()
    request = opened(created(income_request(toegang="doorlopend", toegangTot=until)))
    assert (request.terms.access, request.terms.access_until) == ("doorlopend", until)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"gevraagd": [{"documentsoort": "paspoort", "velden": [{"pad": "nummer"}]}]}, "no document type 'paspoort'"),
        ({"gevraagd": [{"documentsoort": "inkomen", "velden": [{"pad": "bsn.extra"}]}]}, "has no field 'bsn.extra'"),
        ({"grondslag": "omdat-het-kan"}, "not in the scheme's register"),
        ({"grondslag": "participatiewet-art-64"}, "only on consent"),
        ({"toegang": "doorlopend"}, "needs an end date"),
        (
            {"gevraagd": [{"documentsoort": "inkomen", "velden": [{"pad": "belastingjaar", "verplicht": False}]}]},
            "required",
        ),
    ],
)
def test_input_outside_the_catalogue_or_register_is_refused_in_plain_words(demo_world, change, words):
    response = create(income_request(**change))
    assert is_problem(response, 400, "invalid_request"), response.text
    assert words in response.json()["detail"]


def test_standing_access_more_than_a_year_away_is_refused(demo_world):
    response = create(income_request(toegang="doorlopend", toegangTot="2099-01-01"))
    assert is_problem(response, 400, "invalid_request") and "a year" in response.json()["detail"]


def test_only_the_requesters_own_key_for_exactly_this_address_once_may_make_a_request(demo_world):
    url = f"{api_url()}/verzoeken"
    body = income_request()
    as_bank = httpx.post(url, json=authenticated(body, url, BANK), timeout=30)
    assert is_problem(as_bank, 403, "forbidden")
    elsewhere = httpx.post(url, json=authenticated(body, f"{api_url(BANK_SLUG)}/verzoeken"), timeout=30)
    assert is_problem(elsewhere, 401, "aud_mismatch")
    once = authenticated(body, url)
    assert httpx.post(url, json=once, timeout=30).status_code == 201
    assert is_problem(httpx.post(url, json=once, timeout=30), 401, "assertion_replayed")
    unsigned = httpx.post(url, json={**body, "client_assertion_type": "x", "client_assertion": "y" * 30}, timeout=30)
    assert is_problem(unsigned, 400)


def test_two_requesters_side_by_side_see_only_their_own_requests(demo_world):
    woning = created()
    bank = created(slug=BANK_SLUG, oin=BANK)
    assert state_of(woning["code"]).json()["status"] == "open"
    assert state_of(bank["code"], slug=BANK_SLUG, oin=BANK).json()["kenmerk"] == "dossier-17"
    # The bank, at its own address, asking for the housing corporation's request: there is none.
    assert is_problem(state_of(woning["code"], slug=BANK_SLUG, oin=BANK), 404, "not_found")
    # The bank's key at the housing corporation's address: not its requests.
    assert is_problem(state_of(woning["code"], oin=BANK), 403, "forbidden")
    # The request object of one is not served at the other's address.
    assert is_problem(httpx.get(f"{api_url(BANK_SLUG)}/verzoekobjecten/{woning['code']}"), 404, "not_found")


def test_reading_a_request_needs_a_bearer_assertion_for_that_very_address(demo_world):
    code = created()["code"]
    url = f"{api_url()}/verzoeken/{code}"
    assert is_problem(httpx.get(url), 401, "invalid_client")
    other = httpx.get(url, headers={"Authorization": f"Bearer {assertion(f'{api_url()}/verzoeken')}"})
    assert is_problem(other, 401, "aud_mismatch")
    token = assertion(url)
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert is_problem(httpx.get(url, headers={"Authorization": f"Bearer {token}"}), 401, "assertion_replayed")


def test_unknown_codes_and_addresses_are_problems(demo_world):
    code = created()["code"]
    for url in (
        f"{api_url()}/verzoekobjecten/{code.lower()}",
        f"{api_url()}/verzoekobjecten/AAAAAAAA",
        f"{api_url()}/verzoekobjecten/{'A' * 200}",
        f"{demo_world.url}/vragers/bestaat-niet/api/v1/verzoekobjecten/{code}",
    ):
        assert is_problem(httpx.get(url, timeout=30), 404), url


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"doel": ' * 5000, "application/json"),
        (b"kenmerk=1", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/json"),
        (b"[]", "application/json"),
        (b"x" * (3 * 1024 * 1024), "application/json"),
    ],
)
def test_hostile_bodies_are_problems_never_a_crash(demo_world, content, content_type):
    response = httpx.post(f"{api_url()}/verzoeken", content=content, headers={"Content-Type": content_type}, timeout=30)
    assert 400 <= response.status_code < 500, response.status_code
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "Traceback" not in response.text


def test_the_openapi_description_lists_the_wallet_and_back_office_operations(demo_world):
    paths = httpx.get(f"{api_url()}/openapi.json").json()["paths"]
    assert {"/verzoekobjecten/{code}", "/antwoorden", "/verzoeken", "/verzoeken/{code}"} <= {
        path.removeprefix(urlsplit(api_url()).path) for path in paths
    }


def test_a_suspended_requester_can_neither_ask_nor_serve_its_requests(demo_world):
    made = created()
    Organisation.objects.filter(oin=WONING).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    scheme_client.forget()
    assert is_problem(create(), 403, "not_certified")
    assert is_problem(httpx.get(made["requestUri"]), 403, "not_certified")


def test_an_assertion_near_its_end_stays_refused_as_a_replay_after_the_clean_up(demo_world):
    # Accepted until exp + leeway: its mark must outlive that, whenever the clean-up task runs.
    url = f"{api_url()}/verzoeken"
    now = int(time.time())
    token = client_assertion.sign(
        keystore.signing_key(WONING), client_id=WONING, audience=url, now=now - 50, lifetime=40
    )
    body = {**income_request(), "client_assertion_type": client_assertion.ASSERTION_TYPE, "client_assertion": token}
    assert httpx.post(url, json=body, timeout=30).status_code == 201
    forget_received_before(timezone.now())
    assert is_problem(httpx.post(url, json=body, timeout=30), 401, "assertion_replayed")


def test_codes_cannot_be_walked_unknown_ones_are_counted_per_address(demo_world, monkeypatch):
    monkeypatch.setattr(api, "WRONG_CODES", 3, raising=False)
    code = created()["code"]
    known = f"{api_url()}/verzoekobjecten/{code}"
    for _ in range(5):  # a right code is not counted against the address
        assert httpx.get(known, timeout=30).status_code == 200
    for guess in ("AAAAAAAA", "AAAAAAAB", "AAAAAAAC"):
        assert is_problem(httpx.get(f"{api_url()}/verzoekobjecten/{guess}", timeout=30), 404)
    assert is_problem(httpx.get(f"{api_url()}/verzoekobjecten/AAAAAAAD", timeout=30), 429, "too_many_requests")
    # Past the limit nothing is looked up for this address, a right code neither.
    assert is_problem(httpx.get(known, timeout=30), 429, "too_many_requests")
