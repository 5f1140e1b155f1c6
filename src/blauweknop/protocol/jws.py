"""Compact JWS (RFC 7515) for the allowed algorithms only.

Verification finds the key from the header and the (still unverified) ``iss``, checks the
algorithm against the allow-list and the key, and checks the signature before any claim is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from blauweknop.protocol.encoding import b64url_bytes, b64url_decode, json_dumps, json_object
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import ALLOWED_ALGS, KeyResolver, SigningKey, VerifyingKey


@dataclass(frozen=True)
class VerifiedJws:
    """A JWS whose signature was checked: its header, its payload and the key that signed it."""

    header: dict[str, Any]
    payload: dict[str, Any]
    key: VerifyingKey


@lru_cache(maxsize=256)
def _encoded_header(alg: str, typ: str, kid: str) -> bytes:
    # The same few headers are used for every token a key signs: encode each once.
    return b64url_bytes(json_dumps({"alg": alg, "typ": typ, "kid": kid}).encode())


def sign(payload: Mapping[str, Any], key: SigningKey, typ: str) -> str:
    """Sign ``payload`` as a compact JWS with header ``alg``, ``typ`` and ``kid``."""
    signing_input = _encoded_header(key.alg, typ, key.kid) + b"." + b64url_bytes(json_dumps(payload).encode())
    return (signing_input + b"." + b64url_bytes(key.sign(signing_input))).decode("ascii")


def verify(token: str, keys: KeyResolver | VerifyingKey, typ: str | tuple[str, ...]) -> VerifiedJws:
    """Verify a compact JWS of media type ``typ`` and return its header and payload.

    ``keys`` is either the one key that must have signed it, or a resolver that picks the key
    from the issuer and header. Raises :class:`VerificationError` for every failure.
    """
    if not isinstance(token, str):
        raise VerificationError("malformed", "A token must be text.")
    parts = token.split(".")
    if len(parts) != 3:
        raise VerificationError("malformed", "A signed token has three parts separated by dots.")
    header = json_object(b64url_decode(parts[0]), "token header")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        raise VerificationError("alg_not_allowed", f"The algorithm {alg!r} is not allowed.")
    if "crit" in header:
        # We understand no extension, so RFC 7515 §4.1.11 obliges us to refuse.
        raise VerificationError("malformed", "The token uses header extensions that are not supported.")
    allowed_typs = (typ,) if isinstance(typ, str) else typ
    if header.get("typ") not in allowed_typs:
        raise VerificationError("wrong_typ", f"Expected a token of type {allowed_typs[0]!r}.")
    signature = b64url_decode(parts[2])
    payload_bytes = b64url_decode(parts[1])
    if isinstance(keys, VerifyingKey):
        key = keys
    else:
        # Only the issuer name is read before the signature check: it says whose keys to use.
        unverified = json_object(payload_bytes, "token payload")
        iss = unverified.get("iss")
        key = keys(iss if isinstance(iss, str) else None, header)
    if key.alg != alg:
        raise VerificationError("alg_not_allowed", "The algorithm does not match the key.")
    if not key.verify(signature, (parts[0] + "." + parts[1]).encode("ascii")):
        raise VerificationError("bad_signature")
    return VerifiedJws(header, json_object(payload_bytes, "token payload"), key)


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS *without* checking it; for a holder's own bookkeeping."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise VerificationError("malformed", "A signed token has three parts separated by dots.")
    return json_object(b64url_decode(parts[0]), "token header"), json_object(b64url_decode(parts[1]), "token payload")
