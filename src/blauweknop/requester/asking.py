"""Making a share request: checked input becomes a signed OpenID4VP request object with a DCQL query.

Each document type asked for is one credential query (its id is the type id), each field one claim
query; everything is checked against the scheme's catalogue and register of legal bases first, so a
request never asks for something no holder can give, or on a basis the scheme does not know.

The back office may name whom a request is for (a BSN). Anyone with the link or the code can open
the request, so such a request asks the BSN as required in every document type that has it, and
the answer is taken only when it shows that very BSN (requester.answers). The request keeps a keyed
pseudonym of the BSN, never the number; the signed request object, served to anyone with the code,
does not carry it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from blauweknop import document_types
from blauweknop.protocol import check_code, dcql, openid4vp
from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.identifiers import validate_bsn
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.text import plain
from blauweknop.pseudonyms import pseudonym
from blauweknop.requester import tenants
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from blauweknop.requester.tenants import RequesterTenant

CODE_LENGTH = 8  # 40 bits of Crockford base32
CODE_PATTERN = f"^[{check_code.ALPHABET}]{{{CODE_LENGTH}}}$"
MAX_VALID_DAYS = 30  # a request object lives at most this long (docs/plus.md §1)
MAX_STANDING_DAYS = 366  # standing access ends at most a year away
MAX_RETENTION_DAYS = 3650
MAX_TYPES = 10
MAX_FIELDS = 60
MAX_PURPOSE = 300
MAX_REFERENCE = 100
SUBJECT = "burgerservicenummer"  # the field that says whom a document is about


@dataclass(frozen=True)
class Asked:
    """One document type asked for: whether it is required, from every holder or one, and its fields."""

    type_id: str
    required: bool
    multiple: bool
    fields: tuple[tuple[str, bool], ...]  # (catalogue path, required)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput("invalid_request", message)


def new_code() -> str:
    """A fresh short code: :data:`CODE_LENGTH` random characters of Crockford base32."""
    return "".join(secrets.choice(check_code.ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    """The short code as people read it: ``ABCD-EFGH``."""
    return check_code.formatted(code)


def legal_basis(scheme: SchemeDocument, basis_id: str) -> dict[str, Any] | None:
    """The entry ``basis_id`` of the scheme's register of legal bases, if there is one."""
    return next((b for b in scheme.legal_bases if b.get("id") == basis_id), None)


def _plain_text(value: Any, what: str, limit: int, *, required: bool = True) -> str:
    cleaned = plain(value, lines=False) if isinstance(value, str) else None
    if cleaned is None or len(cleaned) > limit:
        raise _refuse(
            f"The {what} must be one line of plain text of at most {limit} characters, "
            "without control, invisible or direction characters."
        )
    if required and not cleaned:
        raise _refuse(f"The {what} is missing.")
    return cleaned


def _checked_terms(
    tenant: RequesterTenant,
    purpose: dict[str, str],
    basis_id: str,
    retention_days: int,
    access: str,
    access_until: date | None,
    reference: str,
    *,
    for_one_person: bool,
) -> openid4vp.Terms:
    if not isinstance(purpose, dict) or set(purpose) != {"nl", "en"}:
        raise _refuse("Give the purpose in Dutch and in English (nl, en).")
    words = {language: _plain_text(purpose[language], f"purpose ({language})", MAX_PURPOSE) for language in purpose}
    basis = legal_basis(tenant.scheme, basis_id) if isinstance(basis_id, str) else None
    if basis is None:
        raise _refuse("The legal basis is not in the scheme's register of legal bases.")
    if basis.get("kind") != openid4vp.CONSENT_BASIS:  # a law goes through the legal-basis lane, not to the citizen
        raise _refuse("A request to the citizen can rest only on consent; fetch on a law as a legal-basis fetch.")
    longest = basis.get("maxBewaartermijnDagen")
    longest = longest if isinstance(longest, int) and not isinstance(longest, bool) else MAX_RETENTION_DAYS
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) or not 1 <= retention_days <= longest:
        raise _refuse(f"The retention term must be a whole number of days from 1 to {longest}.")
    today = timezone.localdate()
    if access == openid4vp.ONCE:
        if access_until is not None:
            raise _refuse("One-time access has no end date.")
    elif access == openid4vp.STANDING:
        if not isinstance(access_until, date) or not today < access_until <= today + timedelta(MAX_STANDING_DAYS):
            raise _refuse("Standing access needs an end date after today and at most a year away.")
    else:
        raise _refuse(f"Access is {openid4vp.ONCE} or {openid4vp.STANDING}.")
    return openid4vp.Terms(
        purpose=words,
        legal_basis=basis_id,
        retention_days=retention_days,
        access=access,
        access_until=access_until.isoformat() if access_until else None,
        reference=_plain_text(reference, "reference", MAX_REFERENCE, required=False),
        for_one_person=for_one_person,
    )


def _claim_id(path: str) -> str:
    """A DCQL claim id for a catalogue path (letters and dots): ids may hold letters, digits, ``_`` and ``-``."""
    return path.replace(".", "-")


def _with_subject(fields: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
    """``fields`` with the BSN first and required: a request bound to a citizen checks whom the data are about."""
    return ((SUBJECT, True), *((path, required) for path, required in fields if path != SUBJECT))


def _checked_query(scheme: SchemeDocument, asked: list[Asked], *, bound: bool = False) -> dcql.Query:
    if not isinstance(asked, list) or not 1 <= len(asked) <= MAX_TYPES:
        raise _refuse(f"Ask for 1 to {MAX_TYPES} document types.")
    if sum(len(item.fields) for item in asked) > MAX_FIELDS:
        raise _refuse(f"Ask for at most {MAX_FIELDS} fields in all.")
    if not any(item.required for item in asked):
        raise _refuse("Ask for at least one document type as required.")
    catalogue = document_types.of(scheme)
    queries, seen = [], set()
    for item in asked:
        document_type = catalogue.get(item.type_id) if isinstance(item.type_id, str) else None
        if document_type is None:
            raise _refuse(f"The catalogue has no document type {str(item.type_id)[:40]!r}.")
        if item.type_id in seen:
            raise _refuse(f"The document type {item.type_id!r} is asked for twice.")
        seen.add(item.type_id)
        known = {f.path for f in document_type.fields}
        paths = [path for path, _ in item.fields]
        if unknown := [p for p in paths if p not in known]:
            raise _refuse(f"The document type {item.type_id!r} has no field {str(unknown[0])[:80]!r}.")
        if len(set(paths)) != len(paths):
            raise _refuse(f"A field of {item.type_id!r} is asked for twice.")
        if not any(required for _, required in item.fields):
            raise _refuse(f"Ask for at least one field of {item.type_id!r} as required.")
        # Every document type that can show the BSN must show it, the optional ones too: each copy is then checked.
        fields = _with_subject(item.fields) if bound and SUBJECT in known else item.fields
        claims = tuple(dcql.ClaimQuery(_claim_id(path), path, bool(required)) for path, required in fields)
        arrays = dcql.array_paths(document_type.schema)
        try:
            queries.append(
                dcql.CredentialQuery(item.type_id, document_type.vct, claims, item.multiple, item.required, arrays)
            )
        except InvalidInput as exc:
            raise _refuse(exc.message) from exc
    if bound and not any(query.required and SUBJECT in query.paths() for query in queries):
        raise _refuse(
            "A request for one citizen needs a required document type that shows the citizen service number (BSN). "
            "Ask for such a type as required, or leave the BSN out."
        )
    return dcql.Query(tuple(queries))


def check_asked(scheme: SchemeDocument, asked: list[Asked]) -> None:
    """Refuse (:class:`InvalidInput`) what the scheme's catalogue cannot give, as every new request is checked."""
    _checked_query(scheme, asked)


def response_uri(tenant: RequesterTenant) -> str:
    """Where the wallet posts its answer (``direct_post``)."""
    return f"{tenant.api_url}/antwoorden"


def create(
    tenant: RequesterTenant,
    *,
    purpose: dict[str, str],
    legal_basis: str,
    retention_days: int,
    access: str,
    access_until: date | None,
    asked: list[Asked],
    reference: str = "",
    created_by: Any = None,
    valid_days: int = 14,
    bsn: str | None = None,
) -> ShareRequest:
    """A new open share request of ``tenant``, its request object signed; :class:`InvalidInput` on bad input.

    With ``bsn`` the request is for that citizen only: it asks their BSN and keeps only its pseudonym.
    """
    if bsn is not None:
        validate_bsn(bsn)  # its error never repeats the number
    terms = _checked_terms(
        tenant, purpose, legal_basis, retention_days, access, access_until, reference, for_one_person=bsn is not None
    )
    query = _checked_query(tenant.scheme, asked, bound=bsn is not None)
    if isinstance(valid_days, bool) or not isinstance(valid_days, int) or not 1 <= valid_days <= MAX_VALID_DAYS:
        raise _refuse(f"A request can be answered for 1 to {MAX_VALID_DAYS} days.")
    now = timezone.now()
    for _attempt in range(3):  # 40 bits: a code that is taken is all but impossible, but not quite
        share_request = ShareRequest(
            requester=tenant.requester,
            code=new_code(),
            reference=terms.reference,
            purpose=terms.purpose,
            legal_basis=terms.legal_basis,
            retention_days=terms.retention_days,
            access=terms.access,
            access_until=access_until,
            asked=query.to_json(),
            subject=pseudonym(bsn) if bsn is not None else "",
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
        share_request.request_object = openid4vp.sign_request(
            tenant.signing_key(),
            client_id=tenant.oin,
            response_uri=response_uri(tenant),
            nonce=share_request.nonce,
            state=share_request.state,
            query=query,
            terms=terms,
            now=int(now.timestamp()),
            lifetime=valid_days * 86400,
        )
        try:
            with transaction.atomic():
                share_request.save()
        except IntegrityError:
            continue
        return share_request
    raise RuntimeError("no free short code after three tries")


def _api_url(scheme: SchemeDocument, oin: str) -> str:
    return scheme.organisation(oin).endpoints["requester"].rstrip("/")


def request_uri(share_request: ShareRequest, scheme: SchemeDocument) -> str:
    """Where the wallet fetches the request object: under the requester's registered address."""
    return f"{_api_url(scheme, share_request.requester_id)}/verzoekobjecten/{share_request.code}"


def link(share_request: ShareRequest, scheme: SchemeDocument) -> str:
    """The link that opens the request in the citizen's wallet (the portal's ``/delen/``), also for a QR code."""
    wallet_url = tenants.wallet(scheme).endpoints["wallet"]
    return openid4vp.request_link(wallet_url, share_request.requester_id, request_uri(share_request, scheme))


def authorization_request(share_request: ShareRequest, tenant: RequesterTenant) -> openid4vp.AuthorizationRequest:
    """The request as it was signed, from what is stored: what answers to it are checked against."""
    return openid4vp.AuthorizationRequest(
        client_id=tenant.oin,
        response_uri=response_uri(tenant),
        nonce=share_request.nonce,
        state=share_request.state,
        query=dcql.parse(share_request.asked),
        terms=openid4vp.Terms(
            purpose=share_request.purpose,
            legal_basis=share_request.legal_basis,
            retention_days=share_request.retention_days,
            access=share_request.access,
            access_until=share_request.access_until.isoformat() if share_request.access_until else None,
            reference=share_request.reference,
            for_one_person=bool(share_request.subject),
        ),
        issued_at=int(share_request.created_at.timestamp()),
        expires_at=int(share_request.expires_at.timestamp()),
    )


def received(share_request: ShareRequest) -> list[ReceivedCredential]:
    """What was received for ``share_request`` and is still kept, newest first."""
    return list(share_request.received.filter(delete_after__gt=timezone.now()))
