"""Fetching without the citizen at hand: with standing access through the portal, on a legal basis from a holder."""

import json
import threading
from datetime import date, timedelta

import httpx
import pytest

from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.protocol import client_assertion, openid4vp
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.portal.stand_in import Answering, serving

from .world import (
    BELASTING,
    GEMEENTE,
    GEMEENTE_SLUG,
    INCOME,
    WONING,
    WONING_SLUG,
    api_url,
    as_portal,
    authenticated,
    copy,
    created,
    income_request,
    is_problem,
    opened,
    post_answer,
    presentation,
    scheme,
    state_of,
    vp_token,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Portal(Answering):
    """The app manager's fetch endpoint, answering as the test tells it to; it keeps what it was sent."""

    credential: str
    wallet = None
    behaviour = "copies"  # or a refusal code, or "old_nonce"
    received: list[dict] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.received.append({"path": self.path, **body})
        if self.behaviour not in ("copies", "old_nonce"):
            problem = {"type": "x", "title": "x", "status": 403, "detail": "No.", "code": self.behaviour}
            self.answer_json(403, "application/problem+json", problem)
            return
        nonce = body["nonce"] if self.behaviour == "copies" else "an-earlier-nonce-0123456789"
        shown = openid4vp.present(self.credential, INCOME, holder_key=self.wallet, aud=WONING, nonce=nonce)
        self.answer_json(200, "application/json", {"vp_token": {"inkomen": [shown]}})

    def answer_json(self, status: int, content_type: str, body: dict) -> None:
        self.answer(status, content_type, json.dumps(body).encode())


@pytest.fixture
def standing(demo_world, bsn, wallet):
    """An approved standing request of the housing corporation (consent tst-9), and a stand-in for the portal."""
    until = date.today() + timedelta(days=60)
    made = created(income_request(toegang="doorlopend", toegangTot=until.isoformat()))
    request = opened(made)
    credential = copy(bsn, wallet)
    shown = presentation(credential, wallet, request)
    approved = {"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": "tst-9"}
    assert post_answer(as_portal(approved)).status_code == 200
    handler = type("StandIn", (Portal,), {"credential": credential, "wallet": wallet, "received": []})
    with serving(handler) as server:
        base = f"http://127.0.0.1:{server.server_port}"
        Organisation.objects.filter(oin=PORTAL_OIN).update(base_url=base)
        publication.publish()
        scheme_client.forget()
        yield made, handler, base


def fetch_now(code: str) -> httpx.Response:
    url = f"{api_url()}/verzoeken/{code}/ophalen"
    return httpx.post(url, json=authenticated({}, url), timeout=30)


def test_a_standing_fetch_stores_fresh_copies_bound_to_its_own_nonce(standing):
    made, portal, base = standing
    response = fetch_now(made["code"])
    assert response.status_code == 200, response.text
    (fetched,) = response.json()["ontvangen"]
    assert (fetched["via"], fetched["uitgever"], set(fetched["gegevens"])) == ("ophaling", BELASTING, set(INCOME))
    (sent,) = portal.received
    assert sent["path"] == "/appbeheerder/api/v1/ophalingen" and sent["toestemming"] == "tst-9"
    assert sent["client_assertion_type"] == client_assertion.ASSERTION_TYPE
    proof = client_assertion.verify(
        sent["client_assertion"], scheme(), audience=f"{base}/appbeheerder/api/v1/ophalingen"
    )
    assert proof.client_id == WONING
    assert [r["via"] for r in state_of(made["code"]).json()["ontvangen"]] == ["ophaling", "antwoord"]
    # A second fetch asks with a new nonce.
    assert fetch_now(made["code"]).status_code == 200
    assert portal.received[0]["nonce"] != portal.received[1]["nonce"]


def test_copies_bound_to_another_nonce_are_not_stored(standing):
    made, portal, _ = standing
    portal.behaviour = "old_nonce"
    response = fetch_now(made["code"])
    assert is_problem(response, 502, "upstream_failed")
    assert ReceivedCredential.objects.filter(via="ophaling").count() == 0


def test_a_withdrawn_consent_is_the_portals_refusal_and_ends_the_access(standing):
    made, portal, _ = standing
    portal.behaviour = "consent_withdrawn"
    assert is_problem(fetch_now(made["code"]), 403, "consent_withdrawn")
    assert state_of(made["code"]).json()["status"] == "ingetrokken"
    # Nothing more is asked of the portal for a request whose access ended; the refusal still says why.
    assert is_problem(fetch_now(made["code"]), 403, "consent_withdrawn")
    assert len(portal.received) == 1


def test_standing_access_past_its_approved_end_is_not_fetched(standing):
    made, portal, _ = standing
    ShareRequest.objects.filter(code=made["code"]).update(approved_until=date.today() - timedelta(days=1))
    assert is_problem(fetch_now(made["code"]), 403, "consent_expired")
    assert portal.received == [] and state_of(made["code"]).json()["status"] == "verlopen"


def test_a_one_time_request_gives_no_standing_fetch(demo_world):
    code = created()["code"]
    assert is_problem(fetch_now(code), 403, "no_standing_access")


def test_an_unreachable_portal_is_a_problem_not_a_crash(standing):
    made, _, _ = standing
    Organisation.objects.filter(oin=PORTAL_OIN).update(base_url="http://127.0.0.1:9")
    publication.publish()
    scheme_client.forget()
    assert is_problem(fetch_now(made["code"]), 502, "upstream_failed")


def lawful(oin: str = GEMEENTE, slug: str = GEMEENTE_SLUG, **changes) -> httpx.Response:
    url = f"{api_url(slug)}/wettelijke-verstrekkingen"
    body = {
        "houder": BELASTING,
        "burgerservicenummer": changes.pop("bsn"),
        "documentsoort": "inkomen",
        "velden": ["belastingjaar", "verzamelinkomenInCenten"],
        "grondslag": "participatiewet-art-64",
        "doel": "bijstand-recht-en-hoogte",
        "bewaartermijnDagen": 90,
        **changes,
    }
    return httpx.post(url, json=authenticated(body, url, oin), timeout=30)


def test_a_lawful_fetch_keeps_only_what_the_law_allows_bound_to_the_requesters_key(demo_world, bsn):
    response = lawful(bsn=bsn)
    assert response.status_code == 201, response.text
    received = response.json()
    assert (received["via"], received["uitgever"], received["documentsoort"]) == ("wet", BELASTING, "inkomen")
    assert set(received["gegevens"]) == {"belastingjaar", "verzamelinkomenInCenten"}
    row = ReceivedCredential.objects.get()
    assert row.request is None and row.requester_id == GEMEENTE
    assert (row.delete_after - row.received_at) == timedelta(days=90)


def test_a_lawful_fetch_of_nested_fields_is_kept_not_mistaken_for_more_than_asked(demo_world, bsn):
    # A nested field comes with its parent object's disclosure ("naam"): that is no field beyond the request.
    response = lawful(bsn=bsn, velden=["naam.geslachtsnaam", "belastingjaar"])
    assert response.status_code == 201, response.text
    assert set(response.json()["gegevens"]) == {"naam", "belastingjaar"}
    assert set(response.json()["gegevens"]["naam"]) == {"geslachtsnaam"}


@pytest.mark.parametrize(
    "changes",
    [
        {"bewaartermijnDagen": 400},  # longer than the law allows
        {"doel": "iets-anders"},
        {"documentsoort": "vorderingen", "velden": ["vorderingen.kenmerk"]},
    ],
)
def test_a_lawful_fetch_beyond_the_legal_basis_is_refused_before_asking(demo_world, bsn, changes):
    assert is_problem(lawful(bsn=bsn, **changes), 403, "beyond_legal_basis")
    assert ReceivedCredential.objects.count() == 0


def test_a_requester_the_law_does_not_name_cannot_fetch_on_it(demo_world, bsn):
    assert is_problem(lawful(WONING, WONING_SLUG, bsn=bsn), 403, "beyond_legal_basis")


def test_a_lawful_fetch_with_an_invalid_bsn_says_so_without_the_number(demo_world):
    response = lawful(bsn="123456789")
    assert is_problem(response, 400) and "123456789" not in response.text
