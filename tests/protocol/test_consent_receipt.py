"""Consent receipts with the element names of ISO/IEC TS 27560:2023, from the portal's plain values."""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from blauweknop.protocol import consent_receipt
from blauweknop.protocol.errors import InvalidInput

from .plus_scheme import CJIB, GEMEENTE, PORTAAL, VRAGER

GIVEN = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
PSEUDONYM = "p-3f9a1c0e7b2d4a68"
RECORD = {
    "record_id": "c-2027-0001",
    "principal": PSEUDONYM,
    "requester": {"oin": VRAGER, "name": "Woningcorporatie", "contact": "https://woningcorporatie.example/privacy"},
    "app_manager": {"oin": PORTAAL, "name": "Portaal", "contact": "https://portaal.example/hulp"},
    "holders": [
        {"oin": GEMEENTE, "name": "Gemeente", "contact": "https://gemeente.example/"},
        {"oin": CJIB, "name": "CJIB", "contact": "https://cjib.example/"},
    ],
    "purpose": {"nl": "Uw huur berekenen", "en": "To work out your rent"},
    "legal_basis": "toestemming",
    "fields": {
        "vorderingen": ["vorderingen.schuldeiser", "vorderingen.kenmerk"],
        "persoonsgegevens": ["adres.woonplaats"],
    },
    "optional": {"vorderingen": ["vorderingen.kenmerk"]},
    "retention_days": 90,
    "valid_until": GIVEN + timedelta(days=365),
    "notice": "https://woningcorporatie.example/vragers/woco/api/v1/verzoekobjecten/ABCDEFGH",
    "withdrawal": "https://portaal.example/toestemmingen/c-2027-0001/",
    "events": [
        {"type": "given", "time": GIVEN, "by": PSEUDONYM},
        {"type": "delivered", "time": GIVEN + timedelta(seconds=5), "by": PORTAAL},
        {"type": "withdrawn", "time": GIVEN + timedelta(days=3), "by": PSEUDONYM},
    ],
}


def test_a_receipt_carries_the_ts_27560_elements_of_the_record():
    receipt = consent_receipt.receipt(RECORD)
    assert receipt["schemaVersion"] == consent_receipt.SCHEMA_VERSION
    assert (receipt["recordId"], receipt["piiPrincipalId"], receipt["language"]) == ("c-2027-0001", PSEUDONYM, "nl")
    assert receipt["privacyNotice"] == RECORD["notice"]
    [purpose] = receipt["purposes"]
    assert purpose["purpose"] == "Uw huur berekenen" and purpose["lawfulBasis"] == "toestemming"
    assert purpose["piiControllers"] == purpose["recipientThirdParties"] == [VRAGER]
    assert (purpose["retentionPeriod"], purpose["jurisdiction"]) == ("P90D", "NL")
    assert purpose["withdrawalMethod"] == "https://portaal.example/toestemmingen/c-2027-0001/"
    assert purpose["piiInformation"] == [
        {
            "piiType": "vorderingen.schuldeiser",
            "piiAttributeId": "vorderingen:vorderingen.schuldeiser",
            "piiOptional": False,
        },
        {"piiType": "vorderingen.kenmerk", "piiAttributeId": "vorderingen:vorderingen.kenmerk", "piiOptional": True},
        {"piiType": "adres.woonplaats", "piiAttributeId": "persoonsgegevens:adres.woonplaats", "piiOptional": False},
    ]
    parties = {p["partyId"]: p for p in receipt["parties"]}
    assert parties[VRAGER]["partyName"] == "Woningcorporatie" and parties[VRAGER]["partyRole"] == "DataController"
    assert set(parties) == {VRAGER, PORTAAL, GEMEENTE, CJIB}
    assert receipt["events"] == [
        {
            "eventTime": "2027-01-15T08:00:00Z",
            "validityDuration": "P365D",
            "entityId": PSEUDONYM,
            "eventType": "ExplicitlyExpressedConsent",
            "eventState": "ConsentGiven",
        },
        {
            "eventTime": "2027-01-18T08:00:00Z",
            "validityDuration": "P0D",
            "entityId": PSEUDONYM,
            "eventType": "ExplicitlyExpressedConsent",
            "eventState": "ConsentWithdrawn",
        },
    ]
    assert consent_receipt.current_state(receipt) == "ConsentWithdrawn"
    json.dumps(receipt)  # a receipt is plain JSON, ready to download


def test_every_element_name_in_fields_is_used_and_every_used_name_is_in_fields():
    receipt = consent_receipt.receipt(RECORD)
    used = set(receipt) | set(receipt["purposes"][0]) | set(receipt["purposes"][0]["piiInformation"][0])
    used |= set(receipt["parties"][0]) | set(receipt["events"][0])
    assert used == set(consent_receipt.FIELDS)


def test_the_same_record_in_the_same_state_gives_the_same_receipt_id():
    first, again = consent_receipt.receipt(RECORD), consent_receipt.receipt(copy.deepcopy(RECORD))
    assert first["receiptId"] == again["receiptId"]
    refused = {**RECORD, "events": [{"type": "refused", "time": GIVEN, "by": PSEUDONYM}], "valid_until": None}
    other = consent_receipt.receipt(refused)
    assert other["receiptId"] != first["receiptId"]
    assert consent_receipt.current_state(other) == "ConsentRefused"
    assert other["events"][0]["validityDuration"] == "P0D"


def test_an_expired_consent_and_unix_times():
    expiring = {
        **RECORD,
        "valid_until": 1_800_000_000 + 86400,
        "events": [
            {"type": "expired", "time": 1_800_000_000 + 86400, "by": PORTAAL},
            {"type": "given", "time": 1_800_000_000, "by": PSEUDONYM},
        ],
    }
    receipt = consent_receipt.receipt(expiring)
    assert [e["eventState"] for e in receipt["events"]] == ["ConsentGiven", "ConsentExpired"]
    assert receipt["events"][0]["validityDuration"] == "P1D"
    assert consent_receipt.current_state(receipt) == "ConsentExpired"


@pytest.mark.parametrize(
    "change",
    [
        {"principal": "999993653"},
        {"principal": ""},
        {"requester": {"oin": "123", "name": "X", "contact": "x"}},
        {"requester": {"oin": VRAGER, "name": "", "contact": "x"}},
        {"app_manager": None},
        {"purpose": {"en": "Rent"}},
        {"language": "de"},
        {"legal_basis": ""},
        {"retention_days": 0},
        {"fields": {}},
        {"fields": {"vorderingen": []}},
        {"notice": None},
        {"withdrawal": ""},
        {"events": []},
        {"events": [{"type": "delivered", "time": GIVEN, "by": PORTAAL}]},
        {"events": [{"type": "vergeten", "time": GIVEN, "by": PSEUDONYM}]},
        {"events": [{"type": "given", "time": datetime(2027, 1, 15), "by": PSEUDONYM}]},
        {"holders": "Gemeente"},
    ],
    ids=[
        "bsn-as-principal",
        "no-principal",
        "requester-without-oin",
        "requester-without-name",
        "no-app-manager",
        "purpose-without-dutch",
        "language-not-given",
        "no-legal-basis",
        "no-retention",
        "no-fields",
        "type-without-fields",
        "no-notice",
        "no-withdrawal",
        "no-events",
        "only-uses",
        "unknown-event",
        "naive-time",
        "holders-not-a-list",
    ],
)
def test_a_record_that_cannot_make_a_receipt_is_refused(change):
    with pytest.raises(InvalidInput) as caught:
        consent_receipt.receipt({**RECORD, **change})
    assert "999993653" not in str(caught.value)


def _without(path):
    receipt = consent_receipt.receipt(RECORD)
    *parents, name = path
    target = receipt
    for part in parents:
        target = target[part]
    del target[name]
    return receipt


@pytest.mark.parametrize(
    "broken",
    [
        lambda: _without(["schemaVersion"]),
        lambda: _without(["piiPrincipalId"]),
        lambda: _without(["purposes", 0, "retentionPeriod"]),
        lambda: _without(["purposes", 0, "piiInformation", 0, "piiType"]),
        lambda: _without(["parties", 0, "partyName"]),
        lambda: _without(["events", 0, "eventState"]),
        lambda: {**consent_receipt.receipt(RECORD), "piiPrincipalId": "999993653"},
        lambda: {**consent_receipt.receipt(RECORD), "events": []},
        lambda: {**consent_receipt.receipt(RECORD), "schemaVersion": "other/1"},
        lambda: {**consent_receipt.receipt(RECORD), "events": consent_receipt.receipt(RECORD)["events"][::-1]},
        lambda: "receipt",
    ],
    ids=[
        "no-schema-version",
        "no-principal",
        "no-retention",
        "no-pii-type",
        "no-party-name",
        "no-event-state",
        "bsn",
        "no-events",
        "other-schema",
        "events-out-of-order",
        "not-an-object",
    ],
)
def test_validate_refuses_a_receipt_without_its_elements(broken):
    with pytest.raises(InvalidInput):
        consent_receipt.validate(broken())


def test_a_controller_must_be_one_of_the_parties():
    receipt = consent_receipt.receipt(RECORD)
    receipt["parties"] = [p for p in receipt["parties"] if p["partyId"] != VRAGER]
    with pytest.raises(InvalidInput):
        consent_receipt.validate(receipt)
