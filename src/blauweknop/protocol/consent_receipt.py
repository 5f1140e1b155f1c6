"""Consent receipts in the information structure of ISO/IEC TS 27560:2023 (consent record information structure).

A receipt is the citizen's authoritative copy of a consent record in the portal's register. The
element names are those of TS 27560 as the W3C DPV guide spells them in JSON
(https://w3id.org/dpv/guides/consent-27560): header (``schemaVersion``, ``recordId``, ``receiptId``,
``piiPrincipalId``), processing (``privacyNotice``, ``language``, ``purposes`` with ``purpose``,
``lawfulBasis``, ``piiInformation``, ``piiControllers``, ``collectionMethod``, ``storageLocations``,
``retentionPeriod``, ``jurisdiction``, ``recipientThirdParties``, ``withdrawalMethod``), parties
(``partyId``, ``partyName``, ``partyAddress``, ``partyContact``, ``partyType``, ``partyRole``) and
events (``eventTime``, ``validityDuration``, ``entityId``, ``eventType``, ``eventState``).

TS 27560 has no record-level state: the state of a record is the ``eventState`` of its latest event
(:func:`current_state`). Uses of a consent (a delivery, a refused fetch) are no consent events in
TS 27560; the portal keeps them beside the record and leaves them out of the receipt.

The principal is named by the portal's pseudonym, never by a BSN (:func:`validate` refuses one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from blauweknop.protocol.encoding import json_dumps
from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.identifiers import is_valid_bsn, is_valid_oin

SCHEMA_VERSION = "blauweknop-ts27560/1"  # our profile of TS 27560:2023, in the spirit of DPV's dpv-27560
JURISDICTION = "NL"
EVENT_TYPE = "ExplicitlyExpressedConsent"  # the citizen ticks and presses a button (DPV consent type)
# The record's events as given in plain values -> TS 27560 eventState (DPV consent status names).
STATES = {
    "given": "ConsentGiven",
    "refused": "ConsentRefused",
    "withdrawn": "ConsentWithdrawn",
    "expired": "ConsentExpired",
}
USES = frozenset({"delivered", "fetch_refused"})  # events of the register that are no consent events
CONTROLLER, RECORD_KEEPER, SOURCE = "DataController", "ConsentRecordKeeper", "DataSource"
MAX_TEXT = 1000

# Each level of a receipt: element name -> the JSON type it must have.
HEADER: dict[str, type | tuple[type, ...]] = {
    "schemaVersion": str,
    "recordId": str,
    "receiptId": str,
    "piiPrincipalId": str,
    "privacyNotice": str,
    "language": str,
    "purposes": list,
    "parties": list,
    "events": list,
}
PURPOSE: dict[str, type | tuple[type, ...]] = {
    "purpose": str,
    "lawfulBasis": str,
    "piiInformation": list,
    "piiControllers": list,
    "collectionMethod": str,
    "storageLocations": list,
    "retentionPeriod": str,
    "jurisdiction": str,
    "recipientThirdParties": list,
    "withdrawalMethod": str,
}
PII: dict[str, type | tuple[type, ...]] = {"piiType": str, "piiAttributeId": str, "piiOptional": bool}
PARTY: dict[str, type | tuple[type, ...]] = {
    "partyId": str,
    "partyName": str,
    "partyAddress": dict,
    "partyContact": str,
    "partyType": str,
    "partyRole": str,
}
EVENT: dict[str, type | tuple[type, ...]] = {
    "eventTime": str,
    "validityDuration": str,
    "entityId": str,
    "eventType": str,
    "eventState": str,
}
FIELDS: tuple[str, ...] = tuple(dict.fromkeys([*HEADER, *PURPOSE, *PII, *PARTY, *EVENT]))


def _bad(message: str) -> InvalidInput:
    return InvalidInput("bad_claims", message)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or "\x00" in value:
        raise _bad(f"The {what} must be text of 1 to {MAX_TEXT} characters.")
    return value


def _moment(value: Any, what: str) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    raise _bad(f"The {what} must be a moment with a time zone, or Unix time.")


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _duration(seconds: int) -> str:
    """An ISO 8601 duration: whole days as ``P<n>D``, anything else in seconds."""
    seconds = max(seconds, 0)
    return f"P{seconds // 86400}D" if seconds % 86400 == 0 else f"PT{seconds}S"


def _party(value: Any, what: str, party_type: str, role: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not is_valid_oin(value.get("oin")):
        raise _bad(f"The {what} needs an OIN and a name.")
    return {
        "partyId": value["oin"],
        "partyName": _text(value.get("name"), f"{what}'s name"),
        "partyAddress": {"countryCode": JURISDICTION},
        "partyContact": _text(value.get("contact"), f"{what}'s contact"),
        "partyType": party_type,
        "partyRole": role,
    }


def receipt(record: Mapping[str, Any]) -> dict[str, Any]:
    """The TS 27560 receipt of a consent record given as plain values; validated before it is returned.

    ``record`` holds:

    - ``record_id`` (str): the consent record's id; ``principal`` (str): the citizen's pseudonym, never a BSN;
    - ``requester`` {``oin``, ``name``, ``contact``}: the PII controller, who also receives the data;
    - ``app_manager`` {``oin``, ``name``, ``contact``}: the portal that keeps the record;
    - ``holders`` [{``oin``, ``name``, ``contact``}]: where the data comes from (may be empty);
    - ``purpose`` {``nl``, ``en``}: the requester's words; ``legal_basis`` (str): the scheme's id;
    - ``fields`` {document type id: [catalogue paths]}: what may be shared; ``optional`` likewise, the
      paths among them the citizen could leave out (may be absent);
    - ``retention_days`` (int); ``valid_until`` (aware datetime or Unix time, or None for one-time access);
    - ``notice`` (str): which notice was shown (e.g. the request object's address or digest);
      ``language`` (str, default ``nl``); ``withdrawal`` (str): where the citizen withdraws;
    - ``events`` [{``type``: given|refused|withdrawn|expired|delivered|fetch_refused, ``time``, ``by``}],
      ``by`` the OIN or pseudonym of who caused it; deliveries and refused fetches are left out.
    """
    if not isinstance(record, Mapping):
        raise _bad("A consent record is an object.")
    principal = _text(record.get("principal"), "principal's pseudonym")
    if is_valid_bsn(principal) or (principal.isdigit() and len(principal) == 9):
        raise _bad("A receipt names the citizen by a pseudonym, never by a BSN.")
    requester = _party(record.get("requester"), "requester", "Recipient", CONTROLLER)
    app_manager = _party(record.get("app_manager"), "app manager", "ConsentManager", RECORD_KEEPER)
    holders = record.get("holders", [])
    if not isinstance(holders, list):
        raise _bad("The holders are a list.")
    sources = [_party(h, "holder", SOURCE, SOURCE) for h in holders]
    purpose = record.get("purpose")
    if not isinstance(purpose, Mapping) or "nl" not in purpose:
        raise _bad("The purpose is given in Dutch (and English).")
    language = record.get("language", "nl")
    if language not in purpose:
        raise _bad("The receipt's language must be one the purpose is given in.")
    retention = record.get("retention_days")
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        raise _bad("The retention is a whole number of days.")
    pii = _pii(record.get("fields"), record.get("optional") or {})
    events = _events(record.get("events"), record.get("valid_until"))
    body = {
        "schemaVersion": SCHEMA_VERSION,
        "recordId": _text(record.get("record_id"), "record id"),
        "piiPrincipalId": principal,
        "privacyNotice": _text(record.get("notice"), "notice"),
        "language": language,
        "purposes": [
            {
                "purpose": _text(purpose[language], "purpose"),
                "lawfulBasis": _text(record.get("legal_basis"), "legal basis"),
                "piiInformation": pii,
                "piiControllers": [requester["partyId"]],
                "collectionMethod": "OpenID4VP presentation of SD-JWT VC copies issued by the holders",
                "storageLocations": [JURISDICTION],
                "retentionPeriod": _duration(retention * 86400),
                "jurisdiction": JURISDICTION,
                "recipientThirdParties": [requester["partyId"]],
                "withdrawalMethod": _text(record.get("withdrawal"), "withdrawal method"),
            }
        ],
        "parties": [requester, app_manager, *sources],
        "events": events,
    }
    # The same record in the same state always gives the same receipt id.
    body["receiptId"] = hashlib.sha256(json_dumps(body).encode()).hexdigest()[:32]
    validate(body)
    return body


def _pii(fields: Any, optional: Any) -> list[dict[str, Any]]:
    if not isinstance(fields, Mapping) or not fields or not isinstance(optional, Mapping):
        raise _bad("The fields are an object of document type ids and their paths.")
    items = []
    for type_id, paths in fields.items():
        if not isinstance(paths, list) or not paths:
            raise _bad(f"The fields of {type_id!r} are a non-empty list of paths.")
        left_out = optional.get(type_id, [])
        for path in paths:
            items.append(
                {
                    "piiType": _text(path, "field path"),
                    "piiAttributeId": f"{_text(type_id, 'document type')}:{path}",
                    "piiOptional": path in left_out,
                }
            )
    return items


def _events(values: Any, valid_until: Any) -> list[dict[str, str]]:
    """The consent events in time order; a given standing consent lasts until ``valid_until``."""
    if not isinstance(values, list):
        raise _bad("The events are a list.")
    until = None if valid_until is None else _moment(valid_until, "end of the consent")
    events = []
    for value in values:
        if not isinstance(value, Mapping) or value.get("type") not in {*STATES, *USES}:
            raise _bad(f"An event has a type of {', '.join([*STATES, *sorted(USES)])}.")
        if value["type"] in USES:
            continue
        time = _moment(value.get("time"), "event time")
        lasting = value["type"] == "given" and until is not None
        events.append(
            {
                "eventTime": _iso(time),
                "validityDuration": _duration(int((until - time).total_seconds())) if lasting else "P0D",
                "entityId": _text(value.get("by"), "event's actor"),
                "eventType": EVENT_TYPE,
                "eventState": STATES[value["type"]],
            }
        )
    if not events:
        raise _bad("A consent record has at least one event: given or refused.")
    return sorted(events, key=lambda event: event["eventTime"])  # stable: same-second events keep their order


def _check(value: Any, spec: Mapping[str, type | tuple[type, ...]], where: str) -> None:
    if not isinstance(value, Mapping):
        raise _bad(f"{where} is not an object.")
    for name, kind in spec.items():
        if not isinstance(value.get(name), kind):
            raise _bad(f"{where} lacks {name!r} or it has the wrong type.")


def validate(receipt: Any) -> None:
    """Refuse a receipt without the TS 27560 elements of :data:`FIELDS` in their right types (``bad_claims``)."""
    _check(receipt, HEADER, "The receipt")
    if receipt["schemaVersion"] != SCHEMA_VERSION:
        raise _bad("The receipt is of another schema version.")
    if is_valid_bsn(receipt["piiPrincipalId"]):
        raise _bad("A receipt names the citizen by a pseudonym, never by a BSN.")
    for name in ("purposes", "parties", "events"):
        if not receipt[name]:
            raise _bad(f"The receipt has no {name}.")
    for purpose in receipt["purposes"]:
        _check(purpose, PURPOSE, "A purpose")
        if not purpose["piiInformation"] or not purpose["piiControllers"]:
            raise _bad("A purpose names its data and its controller.")
        for item in purpose["piiInformation"]:
            _check(item, PII, "A piece of PII information")
    for party in receipt["parties"]:
        _check(party, PARTY, "A party")
    parties = {party["partyId"] for party in receipt["parties"]}
    for purpose in receipt["purposes"]:
        if not set(purpose["piiControllers"]) <= parties or not set(purpose["recipientThirdParties"]) <= parties:
            raise _bad("A purpose names a controller or recipient that is not among the parties.")
    for event in receipt["events"]:
        _check(event, EVENT, "An event")
        if event["eventState"] not in STATES.values():
            raise _bad("An event has an unknown state.")
    times = [event["eventTime"] for event in receipt["events"]]
    if times != sorted(times):
        raise _bad("The events are not in time order.")


def current_state(receipt: Mapping[str, Any]) -> str:
    """The state of the record: the ``eventState`` of its latest event (e.g. ``ConsentWithdrawn``)."""
    return receipt["events"][-1]["eventState"]
