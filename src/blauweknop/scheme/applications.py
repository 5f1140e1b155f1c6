"""Applications to join the scheme: checked like ``manage.py admit_participant``, stored to wait for the operator.

An application (``blauweknop.protocol.application``) is the participant's description with one public key,
signed with that key: whoever sends it holds the key's private part. It proves nothing about the OIN it names
(OINs are public), so it takes nothing away from anyone: it is stored as an :class:`Application`, apart from the
participants, with an ``applied`` audit entry. Several applications may name one OIN or slug while they wait (the
operator sees them side by side); the key is not in the register until the operator certifies one
(``blauweknop.scheme.lifecycle.certify``), and a refused application leaves its OIN, slug and key free. Only an
OIN that is a participant already, a slug of a participant and a key in the register are taken.
Only the applicant may ask how its own application stands: with a client assertion signed with the key it applied
with (:func:`sender`), or, once certified, with a key of the participant in the operator's register.

Anyone may apply under any OIN with any key id (kid), so that nobody can bury an organisation's application or
make its own status unreadable (attack review 2, F1): while one application of an OIN and kid waits, another with
the same OIN and kid is refused (409 ``kid_taken``: the real organisation picks another kid, and tells the
operator which one is its own); at most :data:`MAX_WAITING` applications of one OIN wait at once (409
``too_many_waiting``; the operator's application page says so); and an application the operator did not decide
on lapses after :data:`LAPSE_AFTER` (:func:`lapse_waiting`: refused, with a ``lapsed`` audit entry). A status
question is then answered from the one waiting application of its OIN and kid, found by those exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import task

from blauweknop import shared_cache
from blauweknop.db import lock_name, write_transaction
from blauweknop.protocol import application, client_assertion, jws
from blauweknop.protocol.encoding import json_object
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.protocol.jwk import KeyResolver, KeySet, VerifyingKey, thumbprint
from blauweknop.scheme import audit, keys
from blauweknop.scheme.management.admission import Admission, Refused, admission
from blauweknop.scheme.models import Application, AuditEntry, Key, Organisation

logger = logging.getLogger(__name__)

APPLICANT = "aanvrager"  # the actor in the audit trail of what an applicant did itself
LOCK = "scheme-applications"  # storing an application and certifying one take turns: each looks, then writes

MAX_BODY = 64 * 1024  # ten keys and every text at its longest fit in a quarter of this
# Applications per client address in a window: an organisation applies once, and a few times more
# while it fixes what was refused. The count keeps the operator's list of applicants from being flooded.
PER_ADDRESS = 20
WINDOW = 60 * 60  # seconds after the last application that the count is kept
# The audit actions that change a participant's certification, and so its status.
STATUS_ACTIONS = ("certified", "suspended", "restored", "revoked")
STATUS_WORDS = {
    Organisation.Certification.CERTIFIED: "gecertificeerd",
    Organisation.Certification.SUSPENDED: "geschorst",
    Organisation.Certification.REVOKED: "ingetrokken",
}
WAITING, REFUSED = "aangemeld", "geweigerd"  # an application the operator has not decided on, or turned down
# The decided (refused or lapsed) applications of one OIN and kid whose key may have signed a status question,
# newest first, after the one that waits: each needed a decision or a lapse, and the look is bounded still.
MAX_CANDIDATES = 50
MAX_WAITING = 5  # applications of one OIN waiting at once: the real one and a few mistakes or impostors
LAPSE_AFTER = timedelta(days=30)  # an application the operator did not decide on in this time is refused
LAPSED = "lapsed"  # the audit action of an application that lapsed
LAPSE_BATCH = 500  # applications lapsed per run: the next run takes the rest
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
ONE_KEY = (
    "An application holds exactly one key in its jwks: the key it is signed with, which proves you hold it. "
    "Announce further keys after certification through POST /stelsel/api/v1/deelnemers/{oin}/sleutels, "
    "each with its own proof (sleutelbewijs)."
)


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
    # Only the signing key is proven: an unproven key could be someone else's public key, claimed in their name.
    if len(admitted.jwks["keys"]) != 1:
        raise NotAccepted(422, "one_key", ONE_KEY)
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


def apply(token: str, *, now: int | None = None) -> Application:
    """Store the application in ``token`` to wait for the operator, with its audit entry, all or nothing."""
    admitted, verified = checked(token, now=now)
    try:
        public = keys.checked(admitted.jwks["keys"][0])
    except keys.KeyRefused as refused:
        raise NotAccepted(422, refused.code, refused.message) from None
    stored = _store(admitted, public, verified.jti)
    logger.info("application %s received for OIN %s", stored.pk, admitted.oin)
    return stored


def _store(admitted: Admission, public: dict[str, Any], jti: str) -> Application:
    with write_transaction():
        # One at a time, and apart from a certification: the look for what is taken, and the write, are one step.
        lock_name(LOCK)
        if AuditEntry.objects.filter(action="applied", subject=admitted.oin, details__jti=jti).exists():
            raise NotAccepted(409, "replayed", "This signed application was received before. Sign a new one.")
        if Organisation.objects.filter(oin=admitted.oin).exists():
            raise NotAccepted(
                409,
                "oin_taken",
                f"The OIN {admitted.oin} takes part in the scheme already. Ask the scheme operator about its status.",
            )
        if Organisation.objects.filter(slug=admitted.fields["slug"]).exists():
            raise NotAccepted(
                409,
                "slug_taken",
                f"The slug {admitted.fields['slug']!r} belongs to another participant. Choose another.",
            )
        if keys.known_elsewhere(public, admitted.oin, public["kid"]):
            raise NotAccepted(
                409, "key_exists", "This key is known in the scheme already (in use or revoked). Make a new key."
            )
        waiting = Application.objects.filter(oin=admitted.oin, state=Application.State.WAITING)
        same_kid = waiting.filter(kid=public["kid"]).values_list("public_jwk", flat=True).first()
        if same_kid is not None and thumbprint(same_kid) == thumbprint(public):
            raise NotAccepted(
                409,
                "already_applied",
                "An application of this OIN with this key is waiting for the scheme operator already. "
                "Ask how it stands with 'blauweknop scheme status'.",
            )
        if same_kid is not None:
            raise NotAccepted(
                409,
                "kid_taken",
                f"An application of this OIN with the key id {public['kid']!r} and another key is waiting already. "
                "If it is not yours, make a key with another key id, apply with that, and tell the scheme operator "
                "which key id is yours.",
            )
        if waiting.count() >= MAX_WAITING:
            raise NotAccepted(
                409,
                "too_many_waiting",
                f"{MAX_WAITING} applications of the OIN {admitted.oin} are waiting for the scheme operator already. "
                "Ask the scheme operator to decide on them; then apply again.",
            )
        stored = Application.objects.create(
            oin=admitted.oin,
            name=admitted.fields["name"],
            slug=admitted.fields["slug"],
            fields=admitted.fields,
            kid=public["kid"],
            public_jwk=public,
        )
        details = {"jti": jti, "aanmelding": stored.pk, "kid": stored.kid}
        audit.record(actor=APPLICANT, action="applied", subject=admitted.oin, details=details)
    return stored


def sender(token: str, *, audience: str) -> tuple[client_assertion.ClientAssertion, Application | None]:
    """The verified client assertion ``token`` and whose it is: a participant (``None``) or one application.

    A participant signs with a key in the operator's register (:func:`registered_key`); an applicant with the key
    it applied with: the one application of its OIN and kid that waits, else one decided on (newest first, at
    most :data:`MAX_CANDIDATES`). Only the one that holds the private key proves the application is its own.
    Codes as :func:`blauweknop.protocol.client_assertion.verify_with`.
    """
    try:
        return client_assertion.verify_with(token, registered_key, audience=audience), None
    except VerificationError as exc:
        if exc.code != "invalid_client":
            raise
    try:
        header, claims = jws.unverified_parts(token)
    except VerificationError:
        raise VerificationError("invalid_client", "The assertion is not signed with a key of its issuer.") from None
    iss, kid = claims.get("iss"), header.get("kid")
    # A kid in the register is the register's to judge: once revoked, no old application makes it prove anything.
    if is_valid_oin(iss) and isinstance(kid, str) and not Key.objects.filter(owner=iss, kid=kid).exists():
        # A certified application's key is in the register: there it may be revoked, and then proves nothing.
        applied = Application.objects.filter(oin=iss, kid=kid)
        waiting = applied.filter(state=Application.State.WAITING).order_by("-pk")[:1]
        decided = applied.filter(state=Application.State.REFUSED).order_by("-pk")[:MAX_CANDIDATES]
        for candidate in [*waiting, *decided]:
            try:
                return client_assertion.verify_with(token, _only(candidate), audience=audience), candidate
            except VerificationError as exc:
                if exc.code != "invalid_client":
                    raise
    raise VerificationError("invalid_client", "The assertion is not signed with a key of its issuer (iss, kid).")


def _only(candidate: Application) -> KeyResolver:
    """A resolver that finds ``candidate``'s key, whatever the assertion names."""
    key = VerifyingKey(candidate.public_jwk)
    return lambda _iss, _header: key


@task()
def lapse_waiting() -> int:
    """Refuse the applications that waited longer than :data:`LAPSE_AFTER`; how many."""
    return lapse(timezone.now())


def lapse(now: datetime) -> int:
    """Refuse at most :data:`LAPSE_BATCH` applications that waited :data:`LAPSE_AFTER` by ``now``; how many.

    Each gets a ``lapsed`` audit entry; its OIN, slug and key stay free, and its sender may apply again.
    """
    with write_transaction():
        lock_name(LOCK)  # apart from a certification or refusal of the same application
        old = Application.objects.filter(state=Application.State.WAITING, received_at__lt=now - LAPSE_AFTER)
        lapsing = list(old.order_by("pk").values_list("pk", "oin", "kid")[:LAPSE_BATCH])
        Application.objects.filter(pk__in=[pk for pk, _, _ in lapsing]).update(
            state=Application.State.REFUSED, decided_at=now
        )
        for pk, oin, kid in lapsing:
            details = {"aanmelding": pk, "kid": kid}
            reason = f"Geen besluit binnen {LAPSE_AFTER.days} dagen."
            audit.record(actor=keys.SYSTEM, action=LAPSED, subject=oin, reason=reason, details=details)
    if lapsing:
        logger.info("%d applications lapsed after %d days without a decision", len(lapsing), LAPSE_AFTER.days)
    return len(lapsing)


def status(oin: str, applied: Application | None) -> Status | None:
    """How ``applied`` stands (an application's own status), or the participant ``oin`` (``applied`` None).

    A certified application stands as its participant does. ``None``: no participant with this OIN.
    """
    if applied is not None and applied.state == Application.State.WAITING:
        return Status(oin, WAITING, applied.received_at, applied.received_at, None)
    if applied is not None and applied.state == Application.State.REFUSED:
        return Status(oin, REFUSED, applied.received_at, applied.decided_at, None)
    organisation = Organisation.objects.filter(oin=oin).first()
    if organisation is None:
        return None
    if applied is None:  # admitted directly, or through the application that was certified
        applied = Application.objects.filter(oin=oin, state=Application.State.CERTIFIED).first()
    newest = AuditEntry.objects.filter(subject=oin, action__in=STATUS_ACTIONS).order_by("-pk").first()
    return Status(
        oin=oin,
        status=STATUS_WORDS[Organisation.Certification(organisation.certification)],
        applied_at=applied.received_at if applied else None,
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
