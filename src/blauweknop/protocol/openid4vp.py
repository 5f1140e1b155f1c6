"""A requester asks, the citizen's wallet answers: OpenID for Verifiable Presentations 1.0, as we use it.

The request is a signed Request Object (JAR, RFC 9101; OpenID4VP 1.0 §5) fetched by reference
(``request_uri``): header ``typ: oauth-authz-req+jwt``, signed by a key the scheme document lists
for the requester, who is a pre-registered client (a Client Identifier without prefix, §5: the
scheme document is the registry), ``client_id`` = ``iss`` = the requester's OIN, ``aud`` =
``https://self-issued.me/v2`` (the audience for a wallet with static metadata), ``response_type``
``vp_token``, ``response_mode`` ``direct_post`` (§8.2) with a ``response_uri`` under the requester's
registered address, ``nonce`` and ``state``, a DCQL query (§6, see :mod:`.dcql`) and our own
extension ``blauweknop``: why, on what basis, how long it is kept, once or standing (:class:`Terms`).

The answer (§8.1) is a ``vp_token``: a JSON object from credential query id to a non-empty array
of presentations. Each is an SD-JWT VC presentation (Appendix B.3) with a Key Binding JWT whose
``aud`` is the ``client_id`` and ``nonce`` the request's nonce (against replay across verifiers
and requests, as the Security Considerations ask). :func:`verify_response` also checks that the
answer fits the query (§6, §8): only known query ids, the asked type, nothing disclosed beyond what
was asked, every required claim, one presentation unless ``multiple``, every required credential
query answered (the rules for selecting credentials in §6).

Codes. :func:`verify_request`: ``invalid_request`` for a Request Object that breaks a rule above
(its message says which), ``unknown_organisation`` / ``not_certified`` for the client, the codes of
:func:`.jws.verify` for a bad signature or key, and ``expired`` / ``issued_in_future`` for time.
:func:`verify_response`: ``invalid_request`` for a ``vp_token`` that is no object of arrays,
``invalid_presentation`` for one that does not answer the request, and the codes of
:func:`.sdjwt_vc.verify` (``aud_mismatch``, ``nonce_mismatch``, ``revoked``, ``bad_signature``, …)
for a presentation that fails its own checks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit

from blauweknop.protocol import dcql, jws, sdjwt, sdjwt_vc
from blauweknop.protocol.encoding import json_loads
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.identifiers import is_valid_oin, validate_oin
from blauweknop.protocol.jwk import KeyResolver, SigningKey, VerifyingKey
from blauweknop.protocol.scheme_document import REQUESTER, SchemeDocument
from blauweknop.protocol.status_list import StatusListClient, StatusReference
from blauweknop.protocol.text import plain
from blauweknop.protocol.validity import DEFAULT_LEEWAY, check_validity, now_or, required_date

REQUEST_TYP = "oauth-authz-req+jwt"
REQUEST_MEDIA_TYPE = "application/oauth-authz-req+jwt"  # how a requester serves it at request_uri
WALLET_AUDIENCE = "https://self-issued.me/v2"
RESPONSE_TYPE, RESPONSE_MODE = "vp_token", "direct_post"
CONSENT_BASIS = "consent"  # the kind of legal basis a request to the citizen may name
ONCE, STANDING = "eenmalig", "doorlopend"
EXTENSION = "blauweknop"
MAX_REQUEST_LIFETIME = 30 * 86400
MIN_RANDOM_LENGTH, MAX_RANDOM_LENGTH = 22, 128  # nonce and state: at least 128 bits in base64url
MAX_PURPOSE_LENGTH = 500
MAX_RETENTION_DAYS = 3650
MAX_STANDING_DAYS = 366
MAX_ID_LENGTH = 100  # a legal basis id, a requester's own reference
MAX_PRESENTATIONS = 50  # per credential query: one per holder of the type
MAX_VP_TOKEN_LENGTH = 4 * 1024 * 1024
MAX_PRESENTATION_LENGTH = 1024 * 1024
MAX_URL_LENGTH = 2048
_LANGUAGES = ("nl", "en")
_PATH_TAIL = re.compile(r"(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*")  # no '.', '..' or %-escapes after the prefix


@dataclass(frozen=True)
class Terms:
    """What the requester promises (the ``blauweknop`` claim): why, on what basis, how long, once or standing."""

    purpose: dict[str, str]  # {"nl": …, "en": …}; Dutch is required
    legal_basis: str  # an id in the scheme's legal_bases
    retention_days: int
    access: str  # ONCE or STANDING
    access_until: str | None  # ISO date; for STANDING only
    # The requester's own reference (kenmerk): kept at the requester only, never in the request object, which anyone
    # with the 8-character code reads (a back office may use a BSN or a file number as its reference).
    reference: str = ""
    # The requester named whom the request is for (voorEenPersoon): the wallet tells the citizen why the BSN is asked.
    for_one_person: bool = False

    def claim(self) -> dict[str, Any]:
        """The ``blauweknop`` claim of the Request Object."""
        value: dict[str, Any] = {
            "doel": dict(self.purpose),
            "grondslag": self.legal_basis,
            "bewaartermijnDagen": self.retention_days,
            "toegang": self.access,
        }
        if self.access_until is not None:
            value["toegangTot"] = self.access_until
        if self.for_one_person:
            value["voorEenPersoon"] = True
        return value

    @classmethod
    def from_claim(cls, value: Any) -> Terms:
        """The terms in a ``blauweknop`` claim; ``invalid_request`` when they are not valid on their own."""
        # "kenmerk" is read, never written: request objects signed before it stayed at the requester (30 days at most).
        allowed = {"doel", "grondslag", "bewaartermijnDagen", "toegang", "toegangTot", "kenmerk", "voorEenPersoon"}
        if not isinstance(value, Mapping) or set(value) - allowed:
            raise _invalid(f"'{EXTENSION}' is an object with only {', '.join(sorted(allowed))}.")
        terms = cls(
            value.get("doel"),  # type: ignore[arg-type]
            value.get("grondslag"),  # type: ignore[arg-type]
            value.get("bewaartermijnDagen"),  # type: ignore[arg-type]
            value.get("toegang"),  # type: ignore[arg-type]
            value.get("toegangTot"),
            value.get("kenmerk", ""),
            value.get("voorEenPersoon", False),
        )
        try:
            terms.check()
        except InvalidInput as exc:
            raise _invalid(exc.message) from exc
        return terms

    def check(self, issued_at: int | None = None) -> None:
        """Refuse terms a citizen could not rely on; with ``issued_at`` also the end date of standing access."""
        purpose = self.purpose
        if (
            not isinstance(purpose, Mapping)
            or not set(purpose) <= set(_LANGUAGES)
            or not all(_is_text(purpose.get(lang), MAX_PURPOSE_LENGTH) for lang in purpose)
            or "nl" not in purpose
        ):
            raise InvalidInput(
                "bad_claims",
                f"The purpose is one line of plain text in Dutch (and English), {MAX_PURPOSE_LENGTH} characters at "
                "most, without control, invisible (zero-width) or direction characters such as U+202E.",
            )
        if not _is_text(self.legal_basis, MAX_ID_LENGTH):
            raise InvalidInput("bad_claims", "The legal basis is the id of an entry in the scheme's legal bases.")
        days = self.retention_days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
            raise InvalidInput("bad_claims", f"The retention is 1 to {MAX_RETENTION_DAYS} whole days.")
        if self.access not in (ONCE, STANDING):
            raise InvalidInput("bad_claims", f"Access is {ONCE!r} or {STANDING!r}.")
        if not isinstance(self.reference, str) or (self.reference and not _is_text(self.reference, MAX_ID_LENGTH)):
            raise InvalidInput(
                "bad_claims", f"The reference is one line of plain text of at most {MAX_ID_LENGTH} characters."
            )
        if not isinstance(self.for_one_person, bool):
            raise InvalidInput("bad_claims", "voorEenPersoon is true or false.")
        if self.access == ONCE:
            if self.access_until is not None:
                raise InvalidInput("bad_claims", "One-time access has no end date.")
            return
        until = _iso_date(self.access_until)
        if until is None:
            raise InvalidInput("bad_claims", "Standing access needs an end date (YYYY-MM-DD).")
        if issued_at is not None:
            start = datetime.fromtimestamp(issued_at, UTC).date()
            if not 0 <= (until - start).days <= MAX_STANDING_DAYS:
                raise InvalidInput(
                    "bad_claims", f"Standing access ends within {MAX_STANDING_DAYS} days of the request."
                )


def _is_text(value: Any, cap: int) -> bool:
    """Text a person reads as it is stored and signed: 1 to ``cap`` characters, not blank, one line of plain text.

    No control, zero-width or direction characters (:func:`blauweknop.protocol.text.plain`): a purpose with a
    U+202E would show the citizen words that read otherwise than the terms kept in the consent record.
    """
    return isinstance(value, str) and 0 < len(value) <= cap and plain(value, lines=False) not in (None, "")


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _invalid(message: str) -> VerificationError:
    return VerificationError("invalid_request", message)


def _url(value: Any) -> SplitResult | None:
    """The parts of an http(s) URL without fragment, or None."""
    try:
        parts = urlsplit(value) if isinstance(value, str) and len(value) <= MAX_URL_LENGTH else None
    except ValueError:  # e.g. a broken IPv6 address: no URL we can use
        return None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        return None
    return parts


def _is_random(value: Any) -> bool:
    return (
        isinstance(value, str)
        and MIN_RANDOM_LENGTH <= len(value) <= MAX_RANDOM_LENGTH
        and value.isascii()
        and value.isprintable()
    )


# ---------------------------------------------------------------------------------------------
# The request


@dataclass(frozen=True)
class AuthorizationRequest:
    """A verified Request Object: who asks, where to answer, what for, and until when it can be answered."""

    client_id: str
    response_uri: str
    nonce: str
    state: str
    query: dcql.Query
    terms: Terms
    issued_at: int
    expires_at: int


def sign_request(
    key: SigningKey,
    *,
    client_id: str,
    response_uri: str,
    nonce: str,
    state: str,
    query: dcql.Query,
    terms: Terms,
    now: int | None = None,
    lifetime: int,
) -> str:
    """The Request Object of requester ``client_id``, answerable for ``lifetime`` seconds (30 days at most).

    ``nonce`` and ``state`` are fresh random values of 22 to 128 characters (``secrets.token_urlsafe(32)``).
    """
    validate_oin(client_id)
    parts = _url(response_uri)
    if parts is None or parts.query:
        raise InvalidInput("bad_claims", "The response_uri is an http(s) URL without query or fragment.")
    if not _is_random(nonce) or not _is_random(state):
        raise InvalidInput(
            "bad_claims", f"nonce and state are {MIN_RANDOM_LENGTH} to {MAX_RANDOM_LENGTH} random characters."
        )
    if not 0 < lifetime <= MAX_REQUEST_LIFETIME:
        raise InvalidInput("bad_claims", "A request can be answered for 30 days at most.")
    if not isinstance(query, dcql.Query) or not isinstance(terms, Terms):
        raise InvalidInput("bad_claims", "A request needs a DCQL query and terms.")
    iat = now_or(now)
    terms.check(iat)
    payload = {
        "iss": client_id,
        "aud": WALLET_AUDIENCE,
        "iat": iat,
        "exp": iat + lifetime,
        "client_id": client_id,
        "response_type": RESPONSE_TYPE,
        "response_mode": RESPONSE_MODE,
        "response_uri": response_uri,
        "nonce": nonce,
        "state": state,
        "dcql_query": query.to_json(),
        EXTENSION: terms.claim(),
    }
    return jws.sign(payload, key, REQUEST_TYP)


def _requester_keys(scheme: SchemeDocument, client_id: str) -> KeyResolver:
    # The key is that of the client_id the wallet was given, whatever the token says it is from.
    def resolve(iss: str | None, header: Mapping[str, Any]) -> VerifyingKey:
        return scheme.signing_key(client_id, REQUESTER, header)

    return resolve


def _check_response_uri(value: Any, registered: str | None) -> str:
    """``value`` must lie under the requester's registered address: same origin, same path prefix."""
    if not registered:
        raise _invalid("The requester has no registered address to receive answers.")
    base, parts = _url(registered), _url(value)
    prefix = base.path.rstrip("/") if base else ""
    if (
        base is None
        or parts is None
        or (parts.scheme, parts.netloc) != (base.scheme, base.netloc)
        or parts.query
        or not parts.path.startswith(prefix)
        or not _PATH_TAIL.fullmatch(parts.path[len(prefix) :])
    ):
        raise _invalid("The response_uri does not lie under the requester's registered address.")
    return value


def _check_query(query: dcql.Query, scheme: SchemeDocument) -> None:
    """Every type known to the scheme, asked once; every path a field of its type, lists where lists are."""
    seen: set[str] = set()
    for credential in query.credentials:
        entry = scheme.document_type(credential.vct)
        if entry is None:
            raise _invalid(f"The request asks for a document type the scheme does not know: {credential.vct!r}.")
        if credential.vct in seen:
            raise _invalid("The request asks for the same document type twice.")
        seen.add(credential.vct)
        fields = entry.get("fields")
        paths = [f.get("path") for f in fields if isinstance(f, Mapping)] if isinstance(fields, list) else []
        known = {path for path in paths if isinstance(path, str)}
        unknown = [path for path in credential.paths() if path not in known]
        if unknown:
            raise _invalid(f"The request asks for {unknown[0]!r}, which is not a field of {entry.get('id')!r}.")
        expected = dcql.CredentialQuery(
            credential.id,
            credential.vct,
            credential.claims,
            credential.multiple,
            credential.required,
            dcql.array_paths(entry.get("schema")),
        )
        if expected.arrays != credential.arrays:
            raise _invalid(f"A claim path of {credential.id!r} does not mark the lists of its type with null (§7).")


def verify_request(
    token: Any, scheme: SchemeDocument, *, client_id: str, now: int | None = None, leeway: int = DEFAULT_LEEWAY
) -> AuthorizationRequest:
    """Verify a Request Object fetched for ``client_id`` (the ``client_id`` of the link) against ``scheme``."""
    now = now_or(now)
    if not is_valid_oin(client_id):
        raise _invalid("The client_id is not an OIN.")
    payload = jws.verify(token, _requester_keys(scheme, client_id), REQUEST_TYP).payload
    check_validity(payload, now, leeway=leeway, require_exp=True)
    iat, exp = required_date(payload, "iat"), required_date(payload, "exp")
    if exp - iat > MAX_REQUEST_LIFETIME:
        raise _invalid("The request can be answered for longer than 30 days.")
    # RFC 9101 §5: the client_id inside the Request Object is the one the wallet was given.
    if payload.get("client_id") != client_id or payload.get("iss") != client_id:
        raise _invalid("The request is made by another client than the link names.")
    if payload.get("aud") != WALLET_AUDIENCE:
        raise _invalid(f"The request's audience (aud) must be {WALLET_AUDIENCE}.")
    if payload.get("response_type") != RESPONSE_TYPE or payload.get("response_mode") != RESPONSE_MODE:
        raise _invalid("Only response_type vp_token with response_mode direct_post is supported.")
    if "redirect_uri" in payload:  # §8.2: with direct_post, redirect_uri must not be present
        raise _invalid("A direct_post request has no redirect_uri.")
    response_uri = _check_response_uri(
        payload.get("response_uri"), scheme.certified(client_id, REQUESTER).endpoints.get("requester")
    )
    nonce, state = payload.get("nonce"), payload.get("state")
    if not _is_random(nonce) or not _is_random(state):
        raise _invalid(f"nonce and state are {MIN_RANDOM_LENGTH} to {MAX_RANDOM_LENGTH} characters.")
    query = dcql.parse(payload.get("dcql_query"))
    _check_query(query, scheme)
    terms = Terms.from_claim(payload.get(EXTENSION))
    try:
        terms.check(iat)
    except InvalidInput as exc:
        raise _invalid(exc.message) from exc
    basis = next((b for b in scheme.legal_bases if b.get("id") == terms.legal_basis), None)
    if basis is None:
        raise _invalid("The request names a legal basis the scheme does not know.")
    # A law is used through the legal-basis lane; in a request the citizen decides on, it would say they must.
    if basis.get("kind") != CONSENT_BASIS:
        raise _invalid("A request the citizen decides on can rest only on consent, not on a law.")
    return AuthorizationRequest(client_id, response_uri, nonce, state, query, terms, iat, exp)


def request_link(wallet_url: str, client_id: str, request_uri: str) -> str:
    """The link that opens a request in a wallet: ``<wallet_url>?client_id=…&request_uri=…`` (§5, by reference)."""
    separator = "&" if "?" in wallet_url else "?"
    return wallet_url + separator + urlencode({"client_id": client_id, "request_uri": request_uri})


# ---------------------------------------------------------------------------------------------
# The answer


def _concrete(value: Any, segments: list[str], prefix: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    """The claim paths a catalogue path reaches in ``value``: every list element, only where the claim is."""
    if isinstance(value, list):
        for index, element in enumerate(value):
            yield from _concrete(element, segments, (*prefix, str(index)))
    elif not segments:
        yield prefix
    elif isinstance(value, dict) and segments[0] in value:
        yield from _concrete(value[segments[0]], segments[1:], (*prefix, segments[0]))


def present(
    credential: str,
    paths: Iterable[str],
    *,
    holder_key: SigningKey,
    aud: str,
    nonce: str,
    now: int | None = None,
) -> str:
    """A presentation of ``credential`` that discloses the catalogue ``paths`` and ends in a Key Binding JWT.

    A path through a list (``vorderingen.kenmerk``) discloses that field of every element; a field
    the credential does not have is left out (the requester then sees it is missing).
    """
    paths = [paths] if isinstance(paths, str) else list(paths)
    if not all(isinstance(path, str) for path in paths):
        raise InvalidInput("bad_path", "A field path is text such as 'vorderingen.kenmerk'.")
    claims = sdjwt.unverified_claims(credential)
    concrete = [p for path in paths for p in _concrete(claims, path.split("."), ())]
    return sdjwt_vc.present(credential, concrete, holder_key=holder_key, aud=aud, nonce=nonce, now=now)


@dataclass(frozen=True)
class Received:
    """One verified presentation: for which query, from which issuer, of which type, with the disclosed data."""

    query_id: str
    iss: str
    vct: str
    claims: dict[str, Any]
    digest: str  # SHA-256 (hex) of the presentation: what a requester stores to refuse a replay
    # Where the copy's status is published, and when it expires: a requester that keeps the data checks
    # both again whenever it looks, since the holder may supersede the copy later (R8).
    status: StatusReference | None = None
    expires_at: int | None = None


def _generic(path: tuple[str, ...]) -> str:
    return ".".join(s for s in path if not s.isdigit())


def _data_paths(value: Any, path: tuple[str, ...] = ()) -> Iterable[tuple[str, bool]]:
    """Every leaf (True) and every empty object or list (False) in ``value``, by catalogue path."""
    if isinstance(value, dict | list):
        items = list(value.items()) if isinstance(value, dict) else [(str(i), v) for i, v in enumerate(value)]
        if isinstance(value, dict) and any(not name or "." in name or name.isdigit() for name in value):
            # Such a name would read as another path (a dot) or as a list position (digits).
            raise VerificationError("invalid_presentation", "The presentation has a claim name no field can have.")
        if not items and path:
            yield _generic(path), False
        for name, child in items:
            yield from _data_paths(child, (*path, name))
    else:
        yield _generic(path), True


def _reaches(value: Any, segments: list[str]) -> bool:
    return next(iter(_concrete(value, segments, ())), None) is not None


def _check_answer(credential: dcql.CredentialQuery, claims: dict[str, Any]) -> None:
    asked = credential.paths()
    for path, leaf in _data_paths(claims):
        inside = any(path == a or path.startswith(a + ".") for a in asked)
        holds = not leaf and any(a.startswith(path + ".") for a in asked)
        if not (inside or holds):
            raise VerificationError("invalid_presentation", f"The presentation shows {path!r}, which was not asked.")
    for path in credential.paths(required_only=True):
        if not _reaches(claims, path.split(".")):
            raise VerificationError("invalid_presentation", f"The required field {path!r} is missing.")


def _presentations(vp_token: Any, query: dcql.Query) -> dict[str, list[str]]:
    """The ``vp_token`` as an object of query id to presentations (§8.1)."""
    if isinstance(vp_token, str):
        if len(vp_token) > MAX_VP_TOKEN_LENGTH:
            raise _invalid("The vp_token is too large.")
        vp_token = json_loads(vp_token)
    if not isinstance(vp_token, Mapping):
        raise _invalid("The vp_token is a JSON object of credential query ids and presentations (§8.1).")
    for query_id, presentations in vp_token.items():
        if query.credential(query_id) is None:
            raise VerificationError("invalid_presentation", "The vp_token answers a query that was not asked.")
        if (
            not isinstance(presentations, list)
            or not 0 < len(presentations) <= MAX_PRESENTATIONS
            or not all(isinstance(p, str) and len(p) <= MAX_PRESENTATION_LENGTH and p.isascii() for p in presentations)
        ):
            raise _invalid(f"Each vp_token value is an array of 1 to {MAX_PRESENTATIONS} presentations (§8.1).")
    return dict(vp_token)


def _same_type(scheme: SchemeDocument, received: str, asked: str) -> bool:
    """Whether a copy of type ``received`` answers a query for ``asked``: the same ``vct``, or two versions of
    one document type that ``scheme`` lists (a request made before the operator published a newer version,
    answered with a copy of it; or the reverse, by a holder that has not read the newer scheme document yet)."""
    if received == asked:
        return True
    received_entry, asked_entry = scheme.document_type(received), scheme.document_type(asked)
    if received_entry is None or asked_entry is None:
        return False
    type_id = received_entry.get("id")
    return isinstance(type_id, str) and type_id == asked_entry.get("id")


def verify_response(
    vp_token: Any,
    request: AuthorizationRequest,
    scheme: SchemeDocument,
    *,
    status_lists: StatusListClient | None,
    now: int | None = None,
) -> list[Received]:
    """Verify an answer to ``request``; the ``vp_token`` may be its JSON text or the parsed object.

    Every presentation is an SD-JWT VC of a certified holder, not revoked, bound by a Key Binding
    JWT to ``request.client_id`` and ``request.nonce``, of the asked type, showing only asked
    fields and every required one. The caller refuses a ``digest`` it has seen before (a replay).
    """
    now = now_or(now)
    answered = _presentations(vp_token, request.query)
    received: list[Received] = []
    seen: set[str] = set()
    for credential in request.query.credentials:
        presentations = answered.get(credential.id)
        if presentations is None:
            if credential.required:
                raise VerificationError(
                    "invalid_presentation", f"The required document type {credential.id!r} is missing."
                )
            continue
        if not credential.multiple and len(presentations) != 1:
            raise VerificationError("invalid_presentation", f"{credential.id!r} asks for one presentation, not more.")
        for presentation in presentations:
            digest = hashlib.sha256(presentation.strip().encode()).hexdigest()
            if digest in seen:
                raise VerificationError("invalid_presentation", "The same presentation appears twice.")
            seen.add(digest)
            verified = sdjwt_vc.verify(
                presentation,
                scheme.issuer_keys(),
                status_lists=status_lists,
                require_key_binding=True,
                aud=request.client_id,
                nonce=request.nonce,
                now=now,
            )
            if not _same_type(scheme, verified.vct, credential.vct):
                raise VerificationError("invalid_presentation", f"{credential.id!r} asks for another document type.")
            _check_answer(credential, verified.claims)
            received.append(
                Received(
                    credential.id,
                    verified.iss,
                    verified.vct,
                    verified.claims,
                    digest,
                    verified.status,
                    verified.expires_at,
                )
            )
    return received
