"""POST /<holder>/api/v1/wettelijke-verstrekkingen: a requester gets what a law entry allows it, and nothing more.

The municipality (Gemeente Voorbeeldstad) fetches income from the tax office under the Participatiewet,
article 64, as the scheme's register of legal bases says; anything beyond that entry is refused, and
the citizen sees every delivery and every refusal on "Wie heeft mijn gegevens ingezien?".
"""

import json
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from blauweknop import keystore
from blauweknop.audit.models import AccessRecord
from blauweknop.holder import lawful
from blauweknop.holder.models import IssuedCredential, SourceRecord
from blauweknop.protocol import client_assertion, scheme_document, sdjwt_vc
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.status_list import StatusListClient
from blauweknop.scheme import catalogue, publication
from blauweknop.scheme.client import scheme_client, trust_anchor
from blauweknop.scheme.models import Organisation
from tests.portal.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING = "00000001003214345000"
GEMEENTE = "00000001823288444000"  # a holder, and a requester named by participatiewet-art-64
SPAARBANK = "00000003334469140000"  # a requester the law does not name
BASIS = "participatiewet-art-64"
ENTRY = next(b for b in catalogue.legal_bases() if b["id"] == BASIS)
ASKED = ["burgerservicenummer", "belastingjaar", "verzamelinkomenInCenten"]


@pytest.fixture
def bsn(demo_world):
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]


def _url(server, slug="belastingkantoor"):
    return f"{server.url}/{slug}/api/v1/wettelijke-verstrekkingen"


def _body(server, bsn, requester=GEMEENTE, audience=None, **changes):
    assertion = client_assertion.sign(
        keystore.signing_key(requester), client_id=requester, audience=audience or _url(server)
    )
    return {
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": assertion,
        "burgerservicenummer": bsn,
        "documentsoort": "inkomen",
        "velden": ASKED,
        "grondslag": BASIS,
        "doel": ENTRY["doel"]["code"],
        "bewaartermijnDagen": ENTRY["maxBewaartermijnDagen"],
        **changes,
    }


def _post(server, body):
    return httpx.post(_url(server), json=body, timeout=30)


def _verify(server, credential):
    scheme = scheme_document.verify(httpx.get(f"{server.url}/stelsel/api/v1/stelseldocument").text, trust_anchor())
    fetch = lambda uri: httpx.get(uri).text  # noqa: E731
    return sdjwt_vc.verify(
        credential, scheme.issuer_keys(), status_lists=StatusListClient(fetch), require_key_binding=False
    )


def _suspend(oin):
    Organisation.objects.filter(oin=oin).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    scheme_client.forget()  # as if the refresh interval had passed


def test_the_municipality_gets_only_the_asked_income_fields_bound_to_its_own_key(demo_world, bsn):
    response = _post(demo_world, _body(demo_world, bsn))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["documentsoort"], body["vct"]) == ("inkomen", catalogue.document_type("inkomen").vct)
    copy = _verify(demo_world, body["verklaring"])
    source = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=bsn).data
    assert copy.claims == {path: source[path] for path in ASKED}  # no name, no birth date, no other amounts
    assert copy.holder_jwk == keystore.signing_key(GEMEENTE).public_jwk  # only the municipality can present it
    assert copy.iss == f"{demo_world.url}/belastingkantoor"
    record = AccessRecord.objects.about(bsn).get()
    assert (record.activity, record.actor_oin, record.legal_basis) == ("wettelijke-verstrekking", GEMEENTE, BASIS)
    assert (record.purpose, record.fields, record.holder_id) == (ENTRY["doel"]["nl"], ASKED, BELASTING)


REFUSED = {
    "another field": {"velden": [*ASKED, "toetsingsinkomenInCenten"]},
    "another document type": {"documentsoort": "vorderingen", "velden": ["burgerservicenummer"]},
    "another purpose": {"doel": "kwijtschelding"},
    "a longer term": {"bewaartermijnDagen": ENTRY["maxBewaartermijnDagen"] + 1},
    "consent as basis": {"grondslag": "toestemming"},
    "a basis not in the register": {"grondslag": "gemeentewet-art-1"},
}


@pytest.mark.parametrize("change", REFUSED.values(), ids=REFUSED.keys())
def test_anything_beyond_the_law_entry_is_refused_and_recorded(demo_world, bsn, change, caplog):
    response = _post(demo_world, _body(demo_world, bsn, **change))
    assert (response.status_code, response.json()["code"]) == (403, "beyond_legal_basis")
    assert response.headers["Content-Type"] == "application/problem+json"
    assert bsn not in response.text
    record = AccessRecord.objects.about(bsn).get()
    assert (record.activity, record.actor_oin, record.fields) == ("wettelijke-verstrekking-geweigerd", GEMEENTE, [])
    assert record.legal_basis == change.get("grondslag", BASIS)
    assert not IssuedCredential.objects.exists()
    refused = [r.getMessage() for r in caplog.records if "legal-basis delivery refused" in r.getMessage()]
    assert refused and all(bsn not in message for message in refused)
    assert bsn not in caplog.text


def test_the_detail_says_precisely_what_lies_beyond(demo_world, bsn):
    detail = lambda change: _post(demo_world, _body(demo_world, bsn, **change)).json()["detail"]  # noqa: E731
    assert "'toetsingsinkomenInCenten'" in detail(REFUSED["another field"])
    assert f"{ENTRY['maxBewaartermijnDagen']} days at most" in detail(REFUSED["a longer term"])
    assert repr(ENTRY["doel"]["code"]) in detail(REFUSED["another purpose"])


def test_a_requester_the_law_does_not_name_is_refused_and_the_citizen_sees_who(demo_world, bsn):
    response = _post(demo_world, _body(demo_world, bsn, requester=SPAARBANK))
    assert (response.status_code, response.json()["code"]) == (403, "beyond_legal_basis")
    assert SPAARBANK in response.json()["detail"]
    record = AccessRecord.objects.about(bsn).get()
    assert (record.activity, record.actor_oin) == ("wettelijke-verstrekking-geweigerd", SPAARBANK)


def test_a_suspended_requester_is_refused_and_the_refusal_recorded(demo_world, bsn):
    _suspend(GEMEENTE)
    response = _post(demo_world, _body(demo_world, bsn))
    assert (response.status_code, response.json()["code"]) == (403, "not_certified")
    record = AccessRecord.objects.about(bsn).get()
    assert (record.activity, record.actor_oin, record.legal_basis) == (
        "wettelijke-verstrekking-geweigerd",
        GEMEENTE,
        BASIS,
    )
    assert not IssuedCredential.objects.exists()


def test_a_replayed_client_assertion_is_refused(demo_world, bsn):
    body = _body(demo_world, bsn)
    assert _post(demo_world, body).status_code == 201
    again = _post(demo_world, body)
    assert (again.status_code, again.json()["code"]) == (401, "assertion_replayed")
    assert AccessRecord.objects.about(bsn).count() == 1  # the replay itself gave nothing and wrote nothing


def _for_another_address(server, bsn):
    return _body(server, bsn, audience=_url(server, "gemeente-voorbeeldstad"))


def _from_a_holder_that_is_no_requester(server, bsn):
    return {**_body(server, bsn), "client_assertion": _body(server, bsn, requester=BELASTING)["client_assertion"]}


def _signed_with_another_key(server, bsn):
    stranger = SigningKey({**generate_jwk(), "kid": keystore.signing_key(GEMEENTE).kid})
    forged = client_assertion.sign(stranger, client_id=GEMEENTE, audience=_url(server))
    return {**_body(server, bsn), "client_assertion": forged}


@pytest.mark.parametrize(
    ("tamper", "refusal"),
    [
        (_for_another_address, (401, "aud_mismatch")),
        (_from_a_holder_that_is_no_requester, (403, "not_certified")),
        (_signed_with_another_key, (400, "invalid_client")),
    ],
)
def test_who_cannot_show_to_be_a_requester_gets_nothing_and_writes_nothing(demo_world, bsn, tamper, refusal):
    response = _post(demo_world, tamper(demo_world, bsn))
    assert (response.status_code, response.json()["code"]) == refusal
    assert not AccessRecord.objects.exists() and not IssuedCredential.objects.exists()


def test_hostile_bodies_get_a_problem_not_a_traceback(demo_world, bsn):
    for change in (
        {"burgerservicenummer": "123456789"},  # fails the 11-proef
        {"velden": ["naam.0.voornamen"]},
        {"velden": ["x" * 200]},
        {"bewaartermijnDagen": -1},
        {"client_assertion_type": "password"},
    ):
        response = _post(demo_world, _body(demo_world, bsn, **change))
        assert (response.status_code, response.json()["code"]) == (400, "invalid_input"), change
        assert bsn not in response.text
    assert not AccessRecord.objects.exists()


def test_a_citizen_without_income_there_is_looked_up_and_sees_that(demo_world):
    known = set(SourceRecord.objects.values_list("bsn", flat=True))
    nobody = next(b for n in range(100_000_000, 999_999_999, 7919) if is_valid_bsn(b := str(n)) and b not in known)
    response = _post(demo_world, _body(demo_world, nobody))
    assert (response.status_code, response.json()["code"]) == (404, "no_data")
    assert AccessRecord.objects.about(nobody).get().activity == "wettelijke-verstrekking-zoeken"


def test_the_citizen_sees_the_law_and_article_and_who_fetched(demo_world, bsn):
    assert _post(demo_world, _body(demo_world, bsn)).status_code == 201
    assert _post(demo_world, _body(demo_world, bsn, requester=SPAARBANK)).status_code == 403
    citizen = Client()
    assert log_in(citizen, bsn).status_code == 302
    page = citizen.get("/mijn-inzage/").content.decode()
    assert "Gegeven aan Gemeente Voorbeeldstad, omdat de wet dat verplicht" in page
    assert "Participatiewet, artikel 64" in page and ENTRY["url"].replace("&", "&amp;") in page
    assert ENTRY["doel"]["nl"] in page
    assert "Gegeven: Burgerservicenummer (BSN), Jaar, Verzamelinkomen" in page  # the fields the law allowed
    assert "Spaarbank Voorbeeld vroeg gegevens, maar mocht die niet krijgen. Er is niets gegeven" in page
    citizen.cookies["django_language"] = "en"
    english = citizen.get("/mijn-inzage/").content.decode()
    assert "Given to Gemeente Voorbeeldstad, because the law requires it" in english
    assert "Participation Act, article 64" in english and ENTRY["doel"]["en"] in english
    assert "Given: Citizen service number (BSN), Year, Aggregate income" in english


def test_the_register_entry_is_in_the_published_scheme(demo_world):
    scheme = scheme_document.verify(httpx.get(f"{demo_world.url}/stelsel/api/v1/stelseldocument").text, trust_anchor())
    published = next(b for b in scheme.legal_bases if b["id"] == BASIS)
    assert json.dumps(published, sort_keys=True) == json.dumps(ENTRY, sort_keys=True)
    assert published["vragers"] == [GEMEENTE] and scheme.is_certified(GEMEENTE, "requester")
    assert set(published["documentsoorten"]["inkomen"]) <= {f.path for f in catalogue.document_type("inkomen").fields}


def test_a_requester_refused_again_and_again_stops_writing_into_citizens_records(demo_world, bsn, monkeypatch):
    """Review A3: a requester no law names wrote a refusal line into any citizen's records, without end."""
    monkeypatch.setattr(lawful, "REFUSALS_PER_HOUR", 3)
    others = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").exclude(bsn=bsn)
    victims = [bsn, *others.values_list("bsn", flat=True)[:4]]
    answers = [_post(demo_world, _body(demo_world, victim, requester=SPAARBANK)) for victim in victims]
    assert [a.status_code for a in answers] == [403, 403, 403, 429, 429]
    assert answers[-1].json()["code"] == "too_many_refusals"
    assert answers[-1].headers["Content-Type"].startswith("application/problem+json")
    assert [AccessRecord.objects.about(v).count() for v in victims] == [1, 1, 1, 0, 0]
    # Another requester, entitled by law, is not held up by the bank's refusals.
    assert _post(demo_world, _body(demo_world, victims[-1])).status_code == 201
    AccessRecord.objects.filter(actor_oin=SPAARBANK).update(at=timezone.now() - timedelta(hours=1, minutes=1))
    assert _post(demo_world, _body(demo_world, victims[-1], requester=SPAARBANK)).status_code == 403
