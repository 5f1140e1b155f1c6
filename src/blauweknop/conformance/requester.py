"""The checks of a requester: what a wallet (the citizen's portal) relies on when it opens a request.

With the requester's own key the kit makes a small test request through the requester's back office
(as the requester's own systems do, with a client assertion) and checks the signed request object a
wallet would fetch, as the portal does (:func:`blauweknop.protocol.openid4vp.verify_request`).
"""

from __future__ import annotations

from blauweknop import document_types
from blauweknop.conformance import checks
from blauweknop.conformance.checks import Result, failed, not_run, passed
from blauweknop.conformance.probe import Exchange, Probe
from blauweknop.protocol import client_assertion, openid4vp
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import SigningKey
from blauweknop.protocol.scheme_document import REQUESTER, Participant, SchemeDocument

UNKNOWN_CODE = "ZZZZZZZZ"  # well formed (8 characters of Crockford base32); one chance in 2**40 that it exists
TITLES = {
    "scheme_entry": "The scheme document lists the requester",
    "request_object": "The request object endpoint serves signed requests and refuses unknown codes",
    "problem_json": "Bad input is refused with problem+json",
    "api_version": "Every API answer carries API-Version",
    "openapi": "The OpenAPI description is published",
}
OPERATIONS = {"/verzoekobjecten/{}": "get", "/antwoorden": "post", "/verzoeken": "post"}


def _entry(scheme: SchemeDocument, url: str) -> Participant | None:
    return next((p for p in scheme.organisations.values() if p.endpoints.get("requester", "").rstrip("/") == url), None)


def _scheme_entry(name: str, scheme: SchemeDocument, url: str, entry: Participant | None) -> Result:
    title = TITLES[name]
    if entry is None:
        return failed(
            name,
            title,
            f"no organisation in scheme document version {scheme.version} has endpoints.requester {url}. "
            "Give the requester's API address exactly as in the scheme document, or ask the operator to list it.",
        )
    if not entry.is_certified:  # first: while it lasts, every later fault is this one
        return failed(
            name,
            title,
            f"this participant, {entry.name} (OIN {entry.oin}), is {entry.certification} in scheme document "
            f"version {scheme.version}: wallets refuse its requests. Ask the scheme operator why; run the kit "
            "again when the scheme document lists it as certified.",
        )
    if REQUESTER not in entry.roles:
        return failed(name, title, f"{entry.name} ({entry.oin}) is in the scheme document, but not as requester.")
    if not entry.keys.keys:
        return failed(name, title, f"{entry.name} has no keys in the scheme document: nothing it signs can verify.")
    return passed(name, title, f"{entry.name} (OIN {entry.oin}), certified requester.")


def _test_request(
    probe: Probe, scheme: SchemeDocument, url: str, entry: Participant, key: SigningKey
) -> Exchange | str:
    """A small test request made through the back office; the exchange, or why none could be asked for."""
    basis = next((b for b in scheme.legal_bases if b.get("kind") == openid4vp.CONSENT_BASIS), None)
    catalogue = document_types.of(scheme)
    document_type = next(
        (catalogue.get(t.get("id")) for t in scheme.document_types if catalogue.get(t.get("id"))), None
    )
    if basis is None or document_type is None or not document_type.fields:
        return "the scheme document has no consent legal basis or no document type to ask for."
    body = {
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": client_assertion.sign(key, client_id=entry.oin, audience=f"{url}/verzoeken"),
        "kenmerk": "conformance",
        "doel": {"nl": "Controle van de aansluiting (conformance)", "en": "Conformance check"},
        "grondslag": basis["id"],
        "bewaartermijnDagen": 1,
        "gevraagd": [{"documentsoort": document_type.id, "velden": [{"pad": document_type.fields[0].path}]}],
        "geldigDagen": 1,
    }
    return probe.request("POST", f"{url}/verzoeken", "a test request from the back office", json=body)


def _request_object(
    name: str, probe: Probe, scheme: SchemeDocument, url: str, entry: Participant | None, key: SigningKey | None
) -> Result:
    title = TITLES[name]
    if entry is not None and not entry.is_certified:  # it may rightly refuse every request now
        return not_run(name, title, f"{entry.name} is {entry.certification} in the scheme document (see scheme_entry).")
    unknown = probe.get(
        f"{url}/verzoekobjecten/{UNKNOWN_CODE}", "an unknown request code", openid4vp.REQUEST_MEDIA_TYPE
    )
    fault = checks.problem_fault(unknown) or (None if unknown.status == 404 else f"answered {unknown.described()}")
    if fault:
        return failed(name, title, f"GET {unknown.url} (an unknown code) {fault}; it must be 404 problem+json.")
    if entry is None:
        return not_run(name, title, "needs the requester's scheme entry (see scheme_entry).")
    if key is None:
        return not_run(name, title, "give --requester-key (its private key) to make a test request and check it.")
    if key.kid not in {k.kid for k in entry.keys.keys}:
        return not_run(name, title, f"the key in --requester-key (kid {key.kid}) is not one of {entry.name}'s keys.")
    made = _test_request(probe, scheme, url, entry, key)
    if isinstance(made, str):
        return not_run(name, title, made)
    answer = made.json()
    if made.status != 201 or not isinstance(answer, dict) or not isinstance(answer.get("requestUri"), str):
        return failed(name, title, f"POST {made.url} (a test request) {made.described()}, not 201 with a requestUri.")
    request_uri = answer["requestUri"]
    if not request_uri.startswith(url + "/"):
        return failed(name, title, f"the requestUri {request_uri} is not under the registered address {url}.")
    served = probe.get(request_uri, "the request object", openid4vp.REQUEST_MEDIA_TYPE)
    if served.status != 200 or served.media_type != openid4vp.REQUEST_MEDIA_TYPE:
        return failed(name, title, f"GET {request_uri} {served.described()}, not 200 {openid4vp.REQUEST_MEDIA_TYPE}.")
    if "no-store" not in served.headers.get("Cache-Control", ""):
        return failed(name, title, f"GET {request_uri} has no Cache-Control: no-store; it is for one wallet only.")
    try:
        openid4vp.verify_request(served.text().strip(), scheme, client_id=entry.oin)
    except ProtocolError as exc:
        return failed(name, title, f"the request object at {request_uri} does not verify: {checks.said(exc)}.")
    return passed(name, title, "an unknown code is refused (404 problem+json); a test request's object verifies.")


def _bad_requests(probe: Probe, url: str) -> list[Exchange]:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    junk_assertion = {
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": "x" * 40,
        "doel": {"nl": "x", "en": "x"},
        "grondslag": "x",
        "bewaartermijnDagen": 1,
        "gevraagd": [{"documentsoort": "x", "velden": [{"pad": "x"}]}],
    }
    return [
        probe.request("POST", f"{url}/verzoeken", "an empty JSON object", json={}),
        probe.request("POST", f"{url}/verzoeken", "a client assertion that is not a JWS", json=junk_assertion),
        probe.request("POST", f"{url}/antwoorden", "an answer for no request", content=b"state=x", headers=form),
        probe.get(f"{url}/verzoekobjecten/not-a-code", "a request code that is not well formed"),
        probe.request("DELETE", f"{url}/verzoeken", "a method the address does not take"),
        probe.get(f"{url}/bestaat-niet", "an address that does not exist"),
    ]


def check(
    probe: Probe, scheme: SchemeDocument, url: str, key: SigningKey | None
) -> tuple[Participant | None, list[Result]]:
    """Run every requester check against the requester API at ``url`` (its endpoints.requester)."""
    url = url.rstrip("/")
    entry = _entry(scheme, url)
    return entry, [
        _scheme_entry("scheme_entry", scheme, url, entry),
        _request_object("request_object", probe, scheme, url, entry, key),
        checks.problem_json("problem_json", TITLES["problem_json"], _bad_requests(probe, url)),
        checks.openapi("openapi", TITLES["openapi"], probe, url, OPERATIONS),
        # Last: it judges every answer the requester gave during the run.
        checks.api_version("api_version", TITLES["api_version"], probe, url),
    ]
