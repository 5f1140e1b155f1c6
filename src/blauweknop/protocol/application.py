"""An application to join the scheme: the participant's description, signed with one of its own keys.

A compact JWS with ``typ: aanmelding+jwt``. Its payload is the description the operator admits
(``oin``, ``name``, ``slug``, ``base_url``, ``roles``, ``document_types``, ``jwks``, ``description``,
``contact``, ``kind``; docs/scheme-operator.md, "Joining", explains each) plus ``aud``, ``iat`` and ``jti``.
The signature must verify with a key of the ``jwks`` in the payload: whoever applies shows they
hold the private key of a key they ask the scheme to trust (proof of possession). ``iat`` is at most
:data:`MAX_AGE` seconds old, and the receiver refuses a ``jti`` it has accepted before, so a copy of an
application cannot be sent again. ``aud`` is the exact address of the operator it is meant for (its
``/api/v1/aanmeldingen``), so one signed for an acceptance scheme cannot be sent to production.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from blauweknop.protocol import jws
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import ALLOWED_ALGS, KeySet, SigningKey
from blauweknop.protocol.validity import DEFAULT_LEEWAY, now_or, required_date

TYP = "aanmelding+jwt"
MAX_AGE = 300  # seconds: an application is signed just before it is sent
MAX_JTI_LENGTH = 64
CLAIMS = ("aud", "iat", "jti")  # what the signature adds to the description


@dataclass(frozen=True)
class Application:
    """A verified application: the participant's description, and which signed application it was."""

    description: dict[str, Any]
    jti: str
    issued_at: int
    kid: str | None


def endpoints(base_url: str, slug: str, roles: Iterable[str]) -> dict[str, str]:
    """The addresses the scheme document publishes for a participant with this ``base_url``, ``slug`` and ``roles``.

    ``base_url`` is the root of the participant's deployment; the slug goes under it. An app manager is
    the citizen's wallet there as well: where a requester's link opens, and where standing fetches go.
    """
    base = base_url.rstrip("/")
    own = f"{base}/{slug}"
    if "app_manager" in roles:
        return {"api": f"{own}/api/v1", "wallet": f"{base}/delen/", "fetch": f"{base}/appbeheerder/api/v1"}
    addresses = {"api": f"{own}/api/v1"}
    if "holder" in roles:
        addresses["issuer"] = own
    if "requester" in roles:
        # A requester's own API (requests, answers) lives apart from any holder API of the same organisation.
        addresses["requester"] = f"{base}/vragers/{slug}/api/v1"
    return addresses


def sign(description: Mapping[str, Any], key: SigningKey, *, audience: str, now: int | None = None) -> str:
    """The application for ``description``, signed with ``key`` (whose public key must be in its ``jwks``).

    ``audience`` is the exact address it is sent to: the operator's ``/api/v1/aanmeldingen``.
    """
    if not isinstance(audience, str) or not audience:
        raise InvalidInput("bad_claims", "The audience must be the address the application is sent to.")
    if not isinstance(description, Mapping):
        raise InvalidInput("bad_claims", "The description must be a JSON object.")
    if reserved := sorted(set(description) & set(CLAIMS)):
        raise InvalidInput("bad_claims", f"The description may not hold {', '.join(reserved)}: signing adds those.")
    payload = {**description, "aud": audience, "iat": now_or(now), "jti": secrets.token_urlsafe(16)}
    return jws.sign(payload, key, TYP)


def description(token: Any) -> Any:
    """The description in ``token``, not yet verified: to check it, and to find the keys it must be signed with.

    A token that is no application at all (another ``typ``, an algorithm not allowed) is refused first.
    """
    header, payload = jws.unverified_parts(token)
    if header.get("typ") != TYP:
        raise VerificationError("wrong_typ", f"Expected a token of type {TYP!r}.")
    if header.get("alg") not in ALLOWED_ALGS:
        raise VerificationError("alg_not_allowed", f"The algorithm {header.get('alg')!r} is not allowed.")
    return {name: value for name, value in payload.items() if name not in CLAIMS}


def verify(
    token: Any, keys: KeySet, *, audience: str, now: int | None = None, leeway: int = DEFAULT_LEEWAY
) -> Application:
    """Verify ``token``, sent to ``audience``, against ``keys`` (the checked keys of its own description).

    Codes: ``malformed``, ``wrong_typ``, ``alg_not_allowed``, ``unknown_key`` (not signed with one of
    its own keys), ``bad_signature``, ``missing_claim`` (no ``iat`` or ``jti``), ``aud_mismatch`` (no
    ``aud``, or another than ``audience``, compared exactly), ``expired`` (older than :data:`MAX_AGE`),
    ``issued_in_future``.
    """
    now = now_or(now)
    verified = jws.verify(token, keys, TYP)
    iat = required_date(verified.payload, "iat")
    if now - iat > MAX_AGE + leeway:
        raise VerificationError("expired", f"The application was signed more than {MAX_AGE // 60} minutes ago.")
    if iat > now + leeway:
        raise VerificationError("issued_in_future")
    # One value, compared exactly: a list, or an address that only starts alike, could be sent elsewhere too.
    if verified.payload.get("aud") != audience:
        raise VerificationError("aud_mismatch", "The application was signed for another scheme operator's address.")
    jti = verified.payload.get("jti")
    if jti is None:
        raise VerificationError("missing_claim", "The claim 'jti' is missing.")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH or not jti.isprintable():
        raise VerificationError("malformed", f"The jti must be a text of 1 to {MAX_JTI_LENGTH} characters.")
    body = {name: value for name, value in verified.payload.items() if name not in CLAIMS}
    return Application(body, jti, iat, verified.header.get("kid"))
