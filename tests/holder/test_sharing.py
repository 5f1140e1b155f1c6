"""POST /<holder>/api/v1/verklaringen with a share (the assertion's deling): the holder records for whom it was.

The citizen agreed in the portal to share with a requester; the holder's access record names that
requester, the purpose and the legal basis, and a share with a suspended requester is refused where
the citizen sees it.
"""

import httpx
import pytest
from django.test import Client

from blauweknop import keystore
from blauweknop.audit.models import AccessRecord
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import IssuedCredential, SourceRecord
from blauweknop.protocol import session_assertion
from blauweknop.protocol.session_assertion import Sharing
from tests.holder.test_issue_credential import _verify
from tests.holder.test_legal_basis import _suspend
from tests.portal.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
BELASTING = "00000001003214345000"
SPAARBANK = "00000003334469140000"
BOETEN = "00000001002564440000"  # a holder, not a requester
PURPOSE = "Wij kijken of u de lening kunt terugbetalen."


@pytest.fixture
def bsn(demo_world):
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]


def _shared(bsn, wallet, requester=SPAARBANK, purpose=PURPOSE):
    sharing = Sharing(requester_oin=requester, purpose=purpose, legal_basis="toestemming", consent_id="t-42")
    return session_assertion.sign(
        keystore.signing_key(PORTAL_OIN),
        app_manager_oin=PORTAL_OIN,
        holder_oin=BELASTING,
        bsn=bsn,
        assurance_level="substantieel",
        wallet_jwk=wallet.public_jwk,
        sharing=sharing,
    )


def _ask(server, assertion):
    body = {"appbeheerderverklaring": assertion, "documentsoort": "inkomen"}
    return httpx.post(f"{server.url}/belastingkantoor/api/v1/verklaringen", json=body, timeout=30)


def test_a_share_is_issued_to_the_wallet_and_recorded_for_the_requester(demo_world, bsn, wallet):
    response = _ask(demo_world, _shared(bsn, wallet))
    assert response.status_code == 201
    assert _verify(demo_world, response.json()["verklaring"]).holder_jwk == wallet.public_jwk
    record = AccessRecord.objects.about(bsn).get()
    assert (record.activity, record.actor_oin, record.legal_basis) == ("plus-delen", SPAARBANK, "toestemming")
    assert record.purpose == PURPOSE and record.document_type == "inkomen" and record.fields


def test_a_share_with_a_suspended_requester_is_refused_and_the_citizen_sees_it(demo_world, bsn, wallet):
    _suspend(SPAARBANK)
    assertion = _shared(bsn, wallet)
    response = _ask(demo_world, assertion)
    assert (response.status_code, response.json()["code"]) == (403, "not_certified")
    assert response.headers["Content-Type"] == "application/problem+json" and bsn not in response.text
    record = AccessRecord.objects.about(bsn).get()
    assert (record.activity, record.actor_oin, record.fields) == ("plus-delen-geweigerd", SPAARBANK, [])
    assert not IssuedCredential.objects.exists()
    again = _ask(demo_world, assertion)  # the refused assertion was used up with its record
    assert (again.status_code, again.json()["code"]) == (401, "assertion_replayed")
    citizen = Client()
    assert log_in(citizen, bsn).status_code == 302
    page = citizen.get("/mijn-inzage/").content.decode()
    assert "Niet gedeeld met Spaarbank Voorbeeld: die organisatie mag nu geen gegevens krijgen" in page


def test_a_share_with_an_organisation_that_is_no_requester_is_refused_unrecorded(demo_world, bsn, wallet):
    response = _ask(demo_world, _shared(bsn, wallet, requester=BOETEN))
    assert (response.status_code, response.json()["code"]) == (403, "not_certified")
    assert not AccessRecord.objects.exists()


def test_a_suspended_app_manager_cannot_share_by_naming_a_suspended_requester(demo_world, bsn, wallet):
    _suspend(PORTAL_OIN)
    _suspend(SPAARBANK)
    response = _ask(demo_world, _shared(bsn, wallet))
    assert (response.status_code, response.json()["code"]) == (403, "not_certified")
    assert not AccessRecord.objects.exists()


def test_a_long_purpose_is_kept_cut_short_and_says_so(demo_world, bsn, wallet):
    purpose = "Wij kijken of u de lening kunt terugbetalen. " * 11  # 495 characters, within what a share may say
    assert _ask(demo_world, _shared(bsn, wallet, purpose=purpose.strip())).status_code == 201
    kept = AccessRecord.objects.about(bsn).get().purpose
    assert len(kept) == 200 and kept.endswith("…") and purpose.startswith(kept[:-1])


def test_the_citizen_sees_with_whom_it_was_shared_and_why(demo_world, bsn, wallet):
    assert _ask(demo_world, _shared(bsn, wallet)).status_code == 201
    citizen = Client()
    assert log_in(citizen, bsn).status_code == 302
    page = citizen.get("/mijn-inzage/").content.decode()
    assert "Gedeeld met Spaarbank Voorbeeld, met uw toestemming" in page
    assert f'Waarvoor: <span lang="nl">{PURPOSE}</span>' in page  # the requester's own Dutch words
    citizen.cookies["django_language"] = "en"
    assert "Shared with Spaarbank Voorbeeld, with your consent" in citizen.get("/mijn-inzage/").content.decode()
