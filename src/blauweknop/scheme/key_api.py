"""A participant announces its next key: ``POST /stelsel/api/v1/deelnemers/{oin}/sleutels``.

The request carries a client assertion (RFC 7523, :mod:`blauweknop.protocol.client_assertion`) signed with
a key the scheme document lists for that participant now, so only the participant itself can add a key.
It also carries a key proof (``sleutelbewijs``) signed with the *new* key: the participant holds its private
part, so it cannot announce someone else's public key (another participant's, or the operator's) as its own.
The key is published at once as *next*; the worker makes it current once every verifier knows it
(:mod:`blauweknop.scheme.keys`), and mails the participant's contact about it at once
(:mod:`blauweknop.scheme.key_notices`). A lost or stolen key is revoked by the operator, not through this API.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import Field

from blauweknop import shared_cache
from blauweknop.api import ApiProblem
from blauweknop.protocol import client_assertion, jws, scheme_document
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.jwk import KeySet, VerifyingKey
from blauweknop.protocol.scheme_document import APP_MANAGER, SchemeDocument
from blauweknop.protocol.validity import DEFAULT_LEEWAY, check_validity, required_date
from blauweknop.scheme import key_notices, keys
from blauweknop.scheme.models import Key
from blauweknop.scheme.publication import in_force, operator_jwks

logger = logging.getLogger(__name__)
router = Router(tags=["Sleutels"])
OIN_PATTERN = r"^[0-9]{20}$"
MAX_JWK_MEMBERS = 10  # kty, crv, x, y, kid, alg, use: a public signing key needs no more
PROOF_TYP = "sleutel-bewijs+jwt"
PROOF_LIFETIME = client_assertion.MAX_LIFETIME  # seconds, as for the client assertion beside it
# What the API calls each state of a key.
STATE_WORDS = {
    Key.State.NEXT: "nieuw",
    Key.State.CURRENT: "in_gebruik",
    Key.State.RETIRING: "uitgefaseerd",
    Key.State.RETIRED: "vervallen",
    Key.State.REVOKED: "ingetrokken",
}
# A refused key, by keys.KeyRefused's code: the status, and what to do.
REFUSALS = {
    "bad_key": (422, "The key is not usable: give the public part of a P-256 or Ed25519 key, with a kid."),
    "key_exists": (
        409,
        "This kid was used before for another key, or this key is known in the scheme already (for this or another "
        "participant, or revoked). Make a new key.",
    ),
    "too_many_keys": (409, f"The participant has {keys.MAX_PUBLISHED} keys in use already. Wait for a rotation."),
}


class NieuweSleutel(Schema):
    sleutel: dict[str, Any] = Field(
        description="The new public key as a JWK: P-256 (ES256) or Ed25519 (EdDSA), with a kid never used before.",
        max_length=MAX_JWK_MEMBERS,
    )
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    client_assertion: str = Field(
        min_length=20,
        max_length=8000,
        description="A client assertion (typ client-authentication+jwt) with iss = sub = the OIN in the address, "
        "aud = this exact address, signed with a key the scheme document lists for the participant now.",
    )
    sleutelbewijs: str = Field(
        min_length=20,
        max_length=4000,
        description=f"Proof that the participant holds the new key: a compact JWS signed with the NEW key, header "
        f"typ {PROOF_TYP!r}, alg of the new key and kid = the new key's kid; payload iss = the OIN in the address, "
        f"aud = this exact address, iat and exp at most {PROOF_LIFETIME} seconds later.",
    )


class Sleutel(Schema):
    kid: str
    status: str = Field(description="nieuw: published, not signing yet; in_gebruik: the key to sign with.")
    bruikbaarVanaf: datetime | None = Field(description="From when the key signs: the worker then makes it current.")


def audience(oin: str) -> str:
    """The exact address a participant's assertion must be made for."""
    return f"{settings.SCHEME_URL}/api/v1/deelnemers/{oin}/sleutels"


def _scheme() -> SchemeDocument:
    """The document this operator has in force, verified like anyone verifies it."""
    document = in_force()
    if document is None:
        raise ApiProblem(503, "no_scheme_document", "No scheme document is in force. The operator must publish one.")
    return scheme_document.verify(document.token, KeySet.from_jwks(operator_jwks()))


def _authenticated(token: str, oin: str, scheme: SchemeDocument) -> client_assertion.ClientAssertion:
    """The participant ``oin``'s own assertion, made for this address and used once."""
    participant = scheme.organisations.get(oin) or scheme.app_managers.get(oin)
    if participant is None:
        raise ApiProblem(404, "not_found", "There is no participant with this OIN in the scheme.")
    if jws.unverified_parts(token)[1].get("iss") != oin:  # refused before any key is looked up
        raise ApiProblem(403, "forbidden", "Only the participant itself can add a key of its own.")
    role = APP_MANAGER if oin in scheme.app_managers else min(participant.roles)
    try:
        assertion = client_assertion.verify(token, scheme, audience=audience(oin), role=role)
    except VerificationError as exc:
        logger.warning("new key for %s refused: %s", oin, exc.code)
        raise ApiProblem(403 if exc.code == "not_certified" else 401, exc.code, exc.message) from None
    spend(assertion)
    return assertion


def spend(assertion: client_assertion.ClientAssertion) -> None:
    """Refuse ``assertion`` if the operator's API saw it before: each is good for one call, until it expires."""
    seconds = max(1, assertion.expires_at + DEFAULT_LEEWAY - int(time.time()))
    uses = shared_cache.count(shared_cache.key("stelsel-bewering", assertion.replay_key()), 1, seconds)
    if uses is None:
        raise ApiProblem(503, "unavailable", "The scheme operator cannot check this now. Try again in a few minutes.")
    if uses > 1:
        raise ApiProblem(401, "assertion_replayed", "This client assertion was used before; make a new one.")


def _proven(token: str, jwk: dict[str, Any], oin: str) -> None:
    """Refuse unless ``token`` is a fresh key proof for ``oin`` at this address, signed with the new key ``jwk``."""
    try:
        verified = jws.verify(token, VerifyingKey(jwk), PROOF_TYP)
        check_validity(verified.payload, int(time.time()), require_exp=True)
        lifetime = required_date(verified.payload, "exp") - required_date(verified.payload, "iat")
    except ProtocolError as exc:
        logger.warning("new key for %s refused: key proof %s", oin, exc.code)
        raise ApiProblem(422, "bad_key_proof", f"The key proof (sleutelbewijs) is not valid: {exc.message}") from None
    claims = verified.payload
    if (
        verified.header.get("kid") != jwk["kid"]
        or claims.get("iss") != oin
        or claims.get("aud") != audience(oin)
        or lifetime > PROOF_LIFETIME
    ):
        raise ApiProblem(
            422,
            "bad_key_proof",
            f"The key proof (sleutelbewijs) must name the new key's kid, iss = {oin}, aud = this address, "
            f"and live at most {PROOF_LIFETIME} seconds.",
        )


@router.post(
    "/{oin}/sleutels",
    response={200: Sleutel, 201: Sleutel},
    summary="Een nieuwe sleutel aankondigen (ondertekend met de sleutel van nu en met de nieuwe sleutel)",
)
def add_key(request: HttpRequest, body: NieuweSleutel, oin: str = Path(..., pattern=OIN_PATTERN)) -> Status:
    _authenticated(body.client_assertion, oin, _scheme())
    known = Key.objects.filter(owner=oin, kid=body.sleutel.get("kid")).exists()
    try:
        _proven(body.sleutelbewijs, keys.checked(body.sleutel), oin)
        key = keys.add(oin, body.sleutel, actor=keys.PARTICIPANT)
    except keys.KeyRefused as exc:
        status, detail = REFUSALS[exc.code]
        raise ApiProblem(status, exc.code, detail) from None
    if not known:  # the participant hears of it at once: a thief with its current key may have announced it
        key_notices.tell_key_announced.enqueue(oin, key.kid)
    answer = {"kid": key.kid, "status": STATE_WORDS[key.state], "bruikbaarVanaf": key.usable_from}
    return Status(200 if known else 201, answer)
