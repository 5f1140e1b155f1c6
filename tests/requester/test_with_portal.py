"""The whole round with the real portal: asked, approved by the citizen, received, fetched again, withdrawn."""

from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from blauweknop.portal import consents
from blauweknop.pseudonyms import pseudonym
from blauweknop.requester.models import ReceivedCredential
from tests.portal.conftest import log_in

from .world import BELASTING, api_url, authenticated, created, income_request, is_problem, state_of

pytestmark = pytest.mark.django_db(transaction=True)


def fetch_now(code: str) -> httpx.Response:
    url = f"{api_url()}/verzoeken/{code}/ophalen"
    return httpx.post(url, json=authenticated({}, url), timeout=60)


def test_a_standing_request_approved_in_the_portal_is_received_fetched_again_and_ends_at_withdrawal(
    client, demo_world, bsn
):
    until = date.today() + timedelta(days=60)
    made = created(income_request(toegang="doorlopend", toegangTot=until.isoformat()))
    assert log_in(client, bsn).status_code == 302
    link = urlsplit(made["link"])
    opened = client.get(f"{link.path}?{link.query}")
    assert opened.status_code == 303, opened.content.decode()[:500]
    decided = client.post(opened["Location"], {"besluit": "ja", "veld-inkomen": ["vastgesteldOp"]})
    assert decided.status_code == 303

    state = state_of(made["code"]).json()
    assert state["status"] == "goedgekeurd" and state["goedgekeurdTot"] == until.isoformat()
    (received,) = state["ontvangen"]
    assert (received["via"], received["uitgever"]) == ("antwoord", BELASTING)
    assert set(received["gegevens"]) == {"belastingjaar", "verzamelinkomenInCenten", "vastgesteldOp"}

    again = fetch_now(made["code"])
    assert again.status_code == 200, again.text
    (fetched,) = again.json()["ontvangen"]
    assert fetched["via"] == "ophaling" and fetched["gegevens"] == received["gegevens"]

    assert consents.withdraw(pseudonym(bsn), state["toestemming"])
    assert is_problem(fetch_now(made["code"]), 403, "consent_withdrawn")
    assert state_of(made["code"]).json()["status"] == "ingetrokken"
    assert ReceivedCredential.objects.count() == 2  # what was received stays until its own term ends
