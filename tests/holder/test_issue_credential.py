"""POST /<holder>/api/v1/verklaringen: a certified copy for the citizen in the app manager's assertion."""

import httpx
import pytest

from blauweknop import keystore
from blauweknop.audit.models import AccessRecord
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import scheme_document, sdjwt_vc, session_assertion
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.status_list import StatusListClient
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client, trust_anchor
from blauweknop.scheme.models import Organisation

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING = "00000001003214345000"


@pytest.fixture
def citizen_bsn(demo_world):
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]


def _assertion(bsn, wallet, holder_oin=BELASTING, signer=PORTAL_OIN, now=None):
    return session_assertion.sign(
        keystore.signing_key(signer),
        app_manager_oin=signer,
        holder_oin=holder_oin,
        bsn=bsn,
        assurance_level="substantieel",
        wallet_jwk=wallet.public_jwk,
        now=now,
    )


def _ask(server, body, slug="belastingkantoor"):
    return httpx.post(f"{server.url}/{slug}/api/v1/verklaringen", json=body, timeout=30)


def _verify(server, credential):
    scheme = scheme_document.verify(httpx.get(f"{server.url}/stelsel/api/v1/stelseldocument").text, trust_anchor())
    fetch = lambda uri: httpx.get(uri).text  # noqa: E731
    return sdjwt_vc.verify(
        credential, scheme.issuer_keys(), status_lists=StatusListClient(fetch), require_key_binding=False
    )


def test_it_issues_a_copy_that_verifies_through_the_scheme(demo_world, citizen_bsn, wallet):
    response = _ask(demo_world, {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"})
    assert response.status_code == 201
    assert response.headers["API-Version"] == "1.0.0"
    body = response.json()
    assert body["documentsoort"] == "inkomen" and body["vct"].endswith("/vct/inkomen/2")
    result = _verify(demo_world, body["verklaring"])
    expected = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn).data
    assert result.claims == expected
    assert result.holder_jwk == wallet.public_jwk
    assert result.iss == f"{demo_world.url}/belastingkantoor"


def test_every_issuance_leaves_an_access_record_without_the_bsn(demo_world, citizen_bsn, wallet):
    _ask(demo_world, {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"})
    record = AccessRecord.objects.about(citizen_bsn).get()
    assert (record.holder_id, record.actor_oin, record.document_type) == (BELASTING, PORTAL_OIN, "inkomen")
    assert record.subject == pseudonym(citizen_bsn) and citizen_bsn not in str(record.__dict__)
    assert record.purpose and record.legal_basis == "verzoek-betrokkene"


def test_an_assertion_cannot_be_used_twice(demo_world, citizen_bsn, wallet):
    body = {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"}
    assert _ask(demo_world, body).status_code == 201
    replay = _ask(demo_world, body)
    assert replay.status_code == 401
    assert replay.headers["Content-Type"] == "application/problem+json"
    assert replay.json()["code"] == "assertion_replayed"
    assert AccessRecord.objects.count() == 1


def test_changed_data_makes_earlier_copies_superseded(demo_world, citizen_bsn, wallet):
    first = _ask(demo_world, {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"})
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn)
    record.data = {**record.data, "verzamelinkomenInCenten": record.data["verzamelinkomenInCenten"] + 100_00}
    record.save()
    second = _ask(demo_world, {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"})
    assert _verify(demo_world, second.json()["verklaring"]).claims == record.data
    with pytest.raises(VerificationError) as caught:
        _verify(demo_world, first.json()["verklaring"])
    assert caught.value.code == "revoked"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"appbeheerderverklaring": "kort", "documentsoort": "inkomen"}, 400, "invalid_input"),
        ({"documentsoort": "inkomen"}, 400, "invalid_input"),
        ({"appbeheerderverklaring": "x" * 40, "documentsoort": "inkomen"}, 400, "malformed"),
        ({"appbeheerderverklaring": "x" * 40, "documentsoort": "Inkomen; DROP"}, 400, "invalid_input"),
    ],
)
def test_bad_requests_get_a_problem_that_says_what_is_wrong(demo_world, body, status, code):
    response = _ask(demo_world, body)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_the_holder_refuses_what_it_does_not_issue_or_has_not_got(demo_world, citizen_bsn, wallet):
    other = _ask(demo_world, {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "toeslagen"})
    assert (other.status_code, other.json()["code"]) == (404, "not_issued_here")
    SourceRecord.objects.filter(holder_oin=BELASTING, bsn=citizen_bsn, document_type="inkomen").delete()
    none = _ask(demo_world, {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"})
    assert (none.status_code, none.json()["code"]) == (404, "no_data")
    assert citizen_bsn not in none.text


def test_an_assertion_for_another_holder_is_refused(demo_world, citizen_bsn, wallet):
    assertion = _assertion(citizen_bsn, wallet, holder_oin="00000001823288444000")
    response = _ask(demo_world, {"appbeheerderverklaring": assertion, "documentsoort": "inkomen"})
    assert (response.status_code, response.json()["code"]) == (401, "aud_mismatch")


def test_a_suspended_app_manager_is_refused_after_the_next_scheme_document(demo_world, citizen_bsn, wallet):
    Organisation.objects.filter(oin=PORTAL_OIN).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    scheme_client.forget()  # as if the refresh interval had passed
    response = _ask(demo_world, {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"})
    assert (response.status_code, response.json()["code"]) == (403, "not_certified")


def test_unknown_holders_get_a_problem_not_a_page(demo_world, citizen_bsn, wallet):
    response = _ask(
        demo_world,
        {"appbeheerderverklaring": _assertion(citizen_bsn, wallet), "documentsoort": "inkomen"},
        slug="bestaat-niet",
    )
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
