"""Client authentication with a signed assertion (private_key_jwt, RFC 7523 §2.2 and §3).

An organisation calls another organisation's API with a short-lived JWS in the JSON body
(``client_assertion``, with ``client_assertion_type`` = :data:`ASSERTION_TYPE`). The header has
``typ: client-authentication+jwt`` as draft-ietf-oauth-rfc7523bis asks, so that this token can never
be mistaken for another kind of JWT. ``iss`` = ``sub`` = the client's OIN, ``aud`` = the exact URL
called (one string), ``jti``, ``iat`` and ``exp`` at most five minutes later. The key is found by
``kid`` among the client's keys in the scheme document: the scheme is the client registry.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from blauweknop.protocol import jws
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.identifiers import is_valid_oin, validate_oin
from blauweknop.protocol.jwk import KeyResolver, KeySet, SigningKey, VerifyingKey
from blauweknop.protocol.scheme_document import REQUESTER, SchemeDocument
from blauweknop.protocol.validity import DEFAULT_LEEWAY, check_validity, now_or, required_date

TYP = "client-authentication+jwt"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = 300  # seconds; RFC 7523 leaves it to the receiver, we keep replay stores small
MAX_JTI_LENGTH = 64  # receivers store used ids to refuse replays; ours are 22 characters
# The scheme operator as a client (its monitoring reads the app managers' counts): it has no OIN, and its keys
# are not in the scheme document but are every participant's trust anchor (see :func:`verify_operator`).
OPERATOR = "stelsel"


@dataclass(frozen=True)
class ClientAssertion:
    """A verified client assertion: which client, which assertion, until when a replay must be refused."""

    client_id: str
    jti: str
    expires_at: int

    def replay_key(self) -> str:
        """What a receiver stores to accept each assertion once: the SHA-256 (hex) of ``client_id`` and ``jti``."""
        # An OIN is always 20 digits, so the joined text cannot be read two ways.
        return hashlib.sha256(f"{self.client_id}:{self.jti}".encode()).hexdigest()


def sign(key: SigningKey, *, client_id: str, audience: str, now: int | None = None, lifetime: int = 60) -> str:
    """An assertion that ``client_id`` (an OIN, or :data:`OPERATOR`) calls ``audience`` (the exact URL)."""
    if client_id != OPERATOR:
        validate_oin(client_id)
    if not isinstance(audience, str) or not audience:
        raise InvalidInput("bad_claims", "The audience must be the URL that is called.")
    if not 0 < lifetime <= MAX_LIFETIME:
        raise InvalidInput("bad_claims", f"A client assertion lives at most {MAX_LIFETIME} seconds.")
    iat = now_or(now)
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(16),
        "iat": iat,
        "exp": iat + lifetime,
    }
    return jws.sign(payload, key, TYP)


def _client_keys(scheme: SchemeDocument, role: str) -> KeyResolver:
    def resolve(iss: str | None, header: Mapping[str, Any]) -> VerifyingKey:
        if not is_valid_oin(iss):
            raise VerificationError("invalid_client", "The assertion does not name a client (iss).")
        return scheme.signing_key(iss, role, header)  # any failure but two is invalid_client (verify_with)

    return resolve


def verify(
    token: Any,
    scheme: SchemeDocument,
    *,
    audience: str,
    role: str = REQUESTER,
    now: int | None = None,
    leeway: int = DEFAULT_LEEWAY,
) -> ClientAssertion:
    """Verify an assertion sent to ``audience`` by a client certified in ``role`` in ``scheme``.

    Codes: ``invalid_client`` (malformed, unknown client or key, bad signature), ``key_revoked`` (signed with a
    key the operator revoked), ``not_certified``
    (a suspended or revoked client, or one without ``role``), ``aud_mismatch``, ``expired`` (also for
    an assertion that lives longer than five minutes). The caller must also refuse a
    :meth:`ClientAssertion.replay_key` it has seen before, until ``expires_at``.
    """
    return verify_with(token, _client_keys(scheme, role), audience=audience, now=now, leeway=leeway)


def verify_with(
    token: Any, keys: KeyResolver, *, audience: str, now: int | None = None, leeway: int = DEFAULT_LEEWAY
) -> ClientAssertion:
    """Verify an assertion sent to ``audience``, signed with a key that ``keys`` finds for its ``iss`` and ``kid``.

    For a receiver that keeps the clients' keys itself (the operator's register of applicants, its trust anchor).
    Codes as :func:`verify`; the caller refuses replays.
    """
    try:
        payload = jws.verify(token, keys, TYP).payload
    except VerificationError as exc:
        if exc.code in ("not_certified", "key_revoked"):
            raise
        raise VerificationError("invalid_client", exc.message) from exc
    return _checked(payload, audience, now_or(now), leeway)


def verify_operator(
    token: Any, operator_keys: KeySet, *, audience: str, now: int | None = None, leeway: int = DEFAULT_LEEWAY
) -> ClientAssertion:
    """Verify an assertion of the scheme operator (``iss`` = :data:`OPERATOR`) against ``operator_keys``.

    ``operator_keys`` is the trust anchor the scheme document is verified with, its ``revoked`` the operator
    kids a document listed as revoked (``key_revoked``). Other codes as :func:`verify`; the caller refuses replays.
    """
    assertion = verify_with(token, operator_keys, audience=audience, now=now, leeway=leeway)
    if assertion.client_id != OPERATOR:
        raise VerificationError("invalid_client", "Only the scheme operator may call this.")
    return assertion


def _checked(payload: Mapping[str, Any], audience: str, now: int, leeway: int) -> ClientAssertion:
    """The claims of a verified assertion checked: lifetime, subject, audience, identifier."""
    try:
        check_validity(payload, now, leeway=leeway, require_exp=True)
        iat, exp = required_date(payload, "iat"), required_date(payload, "exp")
    except VerificationError as exc:
        raise VerificationError("expired" if exc.code == "expired" else "invalid_client", exc.message) from exc
    if exp - iat > MAX_LIFETIME:
        raise VerificationError("expired", f"A client assertion lives at most {MAX_LIFETIME} seconds.")
    if payload.get("sub") != payload["iss"]:
        raise VerificationError("invalid_client", "The assertion's subject (sub) is not its issuer (iss).")
    # RFC 7523bis: the audience is one value, compared exactly; a list could be replayed elsewhere.
    if payload.get("aud") != audience:
        raise VerificationError("aud_mismatch", "The assertion was made for another address.")
    jti = payload.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH or not jti.isprintable():
        raise VerificationError(
            "invalid_client", f"The assertion needs an identifier (jti) of 1 to {MAX_JTI_LENGTH} characters."
        )
    return ClientAssertion(payload["iss"], jti, exp)
