"""The checks of a holder: what any portal and any verifier in the scheme rely on.

The kit acts as an app manager (with a key the scheme lists for it) and asks the holder for a copy of each
document type it issues, about a test citizen, exactly as the portal does (a session assertion,
:mod:`blauweknop.protocol.session_assertion`), then checks that copy as any verifier would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from blauweknop import document_types
from blauweknop.conformance import checks
from blauweknop.conformance.checks import Result, failed, not_run, passed
from blauweknop.conformance.probe import Exchange, Probe
from blauweknop.document_types import DocumentType
from blauweknop.portal.addressed import mismatch
from blauweknop.protocol import sdjwt, sdjwt_vc, session_assertion, status_list
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import KeyResolver, KeySet, SigningKey, generate_jwk, thumbprint
from blauweknop.protocol.scheme_document import APP_MANAGER, HOLDER, Participant, SchemeDocument

ASSURANCE_LEVEL = "substantieel"  # what DigiD gives most citizens; every holder serves it
STATUS_CODES = frozenset(
    {"status_unavailable", "status_elsewhere", "revoked", "suspended", "status_index_out_of_range"}
)
# Why a genuine copy is not the one asked for (portal.addressed's codes), in words a developer can act on.
MISMATCH_WORDS = {
    "wrong_issuer": "its iss is not the issuer URL in the scheme document",
    "wrong_type": "its vct is not the catalogue's vct for the document type asked for",
    "wrong_wallet": "it is not bound (cnf.jwk) to the wallet key in the session assertion",
    "wrong_subject": "its burgerservicenummer is not the citizen's in the session assertion",
    "no_status": "it has no status claim, so it could never be withdrawn",
}

TITLES = {
    "scheme_entry": "The scheme document lists the holder",
    "issuer_metadata": "Issuer metadata (/.well-known/jwt-vc-issuer/…) matches the scheme document",
    "keys": "The metadata's keys are the scheme document's keys",
    "issuing": "Issuing a copy for a test citizen works",
    "copy_verifies": "The copy verifies against the scheme",
    "disclosure": "Every data field is selectively disclosable",
    "status_list": "The status list is reachable, signed, and the fresh copy is valid",
    "problem_json": "Bad input is refused with problem+json",
    "api_version": "Every API answer carries API-Version",
    "openapi": "The OpenAPI description is published",
    "no_bsn_in_urls": "No BSN in any URL the holder uses",
}

# The checks a suspended or revoked holder need not pass: it may stop serving its metadata and copies.
NEEDS_CERTIFICATION = ("issuer_metadata", "keys", "issuing", "copy_verifies", "disclosure", "status_list")


@dataclass(frozen=True)
class AppManager:
    """Whom the kit acts as when it asks for copies: an app manager's OIN and private key."""

    oin: str
    key: SigningKey


@dataclass(frozen=True)
class Copy:
    """A copy the holder issued to the kit: of which type, about which test citizen."""

    document_type: DocumentType
    bsn: str
    credential: str

    def __repr__(self) -> str:  # it carries a BSN
        return f"Copy({self.document_type.id})"


@dataclass
class Run:
    """What one run against a holder has learnt so far."""

    issuer_url: str
    scheme: SchemeDocument
    probe: Probe
    app_manager: AppManager | None
    bsns: list[str]
    entry: Participant | None = None
    api_url: str = ""
    copies: list[Copy] = field(default_factory=list)
    wallet: SigningKey = field(default_factory=lambda: SigningKey(generate_jwk()))
    metadata_keys: KeySet | None = None
    results: list[Result] = field(default_factory=list)

    def add(self, name: str, outcome: tuple[bool | None, str]) -> None:
        """Record check ``name``: ``(True, why)`` passed, ``(False, why)`` failed, ``(None, why)`` not run."""
        ok, reason = outcome
        made = {True: passed, False: failed, None: not_run}[ok]
        self.results.append(made(name, TITLES[name], reason))


def _scheme_entry(run: Run) -> tuple[bool | None, str]:
    try:
        entry = run.scheme.issuer(run.issuer_url)
    except ProtocolError:
        return False, (
            f"no organisation in scheme document version {run.scheme.version} has issuer URL {run.issuer_url}. "
            "Give the issuer URL exactly as endpoints.issuer in the scheme document, or ask the operator to list it."
        )
    run.entry = entry
    run.api_url = entry.endpoints.get("api", "").rstrip("/")
    # First: while the participant is not certified, every later fault is this one (the holder refuses to issue).
    if not entry.is_certified:
        return False, (
            f"this participant, {entry.name} (OIN {entry.oin}), is {entry.certification} in scheme document "
            f"version {run.scheme.version}: verifiers refuse its copies and the portal asks it for none. "
            "Ask the scheme operator why; run the kit again when the scheme document lists it as certified."
        )
    if HOLDER not in entry.roles:
        return False, f"{entry.name} ({entry.oin}) is in the scheme document, but not in the role holder."
    if not run.api_url.startswith(("https://", "http://")):
        return False, f"{entry.name} has no http(s) endpoints.api in the scheme document."
    catalogue = document_types.of(run.scheme)
    unknown = [t for t in entry.document_types if catalogue.get(t) is None]
    if not entry.document_types or unknown:
        what = f"unknown document types {', '.join(unknown)}" if unknown else "no document types"
        return False, f"{entry.name}'s entry names {what}: each must be in the scheme's catalogue."
    return True, f"{entry.name} (OIN {entry.oin}), certified holder of {', '.join(entry.document_types)}."


def _metadata(run: Run) -> tuple[bool | None, str]:
    url = sdjwt_vc.issuer_metadata_url(run.issuer_url)
    exchange = run.probe.get(url, "the issuer metadata")
    document = exchange.json()
    if exchange.status != 200 or exchange.media_type != "application/json" or not isinstance(document, dict):
        return False, f"GET {url} {exchange.described()}; serve the issuer metadata there as application/json."
    if document.get("issuer") != run.issuer_url:
        return False, f"{url} says issuer {document.get('issuer')!r}; it must be {run.issuer_url!r} exactly."
    jwks = document.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if isinstance(keys, list) and any(isinstance(k, dict) and "d" in k for k in keys):
        return False, f"{url} publishes a PRIVATE key (it has 'd'): replace that key now and publish public keys only."
    try:
        key_set = sdjwt_vc.keys_from_issuer_metadata(document, run.issuer_url)
    except ProtocolError as exc:
        return False, f"{url} has no usable jwks: {checks.said(exc)}"
    run.metadata_keys = key_set
    return True, f"{url} names issuer {run.issuer_url} with {len(key_set.keys)} key(s)."


def _keys(run: Run) -> tuple[bool | None, str]:
    if run.entry is None or run.metadata_keys is None:
        return None, "needs the scheme entry and the issuer metadata (see above)."

    def by_thumbprint(keys: KeySet) -> dict[str, str | None]:
        return {thumbprint(k.jwk): k.kid for k in keys.keys}

    scheme_keys, served = by_thumbprint(run.entry.keys), by_thumbprint(run.metadata_keys)
    faults = [
        f"the scheme lists key {kid!r}, the metadata does not" for t, kid in scheme_keys.items() if t not in served
    ]
    faults += [
        f"the metadata has key {kid!r} that the scheme does not list (verifiers refuse copies signed with it)"
        for t, kid in served.items()
        if t not in scheme_keys
    ]
    faults += [
        f"key {served[t]!r} in the metadata is {kid!r} in the scheme"
        for t, kid in scheme_keys.items()
        if t in served and served[t] != kid
    ]
    if faults:
        publish = "Publish exactly the keys the scheme document lists, with the same kid."
        return False, f"{checks.sentence(faults)} {publish}"
    return True, f"the same {len(scheme_keys)} key(s), with the same kid, in the metadata and the scheme document."


def _ask(run: Run, manager: AppManager, holder: Participant, type_id: str, bsn: str) -> Exchange:
    assertion = session_assertion.sign(
        manager.key,
        app_manager_oin=manager.oin,
        holder_oin=holder.oin,
        bsn=bsn,
        assurance_level=ASSURANCE_LEVEL,
        wallet_jwk=run.wallet.public_jwk,
    )
    return run.probe.request(
        "POST",
        f"{run.api_url}/verklaringen",
        f"a copy of {type_id} for a test citizen",
        json={"appbeheerderverklaring": assertion, "documentsoort": type_id},
    )


def _issuing(run: Run) -> tuple[bool | None, str]:
    if run.entry is None or not run.api_url:
        return None, "needs the holder's scheme entry (see scheme_entry)."
    if run.app_manager is None or not run.bsns:
        return None, (
            "give --app-manager-key and --app-manager-oin (an app manager the scheme certifies) and --bsn "
            "(a test citizen the holder has data about) to ask for a copy as a portal does."
        )
    if not run.scheme.is_certified(run.app_manager.oin, APP_MANAGER):
        return (
            None,
            f"{run.app_manager.oin} is not a certified app manager in the scheme document: the holder would refuse it.",
        )
    if run.app_manager.key.kid not in {k.kid for k in run.scheme.organisation(run.app_manager.oin).keys.keys}:
        return (
            None,
            f"the key in --app-manager-key (kid {run.app_manager.key.kid}) is not one of that app manager's keys.",
        )
    catalogue = document_types.of(run.scheme)
    faults, absent, older = [], [], []
    for type_id in run.entry.document_types:
        if catalogue.get(type_id) is None:  # scheme_entry names it
            continue
        for bsn in run.bsns:
            exchange = _ask(run, run.app_manager, run.entry, type_id, bsn)
            body = exchange.json()
            if exchange.status == 404 and isinstance(body, dict) and body.get("code") == "no_data":
                continue
            issued = _issued(exchange, body, type_id, run.scheme)
            if isinstance(issued, str):
                faults.append(f"{type_id}: POST {exchange.url} {issued}")
                break
            run.copies.append(Copy(issued, bsn, body["verklaring"]))
            if issued is not catalogue.get(type_id):
                older.append(f"{type_id} {issued.version} (the newest is {catalogue.document_type(type_id).version})")
            break
        else:
            absent.append(type_id)
    if faults:
        return False, checks.sentence(faults)
    if absent:
        return False, (
            f"no copy of {', '.join(absent)}: the holder has no such data about the test citizens given. "
            "Give --bsn of a test citizen it has that data about (--bsn may be given more than once)."
        )
    note = (
        f" Still an older version the scheme lists: {', '.join(older)}; the holder moves to the newest when it "
        "next refreshes the scheme document."
        if older
        else ""
    )
    return True, f"the holder issued {_copies(run.copies)}.{note}"


def _copies(copies: list[Copy]) -> str:
    """How many copies, of which types: "1 copy (toeslagen)", "2 copies (toeslagen, vorderingen)"."""
    return f"{len(copies)} {'copy' if len(copies) == 1 else 'copies'} ({', '.join(c.document_type.id for c in copies)})"


def _issued(exchange: Exchange, body: Any, type_id: str, scheme: SchemeDocument) -> DocumentType | str:
    """The listed version of ``type_id`` the holder issued a copy of; or why the answer is not such a copy."""
    if exchange.status != 201:
        detail = body.get("detail") if isinstance(body, dict) and isinstance(body.get("detail"), str) else ""
        detail = detail.rstrip(" .")  # the reason goes on after it
        code = body.get("code") if isinstance(body, dict) else None
        return (
            f"{exchange.described()}{f' code {code}' if code else ''}{f': {detail}' if detail else ''}; "
            "expected 201 with the copy"
        )
    if exchange.media_type != "application/json" or not isinstance(body, dict):
        return f"answered 201 with {exchange.media_type or 'no Content-Type'}; expected a JSON object"
    if not isinstance(body.get("verklaring"), str):
        return "answered 201 without 'verklaring'; expected the copy (an SD-JWT VC) there"
    if body.get("documentsoort") != type_id:
        return f"answered documentsoort {body.get('documentsoort')!r}; expected {type_id!r}, the type asked for"
    catalogue = document_types.of(scheme)
    issued = catalogue.by_vct(body.get("vct"))
    if issued is None or issued.id != type_id:
        # A copy of any version the scheme still lists is good; name them all, the newest first.
        listed = [t for t in (catalogue.document_type(type_id), *catalogue.older) if t.id == type_id]
        return (
            f"answered vct {body.get('vct')!r}; scheme document version {scheme.version} lists for {type_id} "
            f"{' or '.join(repr(t.vct) for t in listed)} (new copies use {listed[0].vct!r}). If the catalogue "
            "changed in the last few minutes, the holder or this kit may hold an older scheme document: run again "
            "after the holder's next refresh"
        )
    return issued


class _StatusLists(status_list.StatusListClient):
    """A status list client that remembers whether looking up a status failed, to tell the developer where to look."""

    failed = False

    def status(self, ref: status_list.StatusReference, keys: KeyResolver) -> int:
        try:
            return super().status(ref, keys)
        except ProtocolError:
            self.failed = True
            raise


def _status_claim(copy: Copy) -> Any:
    """The copy's ``status`` claim, read without verifying (the other checks verify); ``None`` if unreadable."""
    try:
        return sdjwt.unverified_claims(copy.credential).get("status")
    except ProtocolError:
        return None


def _fetch_status_list(run: Run) -> Callable[[str], str]:
    def fetch(uri: str) -> str:
        exchange = run.probe.get(uri, "the status list", accept="application/statuslist+jwt")
        if exchange.status != 200:
            raise ProtocolError("status_unavailable", f"GET {uri} {exchange.described()}")
        return exchange.text().strip()

    return fetch


def _copy_verifies(run: Run) -> tuple[bool | None, str]:
    if not run.copies:
        return None, "no copy was issued (see issuing)."
    faults = []
    for copy in run.copies:
        lists = _StatusLists(_fetch_status_list(run))
        try:
            verified = sdjwt_vc.verify(
                copy.credential, run.scheme.issuer_keys(), status_lists=lists, require_key_binding=False
            )
            copy.document_type.validate(verified.claims)
        except ProtocolError as exc:
            where = "its status could not be confirmed, see status_list: " if lists.failed else ""
            faults.append(f"{copy.document_type.id}: {where}{checks.said(exc)}")
            continue
        wrong = mismatch(
            verified,
            issuer=run.issuer_url,
            type_id=copy.document_type.id,
            catalogue=document_types.of(run.scheme),
            wallet_jwk=run.wallet.public_jwk,
            bsn=copy.bsn,
        )
        if wrong:
            faults.append(f"{copy.document_type.id}: {wrong}: {MISMATCH_WORDS.get(wrong, wrong)}")
    if faults:
        return False, checks.sentence(faults)
    asked = run.entry.document_types if run.entry else []
    missing = [t for t in asked if t not in {c.document_type.id for c in run.copies}]
    note = f" No copy of {', '.join(missing)}, so not checked (see issuing)." if missing else ""
    return True, f"{_copies(run.copies)} verify with the scheme's keys, match the catalogue and the request.{note}"


def _concrete_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every member and list element in ``value``, as a path of names and positions."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, child in items:
        yield (*path, str(name))
        yield from _concrete_paths(child, (*path, str(name)))


def _disclosure(run: Run) -> tuple[bool | None, str]:
    # Checked on the signed copy alone (not its status): a field in plain view is a fault whatever the list says.
    signed = []
    for copy in run.copies:
        try:
            sd = sdjwt.verify(
                copy.credential, run.scheme.issuer_keys(), typ=sdjwt_vc.ACCEPTED_TYPS, require_key_binding=False
            )
        except ProtocolError:
            continue
        signed.append((copy.document_type, sd))
    if not signed:
        return None, "no copy with a valid signature (see issuing and copy_verifies)."
    faults, seen, unseen = [], 0, []
    for document_type, sd in signed:
        fields = {f.path for f in document_type.fields}
        shown = set()
        data = {k: v for k, v in sd.claims.items() if k not in sdjwt_vc.PLAIN_CLAIMS}
        for path in _concrete_paths(data):
            generic = ".".join(p for p in path if not p.isdigit())
            in_list = path[-1].isdigit()  # a list's item: the citizen can leave one out too
            if generic in fields or in_list:
                shown.add(generic)
                if sdjwt.format_path(path) not in sd.disclosed:
                    faults.append(f"{document_type.id}: {sdjwt.format_path(path)} is signed in plain view")
        seen += len(shown & fields)
        unseen += [f"{document_type.id}.{f}" for f in sorted(fields - shown)]
    if faults:
        return False, (
            checks.sentence(faults) + " The citizen cannot leave such a field out: make every data field, and every "
            "item of a list, a disclosure of its own (RFC 9901)."
        )
    note = f" Not in the test copies, so not checked: {', '.join(unseen)}." if unseen else ""
    return True, f"every one of the {seen} catalogue fields in the copies can be left out.{note}"


def _status_list(run: Run) -> tuple[bool | None, str]:
    if not run.copies:
        return None, "no copy was issued (see issuing)."
    faults = []
    for copy in run.copies:
        try:
            reference = status_list.StatusReference.from_claim(_status_claim(copy))
            status_list.check_published_by(reference.uri, run.issuer_url)
        except ProtocolError as exc:
            faults.append(f"{copy.document_type.id}: the status claim is not usable ({checks.said(exc)})")
            continue
        exchange = run.probe.get(reference.uri, "the status list", accept="application/statuslist+jwt")
        if exchange.status != 200 or exchange.media_type != "application/statuslist+jwt":
            faults.append(f"GET {reference.uri} {exchange.described()}, not application/statuslist+jwt")
            continue
        try:
            token = status_list.verify(exchange.text().strip(), run.scheme.issuer_keys(), uri=reference.uri)
            value = token.status_list.get(reference.idx)
        except ProtocolError as exc:
            faults.append(f"the status list at {reference.uri}: {checks.said(exc)}")
            continue
        if value != status_list.VALID:
            faults.append(
                f"{copy.document_type.id}: the fresh copy has status {value:#04x} at index {reference.idx}, not valid"
            )
    if faults:
        return False, checks.sentence(faults)
    return True, f"{len(run.copies)} fresh copies are valid in lists signed with the holder's scheme keys."


def _bad_requests(run: Run) -> list[Exchange]:
    url, probe = f"{run.api_url}/verklaringen", run.probe
    json_headers = {"Content-Type": "application/json"}
    return [
        probe.request("POST", url, "a body that is not JSON", content=b"{not json", headers=json_headers),
        probe.request("POST", url, "an empty JSON object", json={}),
        probe.request(
            "POST",
            url,
            "an assertion that is not a JWS",
            json={"appbeheerderverklaring": "x" * 40, "documentsoort": "x"},
        ),
        probe.request(
            "POST", url, "a body of 300 kB", content=b'{"a":"' + b"x" * 300_000 + b'"}', headers=json_headers
        ),
        probe.request("DELETE", url, "a method the address does not take"),
        probe.get(f"{run.api_url}/statuslijsten/987654", "a status list that does not exist"),
        probe.get(f"{run.api_url}/bestaat-niet", "an address that does not exist"),
    ]


def _status_uris(run: Run) -> list[tuple[str, str]]:
    found = []
    for copy in run.copies:
        status = _status_claim(copy)
        reference = status.get("status_list") if isinstance(status, dict) else None
        if isinstance(reference, dict) and isinstance(reference.get("uri"), str):
            found.append((reference["uri"], f"the status claim of the {copy.document_type.id} copy"))
    return found


def check(
    probe: Probe, scheme: SchemeDocument, issuer_url: str, app_manager: AppManager | None, bsns: list[str]
) -> tuple[Participant | None, list[Result]]:
    """Run every holder check against the holder whose issuer URL is ``issuer_url``."""
    run = Run(issuer_url.rstrip("/"), scheme, probe, app_manager, bsns)
    run.add("scheme_entry", _scheme_entry(run))
    if run.entry is not None and not run.entry.is_certified:
        # What a certified holder serves, it may rightly refuse now: a fault found there would be the wrong advice.
        why = f"{run.entry.name} is {run.entry.certification} in the scheme document (see scheme_entry)."
        for name in NEEDS_CERTIFICATION:
            run.add(name, (None, why))
    else:
        run.add("issuer_metadata", _metadata(run))
        run.add("keys", _keys(run))
        run.add("issuing", _issuing(run))
        run.add("copy_verifies", _copy_verifies(run))
        run.add("disclosure", _disclosure(run))
        run.add("status_list", _status_list(run))
    if not run.api_url:
        for name in ("problem_json", "api_version", "openapi"):
            run.add(name, (None, "needs the holder's endpoints.api from the scheme document (see scheme_entry)."))
    else:
        run.results.append(checks.problem_json("problem_json", TITLES["problem_json"], _bad_requests(run)))
        operations = {"/verklaringen": "post", "/statuslijsten/{}": "get"}
        run.results.append(checks.openapi("openapi", TITLES["openapi"], probe, run.api_url, operations))
        run.results.append(checks.api_version("api_version", TITLES["api_version"], probe, run.api_url))
    run.results.append(
        checks.no_bsn_in_urls(
            "no_bsn_in_urls",
            TITLES["no_bsn_in_urls"],
            [*_status_uris(run), *probe.addresses()],
            run.bsns,
            lambda: (
                None if run.copies else "no copy was issued, so its status list URI could not be seen (see issuing)."
            ),
        )
    )
    order = list(TITLES)
    return run.entry, sorted(run.results, key=lambda r: order.index(r.name))
