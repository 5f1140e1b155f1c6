"""A request for one citizen: only that citizen's data are taken, and their BSN is never shown again.

Anyone with the link or the code can open a request; a bank's loan file for one person must not
receive another person's income. The back office names the BSN; the request asks it as required,
keeps only a pseudonym of it, and refuses an answer about anyone else while it stays open.
"""

import base64
import dataclasses
import json
from datetime import date, timedelta

import httpx
import pytest

from blauweknop import document_types
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import openid4vp
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.portal.stand_in import Answering, serving

from .world import (
    BELASTING,
    INCOME,
    WONING,
    api_url,
    as_portal,
    authenticated,
    copy,
    create,
    created,
    income_request,
    is_problem,
    opened,
    post_answer,
    presentation,
    state_of,
    vp_token,
)

pytestmark = pytest.mark.django_db(transaction=True)
BSN = "burgerservicenummer"


@pytest.fixture
def other_bsn(demo_world, bsn):
    """Another demo citizen whose income the tax office holds."""
    others = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").exclude(bsn=bsn)
    return others.values_list("bsn", flat=True)[0]


def for_citizen(bsn: str, **changes) -> dict:
    """The housing corporation's income request, for the citizen with ``bsn`` only."""
    return created(income_request(burgerservicenummer=bsn, **changes))


def answered_by(bsn: str, request: openid4vp.AuthorizationRequest, consent: str = "tst-1") -> httpx.Response:
    """The portal's answer for the citizen ``bsn``: their own fresh copy, in their own wallet, as asked."""
    wallet = SigningKey(generate_jwk())
    shown = presentation(copy(bsn, wallet), wallet, request)
    fields = {"state": request.state, "vp_token": vp_token("inkomen", shown), "toestemming": consent}
    return post_answer(as_portal(fields))


def payload(request_object: str) -> str:
    """The claims of a signed request object, as anyone with the code can read them."""
    part = request_object.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def test_a_request_for_one_citizen_asks_their_bsn_as_required_and_shows_it_nowhere(demo_world, bsn):
    response = create(income_request(burgerservicenummer=bsn))
    assert response.status_code == 201, response.text
    assert bsn not in response.text
    made = response.json()
    (asked,) = opened(made).query.credentials
    assert asked.paths() == [BSN, *INCOME]
    assert asked.paths(required_only=True) == [BSN, "belastingjaar", "verzamelinkomenInCenten"]
    # The request object is served to anyone with the code: it asks the BSN, it does not carry it.
    served = httpx.get(made["requestUri"], timeout=30).text
    assert bsn not in served and bsn not in payload(served)
    row = ShareRequest.objects.get(code=made["code"])
    assert row.subject and all(bsn not in str(value) for value in vars(row).values())
    state = state_of(made["code"])
    assert state.status_code == 200 and bsn not in state.text


def test_another_citizens_answer_is_refused_and_the_request_stays_open_for_the_right_one(
    demo_world, bsn, other_bsn, caplog
):
    made = for_citizen(bsn)
    request = opened(made)
    wrong = answered_by(other_bsn, request)
    assert is_problem(wrong, 400, "wrong_subject")
    assert bsn not in wrong.text and other_bsn not in wrong.text
    assert ReceivedCredential.objects.count() == 0
    assert state_of(made["code"]).json()["status"] == "open"
    assert httpx.get(made["requestUri"], timeout=30).status_code == 200  # still served to the right citizen
    # The right citizen answers after all: taken, and only what was asked is kept, without the BSN.
    right = answered_by(bsn, request, consent="tst-2")
    assert right.status_code == 200 and right.json() == {"status": "goedgekeurd"}
    state = state_of(made["code"])
    assert (state.json()["status"], state.json()["toestemming"]) == ("goedgekeurd", "tst-2")
    (received,) = state.json()["ontvangen"]
    assert set(received["gegevens"]) == set(INCOME)
    assert bsn not in state.text and bsn not in str(ReceivedCredential.objects.get().claims)
    logged = [record.getMessage() for record in caplog.records]
    assert any("does not show the citizen it is for" in line for line in logged)
    assert not any(bsn in line or other_bsn in line for line in logged)


def test_an_answer_that_does_not_show_the_bsn_is_refused(demo_world, bsn, wallet):
    made = for_citizen(bsn)
    request = opened(made)
    shown = presentation(copy(bsn, wallet), wallet, request, paths=INCOME)
    response = post_answer({"state": request.state, "vp_token": vp_token("inkomen", shown)})
    assert is_problem(response, 400, "invalid_presentation") and bsn not in response.text
    assert ReceivedCredential.objects.count() == 0 and state_of(made["code"]).json()["status"] == "open"


def test_a_request_without_a_citizen_is_as_before(demo_world, bsn, other_bsn):
    made = created()
    request = opened(made)
    assert request.query.credentials[0].paths() == INCOME
    assert ShareRequest.objects.get(code=made["code"]).subject == ""
    assert answered_by(other_bsn, request).status_code == 200  # whoever has the link
    assert set(ReceivedCredential.objects.get().claims) == set(INCOME)


def test_every_type_that_has_a_bsn_asks_it_even_an_optional_one(demo_world, bsn):
    optional = {"documentsoort": "persoonsgegevens", "verplicht": False, "velden": [{"pad": "naam.geslachtsnaam"}]}
    body = income_request(burgerservicenummer=bsn)
    made = created({**body, "gevraagd": [*body["gevraagd"], optional]})
    income, person = opened(made).query.credentials
    assert (income.required, person.required) == (True, False)
    assert person.paths(required_only=True) == [BSN, "naam.geslachtsnaam"]


def test_a_bsn_no_required_type_can_show_is_refused_in_plain_words(demo_world, bsn, monkeypatch):
    catalogue = document_types.of

    def without_bsn_in_income(scheme):
        types = dict(catalogue(scheme).by_id)
        income = types["inkomen"]
        types["inkomen"] = dataclasses.replace(income, fields=tuple(f for f in income.fields if f.path != BSN))
        return document_types.Catalogue(types)

    monkeypatch.setattr(document_types, "of", without_bsn_in_income)
    optional = {"documentsoort": "persoonsgegevens", "verplicht": False, "velden": [{"pad": "naam.geslachtsnaam"}]}
    body = income_request(burgerservicenummer=bsn)
    response = create({**body, "gevraagd": [*body["gevraagd"], optional]})
    assert is_problem(response, 400, "invalid_request")
    assert "citizen service number" in response.json()["detail"] and bsn not in response.text
    assert ShareRequest.objects.count() == 0


@pytest.mark.parametrize("number", ["123456789", "12345678", "12345678x"])
def test_a_bsn_that_is_not_one_is_refused_without_repeating_it(demo_world, number):
    response = create(income_request(burgerservicenummer=number))
    assert is_problem(response, 400) and number not in response.text
    assert ShareRequest.objects.count() == 0


class Portal(Answering):
    """The app manager's fetch endpoint, presenting the copy it is given with the request's paths."""

    credential: str
    wallet = None
    paths: list[str] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        shown = openid4vp.present(self.credential, self.paths, holder_key=self.wallet, aud=WONING, nonce=body["nonce"])
        self.answer(200, "application/json", json.dumps({"vp_token": {"inkomen": [shown]}}).encode())


def fetch_now(code: str) -> httpx.Response:
    url = f"{api_url()}/verzoeken/{code}/ophalen"
    return httpx.post(url, json=authenticated({}, url), timeout=30)


def test_a_standing_fetch_takes_only_copies_about_the_citizen(demo_world, bsn, other_bsn):
    until = (date.today() + timedelta(days=60)).isoformat()
    made = for_citizen(bsn, toegang="doorlopend", toegangTot=until)
    request = opened(made)
    assert answered_by(bsn, request, consent="tst-9").status_code == 200
    wallet = SigningKey(generate_jwk())
    paths = request.query.credentials[0].paths()
    handler = type("StandIn", (Portal,), {"credential": copy(other_bsn, wallet), "wallet": wallet, "paths": paths})
    with serving(handler) as server:
        Organisation.objects.filter(oin=PORTAL_OIN).update(base_url=f"http://127.0.0.1:{server.server_port}")
        publication.publish()
        scheme_client.forget()
        wrong = fetch_now(made["code"])
        assert is_problem(wrong, 502, "upstream_failed") and "not about the person" in wrong.json()["detail"]
        assert bsn not in wrong.text and other_bsn not in wrong.text
        assert ReceivedCredential.objects.filter(via="ophaling").count() == 0
        assert state_of(made["code"]).json()["status"] == "goedgekeurd"  # the access stands
        handler.credential = copy(bsn, wallet)
        right = fetch_now(made["code"])
    assert right.status_code == 200, right.text
    (fetched,) = right.json()["ontvangen"]
    assert fetched["via"] == "ophaling" and set(fetched["gegevens"]) == set(INCOME)
    assert bsn not in right.text
