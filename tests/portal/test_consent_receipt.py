"""The consent receipt: every TS 27560 element the record uses, the citizen named by pseudonym only; the PDF signed."""

import asyncio
import json

import pytest
from django.conf import settings
from django.test import Client

from blauweknop import keystore, pdf
from blauweknop.portal import consents
from blauweknop.protocol.consent_receipt import FIELDS, current_state
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import thumbprint
from blauweknop.scheme.client import scheme_client
from tests.portal.conftest import BELASTING, log_in
from tests.portal.consent_world import ASKED, asked, citizen, given


@pytest.fixture
def mine(demo_world, citizen_bsn):
    """A logged-in citizen with a standing consent under which the tax office delivered once."""
    client = Client()
    assert log_in(client, citizen_bsn).status_code == 302
    consent, _ = given(citizen(citizen_bsn))
    consents.delivered(consent, {"houders": {"inkomen": [BELASTING]}, "velden": {"inkomen": list(ASKED)}})
    return client, consent


def names(value) -> set[str]:
    """Every element name in a receipt, at any depth."""
    if isinstance(value, dict):
        return set(value) | {n for v in value.values() for n in names(v)}
    if isinstance(value, list):
        return {n for v in value for n in names(v)}
    return set()


def test_the_json_receipt_has_every_ts27560_element_and_names_the_citizen_by_pseudonym_only(mine, citizen_bsn):
    client, consent = mine
    response = client.get(f"/toestemmingen/{consent.pk}/bewijs.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    receipt = json.loads(response.content)
    assert set(FIELDS) <= names(receipt)
    assert citizen_bsn not in response.content.decode()
    assert receipt["recordId"] == consent.pk and receipt["piiPrincipalId"] == citizen(citizen_bsn).pseudonym
    (purpose,) = receipt["purposes"]
    assert {item["piiAttributeId"] for item in purpose["piiInformation"]} == {f"inkomen:{p}" for p in ASKED}
    assert purpose["lawfulBasis"] == "toestemming" and purpose["retentionPeriod"] == "P30D"
    assert purpose["withdrawalMethod"].endswith(f"/toestemmingen/{consent.pk}/")
    assert {p["partyId"] for p in receipt["parties"]} == {consent.requester_oin, settings.PORTAL_OIN, BELASTING}
    assert current_state(receipt) == "ConsentGiven"


def test_after_withdrawal_the_receipt_says_so(mine):
    client, consent = mine
    client.post(f"/toestemmingen/{consent.pk}/intrekken/")
    receipt = json.loads(client.get(f"/toestemmingen/{consent.pk}/bewijs.json").content)
    assert [e["eventState"] for e in receipt["events"]] == ["ConsentGiven", "ConsentWithdrawn"]


def test_the_pdf_receipt_is_signed_by_the_portal_and_holds_the_json_receipt(mine):
    client, consent = mine
    response = client.get(f"/toestemmingen/{consent.pk}/bewijs.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    portal = {thumbprint(keystore.signing_key(settings.PORTAL_OIN).public_jwk)}
    (embedded,) = pdf.check_bundle(response.content, signers=portal, max_parts=1, max_size=1024 * 1024)
    assert json.loads(embedded.data) == json.loads(client.get(f"/toestemmingen/{consent.pk}/bewijs.json").content)
    changed = response.content.replace(b"/Type", b"/Typf", 1)
    assert changed != response.content
    with pytest.raises(VerificationError):
        pdf.check_bundle(changed, signers=portal, max_parts=1, max_size=1024 * 1024)


def test_a_refusal_has_a_receipt_too_naming_what_was_asked(demo_world, citizen_bsn):
    who = citizen(citizen_bsn)
    consent = consents.refuse(who, asked(), requester_name="Woningcorporatie Thuisbasis", request_object="eyJ.x")
    receipt = consents.receipt(consents.of_citizen(who.pseudonym, consent.pk), asyncio.run(scheme_client.current()))
    assert current_state(receipt) == "ConsentRefused"
    assert {"partyId", "piiInformation", "eventState"} <= names(receipt)  # no holder: nothing was delivered
    assert {item["piiType"] for item in receipt["purposes"][0]["piiInformation"]} == set(ASKED)
