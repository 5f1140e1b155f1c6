"""The app manager's assertion: "this citizen has just logged in with DigiD and asks you for data".

After a DigiD login, the portal (a certified app manager) signs a short-lived assertion for one
holder (``aud`` = that holder's OIN). It carries the BSN, the DigiD assurance level and the
citizen's wallet key. Holders trust it only through the scheme document. It travels only in POST
bodies over TLS, because it carries a BSN.

When the citizen has just agreed to share with a requester (variant Plus), the assertion also says
so in ``deling``: for which requester, why, on what legal basis, under which consent record. The
holder records that in its access record; the requester must be certified as requester.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from blauweknop.protocol import jws
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.identifiers import is_valid_bsn, validate_bsn, validate_oin
from blauweknop.protocol.jwk import KeyResolver, SigningKey, VerifyingKey, checked_public_jwk
from blauweknop.protocol.scheme_document import APP_MANAGER, REQUESTER, SchemeDocument
from blauweknop.protocol.validity import DEFAULT_LEEWAY, check_validity, now_or, required_date

TYP = "burgersessie+jwt"
MAX_LIFETIME = 60  # seconds; long enough for one call to a holder, too short to be worth stealing
MAX_JTI_LENGTH = 64  # holders store used ids to refuse replays; ours are 22 characters
# DigiD assurance levels, from low to high (betrouwbaarheidsniveaus).
ASSURANCE_LEVELS = ("basis", "midden", "substantieel", "hoog")
MAX_PURPOSE_LENGTH = 500  # the same cap as a share request's purpose
MAX_ID_LENGTH = 100  # a legal basis id or a consent record id


@dataclass(frozen=True)
class Sharing:
    """The share the citizen agreed to: the claim ``deling`` = {vrager, doel, grondslag, toestemming}."""

    requester_oin: str
    purpose: str  # in Dutch, as the requester worded it
    legal_basis: str  # an id in the scheme's legal_bases
    consent_id: str  # the app manager's consent record

    def claim(self) -> dict[str, str]:
        """The ``deling`` claim."""
        return {
            "vrager": self.requester_oin,
            "doel": self.purpose,
            "grondslag": self.legal_basis,
            "toestemming": self.consent_id,
        }

    @classmethod
    def from_claim(cls, value: Any) -> Sharing:
        """A ``deling`` claim read back; ``malformed`` when it is not one."""
        if not isinstance(value, Mapping) or set(value) != {"vrager", "doel", "grondslag", "toestemming"}:
            raise VerificationError(
                "malformed", "The share (deling) needs exactly vrager, doel, grondslag and toestemming."
            )
        sharing = cls(value["vrager"], value["doel"], value["grondslag"], value["toestemming"])
        try:
            sharing.check()
        except InvalidInput as exc:
            raise VerificationError("malformed", exc.message) from exc
        return sharing

    def check(self) -> None:
        """Refuse values a holder could not record: ``bad_oin`` or ``bad_claims``."""
        validate_oin(self.requester_oin)
        for name, value, cap in (
            ("purpose", self.purpose, MAX_PURPOSE_LENGTH),
            ("legal basis", self.legal_basis, MAX_ID_LENGTH),
            ("consent id", self.consent_id, MAX_ID_LENGTH),
        ):
            if not isinstance(value, str) or not value.strip() or len(value) > cap or "\x00" in value:
                raise InvalidInput("bad_claims", f"The share's {name} must be text of 1 to {cap} characters.")


@dataclass(frozen=True)
class SessionAssertion:
    """A verified assertion: who the citizen is, how sure, which wallet key, from which app manager."""

    app_manager_oin: str
    holder_oin: str
    bsn: str
    assurance_level: str
    wallet_jwk: dict[str, Any]
    jti: str
    expires_at: int
    sharing: Sharing | None = None

    def __repr__(self) -> str:  # never print a BSN, not even in a debugger or traceback
        return f"SessionAssertion(app_manager={self.app_manager_oin}, holder={self.holder_oin}, jti={self.jti})"


def sign(
    key: SigningKey,
    *,
    app_manager_oin: str,
    holder_oin: str,
    bsn: str,
    assurance_level: str,
    wallet_jwk: Mapping[str, Any],
    now: int | None = None,
    lifetime: int = MAX_LIFETIME,
    sharing: Sharing | None = None,
) -> str:
    """An assertion for ``holder_oin`` about the citizen with ``bsn``, valid for ``lifetime`` seconds.

    With ``sharing`` the copies are for that requester, under that consent (claim ``deling``).
    """
    validate_oin(app_manager_oin)
    validate_oin(holder_oin)
    validate_bsn(bsn)
    if assurance_level not in ASSURANCE_LEVELS:
        raise InvalidInput("bad_claims", f"Unknown DigiD assurance level {assurance_level!r}.")
    if not 0 < lifetime <= MAX_LIFETIME:
        raise InvalidInput("bad_claims", f"An assertion lives at most {MAX_LIFETIME} seconds.")
    iat = now_or(now)
    payload = {
        "iss": app_manager_oin,
        "aud": holder_oin,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": secrets.token_urlsafe(16),
        "bsn": bsn,
        "loa": assurance_level,
        "cnf": {"jwk": checked_public_jwk(wallet_jwk)},
    }
    if sharing is not None:
        sharing.check()
        payload["deling"] = sharing.claim()
    return jws.sign(payload, key, TYP)


def _app_manager_keys(scheme: SchemeDocument) -> KeyResolver:
    def resolve(iss: str | None, header: Mapping[str, Any]) -> VerifyingKey:
        if iss is None:
            raise VerificationError("unknown_issuer", "The assertion does not say which app manager made it.")
        return scheme.signing_key(iss, APP_MANAGER, header)

    return resolve


def verify(
    token: str, scheme: SchemeDocument, *, holder_oin: str, now: int | None = None, leeway: int = DEFAULT_LEEWAY
) -> SessionAssertion:
    """Verify an assertion meant for ``holder_oin``, made by an app manager certified in ``scheme``.

    The caller must also refuse a ``jti`` it has seen before (replay), until ``expires_at``.
    A ``deling`` must name a requester certified in ``scheme`` (else ``not_certified``) and a legal
    basis the scheme lists (else ``malformed``).
    """
    now = now_or(now)
    payload = jws.verify(token, _app_manager_keys(scheme), TYP).payload
    check_validity(payload, now, leeway=leeway, require_exp=True)
    iat, exp = required_date(payload, "iat"), required_date(payload, "exp")
    if exp - iat > MAX_LIFETIME:
        raise VerificationError("expired", "The assertion lives longer than allowed.")
    if payload.get("aud") != holder_oin:
        raise VerificationError("aud_mismatch", "The assertion was made for another organisation.")
    if not is_valid_bsn(payload.get("bsn")):
        raise VerificationError("malformed", "The assertion does not carry a valid BSN.")
    if payload.get("loa") not in ASSURANCE_LEVELS:
        raise VerificationError("malformed", "The assertion has no known DigiD assurance level.")
    jti, cnf = payload.get("jti"), payload.get("cnf")
    if not isinstance(jti, str) or not jti:
        raise VerificationError("missing_claim", "The assertion has no identifier (jti).")
    if len(jti) > MAX_JTI_LENGTH:
        raise VerificationError("malformed", f"The assertion's identifier (jti) is longer than {MAX_JTI_LENGTH}.")
    if not jti.isprintable():  # a NUL or other control character: PostgreSQL cannot store a NUL
        raise VerificationError("malformed", "The assertion's identifier (jti) holds a control character.")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if jwk is None:
        raise VerificationError("no_holder_key", "The assertion carries no wallet key.")
    try:
        wallet = checked_public_jwk(jwk)
    except InvalidInput as exc:
        raise VerificationError("no_holder_key", "The wallet key in the assertion is not usable.") from exc
    sharing = _sharing(payload["deling"], scheme) if "deling" in payload else None
    return SessionAssertion(payload["iss"], holder_oin, payload["bsn"], payload["loa"], wallet, jti, exp, sharing)


def _sharing(value: Any, scheme: SchemeDocument) -> Sharing:
    sharing = Sharing.from_claim(value)
    if not scheme.is_certified(sharing.requester_oin, REQUESTER):
        raise VerificationError("not_certified", "The organisation to share with is not certified as requester.")
    if not any(basis.get("id") == sharing.legal_basis for basis in scheme.legal_bases):
        raise VerificationError("malformed", "The share names a legal basis the scheme does not know.")
    return sharing
