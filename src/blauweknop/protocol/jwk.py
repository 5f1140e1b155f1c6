"""Keys as JSON Web Keys: generate, load, publish, thumbprint (RFC 7517, RFC 7638, RFC 8037).

Only two signature algorithms exist in this scheme: ES256 (the default) and EdDSA with Ed25519.
Everything else, including ``none`` and every HMAC algorithm, is refused wherever a key is loaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from blauweknop.protocol.encoding import b64url_decode, b64url_encode, json_dumps
from blauweknop.protocol.errors import InvalidInput, VerificationError

ALLOWED_ALGS: tuple[str, ...] = ("ES256", "EdDSA")
DEFAULT_ALG = "ES256"

_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_P256_COORD = 32
# P-256 (FIPS 186-4 §D.1.2.3) is y² = x³ - 3x + b over GF(p).
_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_ES256 = ec.ECDSA(hashes.SHA256())


def _alg_of(jwk: Mapping[str, Any]) -> str:
    """Which allowed algorithm a JWK is for; refuses every other kind of key."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "EC" and crv == "P-256":
        alg = "ES256"
    elif kty == "OKP" and crv == "Ed25519":
        alg = "EdDSA"
    else:
        raise InvalidInput("bad_key", "Only P-256 (ES256) and Ed25519 (EdDSA) keys are allowed.")
    if jwk.get("alg", alg) != alg:
        raise InvalidInput("bad_key", f"The key says alg {jwk.get('alg')!r} but is a {alg} key.")
    return alg


def _raw(jwk: Mapping[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    try:
        raw = b64url_decode(value) if isinstance(value, str) else b""
    except VerificationError as exc:
        raise InvalidInput("bad_key", f"The key member {name!r} is not base64url.") from exc
    if len(raw) != size:
        raise InvalidInput("bad_key", f"The key member {name!r} has the wrong length.")
    return raw


def _coordinate(jwk: Mapping[str, Any], name: str, size: int) -> int:
    return int.from_bytes(_raw(jwk, name, size), "big")


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of the public part of ``jwk``, base64url."""
    _alg_of(jwk)
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("crv", "kty", "x")
    canonical = json_dumps({m: jwk[m] for m in members})
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def public_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The public part of a JWK: every private member removed, ``kid`` and ``alg`` kept."""
    return {k: v for k, v in jwk.items() if k not in _PRIVATE_MEMBERS}


def checked_public_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The public part of ``jwk`` once it is known to be a valid public key of an allowed kind.

    Cheaper than loading the key (issuing checks every holder key): a P-256 point is checked
    against the curve equation directly, which suffices because the curve has cofactor 1.
    """
    if not isinstance(jwk, Mapping):
        raise InvalidInput("bad_key", "A key must be a JSON object.")
    if "d" in jwk:
        raise InvalidInput("bad_key", "This is a private key; give the public key only.")
    if _alg_of(jwk) == "ES256":
        x, y = _coordinate(jwk, "x", _P256_COORD), _coordinate(jwk, "y", _P256_COORD)
        p = _P256_P
        if x >= p or y >= p or (y * y - x * x * x + 3 * x - _P256_B) % p:
            raise InvalidInput("bad_key", "The public key is not a point on the P-256 curve.")
    else:
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(_raw(jwk, "x", 32))
        except ValueError as exc:
            raise InvalidInput("bad_key", "The public key is not valid.") from exc
    return public_jwk(jwk)


def jwks(keys: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A JWK Set of the public parts of ``keys``."""
    return {"keys": [public_jwk(k) for k in keys]}


def generate_jwk(alg: str = DEFAULT_ALG) -> dict[str, Any]:
    """A new private JWK for ``alg`` with ``kid`` set to its thumbprint."""
    if alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.private_numbers()
        jwk: dict[str, Any] = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.public_numbers.x.to_bytes(_P256_COORD, "big")),
            "y": b64url_encode(numbers.public_numbers.y.to_bytes(_P256_COORD, "big")),
            "d": b64url_encode(numbers.private_value.to_bytes(_P256_COORD, "big")),
        }
    elif alg == "EdDSA":
        ed = ed25519.Ed25519PrivateKey.generate()
        jwk = {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url_encode(ed.public_key().public_bytes_raw()),
            "d": b64url_encode(ed.private_bytes_raw()),
        }
    else:
        raise InvalidInput("alg_not_allowed", f"Algorithm {alg!r} is not allowed; use ES256 or EdDSA.")
    jwk["kid"] = thumbprint(jwk)
    jwk["alg"] = alg
    jwk["use"] = "sig"
    return jwk


class SigningKey:
    """A private key ready to sign, loaded once from its JWK."""

    def __init__(self, jwk: Mapping[str, Any]) -> None:
        if not isinstance(jwk, Mapping) or "d" not in jwk:
            raise InvalidInput("bad_key", "This is not a private key (it has no 'd').")
        self.alg = _alg_of(jwk)
        self.kid: str = jwk.get("kid") or thumbprint(jwk)
        self.public_jwk = public_jwk({**jwk, "kid": self.kid, "alg": self.alg})
        try:
            if self.alg == "ES256":
                public = ec.EllipticCurvePublicNumbers(
                    _coordinate(jwk, "x", _P256_COORD), _coordinate(jwk, "y", _P256_COORD), ec.SECP256R1()
                )
                self._ec = ec.EllipticCurvePrivateNumbers(_coordinate(jwk, "d", _P256_COORD), public).private_key()
            else:
                self._ed = ed25519.Ed25519PrivateKey.from_private_bytes(_raw(jwk, "d", 32))
                if self._ed.public_key().public_bytes_raw() != _raw(jwk, "x", 32):
                    raise ValueError("public part does not belong to the private key")
        except ValueError as exc:
            raise InvalidInput("bad_key", "The private key is not valid.") from exc

    @property
    def cryptography_key(self) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
        """The key as a ``cryptography`` object, for formats that sign by themselves (X.509, PDF)."""
        return self._ec if self.alg == "ES256" else self._ed

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``; ES256 signatures are returned as JWS wants them: r || s, 64 bytes."""
        if self.alg == "ES256":
            r, s = decode_dss_signature(self._ec.sign(data, _ES256))
            return r.to_bytes(_P256_COORD, "big") + s.to_bytes(_P256_COORD, "big")
        return self._ed.sign(data)


class VerifyingKey:
    """A public key ready to verify signatures, loaded once from its JWK."""

    def __init__(self, jwk: Mapping[str, Any]) -> None:
        if not isinstance(jwk, Mapping):
            raise InvalidInput("bad_key", "A key must be a JSON object.")
        self.alg = _alg_of(jwk)
        self.kid: str | None = jwk.get("kid")
        self.jwk = public_jwk(jwk)
        try:
            if self.alg == "ES256":
                # The uncompressed point form loads twice as fast as from numbers; both check the curve.
                point = b"\x04" + _raw(jwk, "x", _P256_COORD) + _raw(jwk, "y", _P256_COORD)
                self._ec = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
            else:
                self._ed = ed25519.Ed25519PublicKey.from_public_bytes(_raw(jwk, "x", 32))
        except ValueError as exc:
            raise InvalidInput("bad_key", "The public key is not valid.") from exc

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` over ``data`` was made with the matching private key."""
        try:
            if self.alg == "ES256":
                if len(signature) != 2 * _P256_COORD:
                    return False
                r = int.from_bytes(signature[:_P256_COORD], "big")
                s = int.from_bytes(signature[_P256_COORD:], "big")
                self._ec.verify(encode_dss_signature(r, s), data, _ES256)
            else:
                self._ed.verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


class KeyResolver(Protocol):
    """Finds the key that must have signed a token, given its (unverified) issuer and header."""

    def __call__(self, iss: str | None, header: Mapping[str, Any]) -> VerifyingKey: ...


class KeySet:
    """A fixed set of trusted public keys (a JWKS), found by ``kid``; trusts them for any issuer.

    ``revoked`` are the key ids whose owner (or the scheme operator) withdrew them: a token that names one
    fails with ``key_revoked``, whether or not its key is still among ``keys``.
    """

    def __init__(self, keys: Iterable[Mapping[str, Any]], revoked: Iterable[str] = ()) -> None:
        self.keys = [VerifyingKey(k) for k in keys]
        self.revoked = frozenset(revoked)

    @classmethod
    def from_jwks(cls, document: Any, revoked: Iterable[str] = ()) -> KeySet:
        """Load a JWK Set document (``{"keys": [...]}``); a single JWK is accepted too."""
        if isinstance(document, Mapping) and isinstance(document.get("keys"), list):
            return cls(document["keys"], revoked)
        if isinstance(document, Mapping) and "kty" in document:
            return cls([document], revoked)
        raise InvalidInput("bad_key", "This is not a JWK Set: it has no list 'keys'.")

    def thumbprints(self) -> frozenset[str]:
        """The RFC 7638 thumbprints of the keys: how a key is recognised outside JOSE (a PDF signature)."""
        return frozenset(thumbprint(key.jwk) for key in self.keys)

    def find(self, kid: str | None) -> VerifyingKey:
        """The key with ``kid``; without a kid, the only key there is. A revoked kid fails with ``key_revoked``."""
        if kid is None:
            if len(self.keys) != 1:
                raise VerificationError("unknown_key", "The token names no key and several keys are trusted.")
            found: VerifyingKey | None = self.keys[0]
        else:
            found = next((key for key in self.keys if key.kid == kid), None)
        if kid in self.revoked or (found is not None and found.kid in self.revoked):
            raise VerificationError("key_revoked")
        if found is None:
            raise VerificationError("unknown_key")
        return found

    def __call__(self, iss: str | None, header: Mapping[str, Any]) -> VerifyingKey:
        return self.find(header.get("kid"))
