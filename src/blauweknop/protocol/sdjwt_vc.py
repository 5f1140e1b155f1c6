"""The SD-JWT VC profile: credentials of a type (``vct``) from an issuer (``iss``), bound to a holder.

``iss``, ``vct``, ``iat``, ``nbf``, ``exp``, ``cnf`` and ``status`` are always in plain view;
every data claim is selectively disclosable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from blauweknop.protocol import sdjwt
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeyResolver, KeySet, SigningKey, VerifyingKey, checked_public_jwk, public_jwk
from blauweknop.protocol.sdjwt import KeyBinding
from blauweknop.protocol.status_list import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusListClient,
    StatusReference,
    check_published_by,
)
from blauweknop.protocol.validity import DEFAULT_LEEWAY, now_or, numeric_date, required_date

TYP = "dc+sd-jwt"
# Earlier drafts of SD-JWT VC used vc+sd-jwt; verifiers are asked to accept it for a while.
ACCEPTED_TYPS = (TYP, "vc+sd-jwt")
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
PLAIN_CLAIMS = NEVER_DISCLOSABLE | {"iat"}
DEFAULT_VALID_FOR = 30 * 86400
WELL_KNOWN = "/.well-known/jwt-vc-issuer"


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput("bad_claims", f"The {what} must be an http(s) URL without query or fragment.")


def issue(
    claims: Mapping[str, Any],
    key: SigningKey,
    *,
    iss: str,
    vct: str,
    holder_jwk: Mapping[str, Any] | None = None,
    valid_for: int = DEFAULT_VALID_FOR,
    status: StatusReference | None = None,
    now: int | None = None,
    max_decoys: int = sdjwt.DEFAULT_MAX_DECOYS,
) -> str:
    """Issue an SD-JWT VC of type ``vct`` with every data claim selectively disclosable."""
    _check_url(iss, "issuer (iss)")
    if not isinstance(vct, str) or not vct:
        raise InvalidInput("bad_claims", "The credential type (vct) must be a non-empty URI.")
    if not isinstance(claims, Mapping):
        raise InvalidInput("bad_claims", "The claims must be a JSON object.")
    clash = sorted(PLAIN_CLAIMS.intersection(claims))
    if clash:
        raise InvalidInput(
            "bad_claims", f"These claims are set by the issuer and may not be given: {', '.join(clash)}."
        )
    if valid_for <= 0:
        raise InvalidInput("bad_claims", "The validity must be at least one second.")
    iat = now_or(now)
    plain: dict[str, Any] = {"iss": iss, "vct": vct, "iat": iat, "exp": iat + valid_for}
    if holder_jwk is not None:
        plain["cnf"] = {"jwk": checked_public_jwk(holder_jwk)}
    if status is not None:
        plain["status"] = status.claim()
    return sdjwt.issue({**plain, **claims}, key, typ=TYP, visible=plain, max_decoys=max_decoys)


# Presenting an SD-JWT VC is presenting its SD-JWT: the profile adds nothing the holder must do.
present = sdjwt.present


@dataclass(frozen=True)
class VerifiedCredential:
    """A verified SD-JWT VC: who issued it, of what type, what it shows and until when."""

    iss: str
    vct: str
    claims: dict[str, Any]  # the data claims that were disclosed, without the plain claims
    disclosed: frozenset[str]
    issued_at: int | None
    expires_at: int
    holder_jwk: dict[str, Any] | None
    status: StatusReference | None
    key_binding: KeyBinding | None
    issuer_key: VerifyingKey


def verify(
    presentation: str,
    keys: KeyResolver,
    *,
    status_lists: StatusListClient | None,
    require_key_binding: bool,
    aud: str | None = None,
    nonce: str | None = None,
    now: int | None = None,
    leeway: int = DEFAULT_LEEWAY,
) -> VerifiedCredential:
    """Verify an SD-JWT VC presentation, including its status when it carries one.

    A credential with a status cannot be verified without ``status_lists``: a verifier that
    skips the status check must not call the credential valid.
    """
    now = now_or(now)
    result = sdjwt.verify(
        presentation,
        keys,
        typ=ACCEPTED_TYPS,
        require_key_binding=require_key_binding,
        aud=aud,
        nonce=nonce,
        now=now,
        leeway=leeway,
    )
    disclosed_plain = sorted(NEVER_DISCLOSABLE.intersection(p.split(".")[0] for p in result.disclosed))
    if disclosed_plain:
        raise VerificationError(
            "not_disclosable", f"The claim {disclosed_plain[0]!r} may never be selectively disclosed."
        )
    claims = result.claims
    for name in ("iss", "vct"):
        if not isinstance(claims.get(name), str):
            raise VerificationError("missing_claim", f"The claim {name!r} is missing.")
    # Every copy in this scheme expires, in plain view: an issuer that hides exp in a disclosure
    # would let the holder leave it out and present the copy as never expiring.
    expires_at = required_date(claims, "exp")
    status = StatusReference.from_claim(claims["status"]) if "status" in claims else None
    if status is not None:
        check_published_by(status.uri, claims["iss"])
        if status_lists is None:
            raise VerificationError("status_unavailable", "The credential has a status, but it was not checked.")
        _check_status(status_lists.status(status, keys))
    cnf = claims.get("cnf")
    return VerifiedCredential(
        iss=claims["iss"],
        vct=claims["vct"],
        claims={k: v for k, v in claims.items() if k not in PLAIN_CLAIMS},
        disclosed=result.disclosed,
        issued_at=numeric_date(claims, "iat"),
        expires_at=expires_at,
        holder_jwk=cnf.get("jwk") if isinstance(cnf, dict) else None,
        status=status,
        key_binding=result.key_binding,
        issuer_key=result.issuer_key,
    )


def _check_status(value: int) -> None:
    if value == VALID:
        return
    if value == SUSPENDED:
        raise VerificationError("suspended")
    # INVALID, and any status we do not know, means the credential must not be trusted.
    raise VerificationError("revoked", None if value == INVALID else f"The credential has status {value:#04x}.")


def issuer_metadata_url(iss: str) -> str:
    """Where the issuer metadata of ``iss`` lives: the well-known prefix goes before the path."""
    _check_url(iss, "issuer (iss)")
    parts = urlsplit(iss)
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + parts.path.rstrip("/"), "", ""))


def issuer_metadata(iss: str, keys: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The JWT VC issuer metadata document of ``iss`` with its public keys inline."""
    _check_url(iss, "issuer (iss)")
    return {"issuer": iss, "jwks": {"keys": [public_jwk(k) for k in keys]}}


def keys_from_issuer_metadata(document: Any, iss: str) -> KeySet:
    """The keys in an issuer metadata document, after checking it is about ``iss``."""
    if not isinstance(document, Mapping) or document.get("issuer") != iss:
        raise VerificationError("unknown_issuer", "The issuer metadata is not about this issuer.")
    try:
        return KeySet.from_jwks(document.get("jwks"))
    except InvalidInput as exc:
        raise VerificationError("unknown_key", "The issuer metadata has no usable keys.") from exc
