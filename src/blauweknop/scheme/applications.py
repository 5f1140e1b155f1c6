"""Applications to join the scheme: checked like ``manage.py admit_participant``, stored to wait for the operator.

An application (``blauweknop.protocol.application``) is the participant's description, signed with
one of the keys in it. It is checked with the operator's own admission checks
(``blauweknop.scheme.management.admission``), its signature against its own keys, then stored in one
transaction: the Organisation as ``applied``, its keys, and the audit entry ``applied``. An applicant
is never in a scheme document, so nothing is published: the operator certifies or refuses it later.
Only the applicant may ask how its application stands: with a client assertion signed with one of its keys
in the operator's register (:func:`registered_key`), as an applicant is in no scheme document.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.http import HttpRequest

from blauweknop import shared_cache
from blauweknop.db import lock_name, write_transaction
from blauweknop.protocol import application
from blauweknop.protocol.encoding import json_object
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.protocol.jwk import KeySet, VerifyingKey
from blauweknop.scheme import audit, keys
from blauweknop.scheme.management.admission import Admission, Refused, admission
from blauweknop.scheme.models import AuditEntry, Key, Organisation

logger = logging.getLogger(__name__)

APPLICANT = "aanvrager"  # the actor in the audit trail of what an applicant did itself

MAX_BODY = 64 * 1024  # ten keys and every text at its longest fit in a quarter of this
# Applications per client address in a window: an organisation applies once, and a few times more
# while it fixes what was refused. The count keeps the operator's list of applicants from being flooded.
PER_ADDRESS = 20
WINDOW = 60 * 60  # seconds after the last application that the count is kept
# The audit actions that change a participant's certification, and so its status.
STATUS_ACTIONS = ("applied", "certified", "suspended", "restored", "revoked", "refused")
STATUS_WORDS = {
    Organisation.Certification.APPLIED: "aangemeld",
    Organisation.Certification.CERTIFIED: "gecertificeerd",
    Organisation.Certification.SUSPENDED: "geschorst",
    Organisation.Certification.REVOKED: "ingetrokken",
}
REFUSED = "geweigerd"  # revoked as an application, before it was ever certified
# The keys a participant proves itself with to ask its status: those the operator has not revoked or let lapse.
PROVING_STATES = (Key.State.NEXT, Key.State.CURRENT, Key.State.RETIRING)
# How each failure of the signed application is answered: its form is wrong (400), or what it shows is (422).
BAD_FORM = frozenset({"malformed", "wrong_typ", "alg_not_allowed"})
PROOF_WORDS = {
    "unknown_key": "The application is not signed with a key from its own jwks. Sign it with one of those keys.",
    "bad_signature": "The signature does not match the key in the jwks it names. Sign it with that key's private key.",
    "expired": f"The application was signed more than {application.MAX_AGE // 60} minutes ago. Sign it again.",
    "issued_in_future": "The application says it was signed in the future. Check your computer's clock.",
}


class NotAccepted(Exception):
    """The application is refused: an HTTP status, a stable code, a sentence, and any problems with the description."""

    def __init__(self, status: int, code: str, detail: str, problems: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.problems = status, code, detail, problems or []


@dataclass(frozen=True)
class Status:
    """What the participant itself may know of its application: its status, and when it changed."""

    oin: str
    status: str
    applied_at: datetime | None
    changed_at: datetime | None
    certified_since: date | None


def address() -> str:
    """The exact address applications are sent to here: the ``aud`` each must carry."""
    return f"{settings.SCHEME_URL}/api/v1/aanmeldingen"


def limit(request: HttpRequest) -> None:
    """Count this application against its client address; ``NotAccepted`` (429) past :data:`PER_ADDRESS`."""
    tries = shared_cache.key("aanmeldingen", shared_cache.client_address(request))
    counted = shared_cache.count(tries, 1, WINDOW)
    if counted is not None and counted > PER_ADDRESS:
        raise NotAccepted(429, "too_many_requests", "Too many applications from this address. Try again in an hour.")


def too_large() -> NotAccepted:
    """The refusal of a body larger than :data:`MAX_BODY`."""
    return NotAccepted(413, "too_large", f"An application is at most {MAX_BODY // 1024} KB.")


def token_of(body: bytes) -> str:
    """The signed application in a request body ``{"aanmelding": "<compact JWS>"}``."""
    if len(body) > MAX_BODY:
        raise too_large()
    try:
        parsed = json_object(body, "body")
    except VerificationError:
        raise NotAccepted(400, "invalid_json", 'The body must be a JSON object: {"aanmelding": "<JWS>"}.') from None
    token = parsed.get("aanmelding")
    if set(parsed) != {"aanmelding"} or not isinstance(token, str):
        raise NotAccepted(
            400, "invalid_input", 'The body must hold the signed application as text, and nothing else: {"aanmelding"}.'
        )
    return token


def checked(token: str, *, now: int | None = None) -> tuple[Admission, application.Application]:
    """The admission that ``token`` asks for, once its description passes the operator's checks and its signature."""
    try:
        described = application.description(token)
    except ProtocolError as exc:
        raise NotAccepted(400, exc.code, exc.message) from None
    try:
        admitted = admission(described)
    except Refused as refused:
        raise NotAccepted(
            422,
            "invalid_application",
            "The application is not complete or not right. See invalidParams.",
            refused.problems,
        ) from None
    try:
        verified = application.verify(token, KeySet(admitted.jwks["keys"]), audience=address(), now=now)
    except ProtocolError as exc:
        status = 400 if exc.code in BAD_FORM else 422
        words = PROOF_WORDS.get(exc.code, exc.message)
        if exc.code == "aud_mismatch":
            words = (
                f"The application was not signed for this scheme operator: its aud must be exactly {address()}. "
                "Sign it again for this address."
            )
        raise NotAccepted(status, exc.code, words) from None
    return admitted, verified


def apply(token: str, *, now: int | None = None) -> Organisation:
    """Store the application in ``token`` as an applicant (with its keys and audit entry), all or nothing."""
    admitted, verified = checked(token, now=now)
    try:
        organisation = _store(admitted, verified.jti)
    except IntegrityError:  # admitted by the operator between our look and our write
        raise _taken(admitted.oin) from None
    except keys.KeyRefused as refused:
        raise NotAccepted(422, refused.code, refused.message) from None
    logger.info("application received from OIN %s", admitted.oin)
    return organisation


def _taken(oin: str) -> NotAccepted:
    return NotAccepted(
        409, "oin_taken", f"The OIN {oin} has applied or takes part already. Ask the scheme operator about its status."
    )


def _store(admitted: Admission, jti: str) -> Organisation:
    with write_transaction():
        # One application at a time: the look for an OIN or slug in use, and the write, are one step.
        lock_name("scheme-applications")
        if AuditEntry.objects.filter(action="applied", subject=admitted.oin, details__jti=jti).exists():
            raise NotAccepted(409, "replayed", "This signed application was received before. Sign a new one.")
        if Organisation.objects.filter(oin=admitted.oin).exists():
            raise _taken(admitted.oin)
        if Organisation.objects.filter(slug=admitted.fields["slug"]).exists():
            raise NotAccepted(
                409,
                "slug_taken",
                f"The slug {admitted.fields['slug']!r} belongs to another participant. Choose another.",
            )
        organisation = Organisation.objects.create(
            oin=admitted.oin, certification=Organisation.Certification.APPLIED, **admitted.fields
        )
        audit.record(actor=APPLICANT, action="applied", subject=admitted.oin, details={"jti": jti})
        for jwk in admitted.jwks["keys"]:
            keys.add(admitted.oin, jwk, actor=APPLICANT)
    return organisation


def status(oin: str) -> Status | None:
    """The status of ``oin``'s application or participation, with its dates; ``None`` for an OIN not known."""
    organisation = Organisation.objects.filter(oin=oin).first()
    if organisation is None:
        return None
    steps = AuditEntry.objects.filter(subject=oin, action__in=STATUS_ACTIONS).order_by("-pk")
    newest = steps.first()
    applied = steps.filter(action="applied").first()
    word = STATUS_WORDS[Organisation.Certification(organisation.certification)]
    if newest is not None and newest.action == "refused":
        word = REFUSED
    return Status(
        oin=oin,
        status=word,
        applied_at=applied.at if applied else None,
        changed_at=newest.at if newest else None,
        certified_since=organisation.certified_since,
    )


def registered_key(iss: str | None, header: Mapping[str, Any]) -> VerifyingKey:
    """The key ``header`` names (``kid``) among ``iss``'s keys in the operator's register, not revoked or retired.

    A :class:`blauweknop.protocol.jwk.KeyResolver` for a client assertion. An OIN nobody applied with and a key
    that is not the OIN's fail alike (``unknown_key``): the failure tells nobody whether the OIN applied.
    """
    kid = header.get("kid")
    found = None
    if is_valid_oin(iss) and isinstance(kid, str):
        owned = Key.objects.filter(owner=iss, kid=kid, state__in=PROVING_STATES)
        found = owned.values_list("public_jwk", flat=True).first()
    if found is None:
        raise VerificationError("unknown_key", "The assertion is not signed with a key of its issuer (iss, kid).")
    return VerifyingKey(found)
