"""Selective Disclosure for JWTs (RFC 9901): issue, present and verify.

Wire format: ``<issuer-signed JWT>~<disclosure>~...~<disclosure>~[<KB-JWT>]``.
A disclosure is the base64url of a JSON array ``[salt, name, value]`` (object member) or
``[salt, value]`` (array element); the signed payload holds only the digests of disclosures.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blauweknop.protocol import jws
from blauweknop.protocol.encoding import (
    b64url_decode,
    b64url_encode,
    json_dumps,
    json_loads,
    json_string,
)
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeyResolver, SigningKey, VerifyingKey, thumbprint
from blauweknop.protocol.validity import DEFAULT_LEEWAY, check_validity, now_or, required_date

HASH_ALGS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
DEFAULT_HASH_ALG = "sha-256"
KB_TYP = "kb+jwt"
SALT_BYTES = 18  # 144 bits: above the 128 RFC 9901 §9.3 asks for, and whole base64 characters
_SALT_CHARS = SALT_BYTES * 4 // 3
DEFAULT_MAX_DECOYS = 3
DEFAULT_KB_MAX_AGE = 300  # seconds a Key Binding JWT may be old
RESERVED_NAMES = frozenset({"_sd", "..."})
_NOT_ISSUABLE = RESERVED_NAMES | {"_sd_alg"}
_NOTHING_VISIBLE: frozenset[str] = frozenset()
_SALT_BATCH = 16
_RANDOM_BLOCK = 1024
_b2a = binascii.b2a_base64
_string = json.encoder.encode_basestring  # the C encoder of json.dumps for str, without a wrapper
_URLSAFE = bytes.maketrans(b"+/", b"-_")
MAX_DEPTH = 32  # no real credential nests deeper; a hostile one must not exhaust the stack

Path = tuple[str, ...]


def digest(disclosure: str, hash_alg: str = DEFAULT_HASH_ALG) -> str:
    """The digest of a disclosure as it appears in ``_sd`` or ``...``: over its ASCII text."""
    return b64url_encode(HASH_ALGS[hash_alg](disclosure.encode("ascii")).digest())


def parse_path(path: str | Sequence[str | int]) -> Path:
    """A claim path as a tuple of names: ``"adres.woonplaats"`` or ``["kinderen", 0, "naam"]``."""
    segments = path.split(".") if isinstance(path, str) else [str(s) for s in path]
    if not segments or any(s == "" for s in segments):
        raise InvalidInput("bad_path", f"The claim path {path!r} is empty or has an empty part.")
    return tuple(segments)


def format_path(path: Path) -> str:
    """The dotted form of a claim path."""
    return ".".join(path)


# ---------------------------------------------------------------------------------------------
# Issuing
#
# Issuing is on the hot path of every holder, so the concealer builds each disclosure's JSON
# text directly for the common scalar cases and works on ASCII bytes until the very end.


class _Concealer:
    """Makes every member and element of a claims tree selectively disclosable, depth first.

    Issuing is on the hot path of every holder: disclosure texts are built directly for the
    common scalar cases, salts and decoys come from one buffer of randomness, and the loop over
    an object's members does its encoding and hashing inline.
    """

    def __init__(self, hash_alg: str, max_decoys: int, salt: Callable[[], str] | None) -> None:
        self._hash = HASH_ALGS[hash_alg]
        self._decoy_bytes = self._hash(b"").digest_size
        self._max_decoys = max_decoys
        # Salts come out as JSON string literals, ready to be put in a disclosure.
        self._salt = (lambda: json_string(salt())) if salt else self._random_salt
        self._salts: list[str] = []
        self._pool, self._used = b"", 0
        self.disclosures: list[bytes] = []

    def _random(self, n: int) -> bytes:
        # The CSPRNG is read in blocks: a system call per salt would cost more than the salt's digest.
        if self._used + n > len(self._pool):
            self._pool, self._used = os.urandom(max(_RANDOM_BLOCK, n)), 0
        self._used += n
        return self._pool[self._used - n : self._used]

    def _random_salt(self) -> str:
        if not self._salts:
            # SALT_BYTES is a multiple of 3, so one encoding gives a batch of whole salts, made of
            # base64url characters only, none of which needs escaping in JSON.
            text = b64url_encode(self._random(SALT_BYTES * _SALT_BATCH))
            self._salts = [f'"{text[i : i + _SALT_CHARS]}"' for i in range(0, len(text), _SALT_CHARS)]
        return self._salts.pop()

    def _digest(self, content: str) -> str:
        """Record the disclosure with JSON text ``content`` and return its digest."""
        encoded = _b2a(content.encode(), newline=False).translate(_URLSAFE).rstrip(b"=")
        self.disclosures.append(encoded)
        return _b2a(self._hash(encoded).digest(), newline=False).translate(_URLSAFE).rstrip(b"=").decode()

    def _json(self, value: Any) -> str:
        """The JSON text of ``value`` with everything inside it made selectively disclosable."""
        kind = type(value)
        if kind is str:
            return _string(value)
        if kind is int:
            return int.__repr__(value)
        if isinstance(value, Mapping):
            # Written directly: the digests are base64url, which needs no escaping.
            digests = self._members(value, _NOTHING_VISIBLE)[1]
            return '{"_sd":["' + '","'.join(digests) + '"]}' if digests else "{}"
        if isinstance(value, list | tuple):
            return "[" + ",".join(f'{{"...":"{digest}"}}' for digest in self._elements(value)) + "]"
        return json_dumps(value)

    def _decoys(self) -> list[str]:
        if not self._max_decoys:
            return []
        # A random byte modulo a small number: a slight bias in how many decoys there are reveals nothing.
        count, size = self._random(1)[0] % (self._max_decoys + 1), self._decoy_bytes
        randomness = self._random(count * size)
        return [b64url_encode(randomness[i : i + size]) for i in range(0, count * size, size)]

    def _members(self, obj: Mapping[str, Any], visible: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
        """The members of ``obj`` left in plain view, and the sorted digests of all the others."""
        out: dict[str, Any] = {}
        digests: list[str] = []
        # The bodies of _digest and _json, inlined with local names: this loop runs for every claim.
        salt, hash_, record = self._salt, self._hash, self.disclosures.append
        for name, value in obj.items():
            if type(name) is not str or name in _NOT_ISSUABLE:
                raise InvalidInput("bad_claims", f"The claim name {name!r} is reserved.")
            if name in visible:
                out[name] = value
                continue
            kind = type(value)
            if kind is str:
                text = _string(value)
            elif kind is int:
                text = int.__repr__(value)
            else:
                text = self._json(value)
            encoded = _b2a(f"[{salt()},{_string(name)},{text}]".encode(), newline=False).translate(_URLSAFE)
            encoded = encoded.rstrip(b"=")
            record(encoded)
            digests.append(_b2a(hash_(encoded).digest(), newline=False).translate(_URLSAFE).rstrip(b"=").decode())
        digests += self._decoys()
        # Sorted, so the order of digests says nothing about the order of claims (RFC 9901 §4.2.4.1).
        digests.sort()
        return out, digests

    def _elements(self, values: Iterable[Any]) -> list[str]:
        """The digests that stand in for the elements of an array, with decoys among them."""
        salt, digest_of, as_json = self._salt, self._digest, self._json
        digests = [digest_of(f"[{salt()},{as_json(v)}]") for v in values]
        decoys = self._decoys()
        # Decoys go anywhere, but the real elements keep their order: order can mean something.
        for decoy, place in zip(decoys, self._random(len(decoys)), strict=True):
            digests.insert(place % (len(digests) + 1), decoy)
        return digests

    def conceal_object(self, obj: Mapping[str, Any], visible: frozenset[str]) -> dict[str, Any]:
        """The payload for ``obj``: the ``visible`` members in plain view, the rest behind ``_sd``."""
        out, digests = self._members(obj, visible)
        # Decoys alone hide nothing; SD-JWT VC: without selectively disclosable claims, no _sd at all.
        if self.disclosures:
            out["_sd"] = digests
        return out


def issue(
    claims: Mapping[str, Any],
    key: SigningKey,
    *,
    typ: str,
    visible: Iterable[str] = (),
    max_decoys: int = DEFAULT_MAX_DECOYS,
    hash_alg: str = DEFAULT_HASH_ALG,
    salt: Callable[[], str] | None = None,
) -> str:
    """Issue an SD-JWT in which every claim, nested member and array element is disclosable.

    Top-level claims named in ``visible`` stay in plain view (for example ``iss`` and ``exp``).
    ``salt`` may be given to make tests reproducible; by default salts are 144 random bits.
    """
    if hash_alg not in HASH_ALGS:
        raise InvalidInput("unsupported_hash_alg")
    if not isinstance(claims, Mapping):
        raise InvalidInput("bad_claims", "The claims must be a JSON object.")
    concealer = _Concealer(hash_alg, max_decoys, salt)
    try:
        payload = concealer.conceal_object(claims, frozenset(visible))
        payload["_sd_alg"] = hash_alg
        token = jws.sign(payload, key, typ)
    except (TypeError, ValueError, RecursionError) as exc:  # NaN, sets, lone surrogates, endless nesting
        raise InvalidInput("bad_claims", "The claims contain a value that JSON cannot hold.") from exc
    return b"~".join([token.encode("ascii"), *concealer.disclosures, b""]).decode("ascii")


# ---------------------------------------------------------------------------------------------
# Parsing and processing (shared by holder and verifier)


@dataclass(frozen=True)
class _Disclosure:
    text: str
    salt: str
    name: str | None  # None for an array element
    value: Any


def split(sd_jwt: str) -> tuple[str, list[str], str | None]:
    """Split a serialised SD-JWT into its issuer-signed JWT, its disclosures and its KB-JWT."""
    if not isinstance(sd_jwt, str) or "~" not in sd_jwt:
        raise VerificationError("malformed", "This is not an SD-JWT: it has no '~' separators.")
    if not sd_jwt.isascii():
        raise VerificationError("malformed", "An SD-JWT holds only ASCII characters.")
    parts = sd_jwt.strip().split("~")
    jwt, disclosures, kb_jwt = parts[0], parts[1:-1], parts[-1] or None
    if any(d == "" for d in disclosures):
        raise VerificationError("malformed", "The SD-JWT has an empty disclosure.")
    return jwt, disclosures, kb_jwt


def _decode_disclosure(text: str) -> _Disclosure:
    content = json_loads(b64url_decode(text))
    if not isinstance(content, list) or len(content) not in (2, 3) or not isinstance(content[0], str):
        raise VerificationError("malformed", "A disclosure is not a list of a salt, maybe a name, and a value.")
    if len(content) == 2:
        return _Disclosure(text, content[0], None, content[1])
    name = content[1]
    if not isinstance(name, str):
        raise VerificationError("malformed", "A disclosure's claim name is not text.")
    if name in RESERVED_NAMES:
        raise VerificationError("reserved_claim_name", f"A disclosure may not use the name {name!r}.")
    return _Disclosure(text, content[0], name, content[2])


def _index_disclosures(disclosures: Sequence[str], hash_alg: str) -> dict[str, _Disclosure]:
    by_digest: dict[str, _Disclosure] = {}
    for text in disclosures:
        d = digest(text, hash_alg)
        if d in by_digest:
            raise VerificationError("duplicate_disclosure")
        by_digest[d] = _decode_disclosure(text)
    return by_digest


@dataclass
class _Processor:
    """Rebuilds the claims from the signed payload and the disclosures (RFC 9901 §7.1 step 3)."""

    by_digest: Mapping[str, _Disclosure]
    seen: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    # Each claim path with the innermost disclosure it sits in (None: signed in plain view),
    # the paths that are a disclosure of their own, and each disclosure's enclosing disclosure.
    paths: dict[Path, str | None] = field(default_factory=dict)
    own: dict[Path, str] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)

    def _claim(self, d: str) -> _Disclosure | None:
        if not isinstance(d, str):
            raise VerificationError("malformed", "A digest is not text.")
        if d in self.seen:
            raise VerificationError("duplicate_digest")
        self.seen.add(d)
        found = self.by_digest.get(d)
        if found is not None:
            self.used.add(d)
        return found

    def process(self, value: Any, path: Path, owner: str | None) -> Any:
        if len(path) > MAX_DEPTH:
            raise VerificationError("malformed", "The claims are nested too deeply.")
        if isinstance(value, dict):
            return self._object(value, path, owner)
        if isinstance(value, list):
            return self._array(value, path, owner)
        return value

    def _object(self, obj: dict[str, Any], path: Path, owner: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in obj.items():
            if name == "_sd" or (name == "_sd_alg" and not path):
                continue
            if name == "...":
                raise VerificationError("reserved_claim_name", "An object uses the reserved name '...'.")
            out[name] = self.process(value, (*path, name), owner)
            self.paths[(*path, name)] = owner
        digests = obj.get("_sd", [])
        if not isinstance(digests, list):
            raise VerificationError("malformed", "'_sd' is not a list.")
        for d in digests:
            disclosure = self._claim(d)
            if disclosure is None:
                continue  # a decoy, or a claim the holder chose not to show
            if disclosure.name is None:
                raise VerificationError("malformed", "An array element disclosure is used for an object member.")
            if disclosure.name in out:
                raise VerificationError("claim_conflict", f"The claim {disclosure.name!r} appears twice.")
            child = (*path, disclosure.name)
            self.parents[d] = owner
            self.paths[child] = self.own[child] = d
            out[disclosure.name] = self.process(disclosure.value, child, d)
        return out

    def _array(self, array: list[Any], path: Path, owner: str | None) -> list[Any]:
        out: list[Any] = []
        for element in array:
            if isinstance(element, dict) and "..." in element:
                if len(element) != 1:
                    raise VerificationError("malformed", "An array element digest has other members.")
                disclosure = self._claim(element["..."])
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise VerificationError("malformed", "An object member disclosure is used for an array element.")
                child = (*path, str(len(out)))
                self.parents[element["..."]] = owner
                self.paths[child] = self.own[child] = element["..."]
                out.append(self.process(disclosure.value, child, element["..."]))
            else:
                child = (*path, str(len(out)))
                self.paths[child] = owner
                out.append(self.process(element, child, owner))
        return out


def _hash_alg_of(payload: Mapping[str, Any]) -> str:
    hash_alg = payload.get("_sd_alg", DEFAULT_HASH_ALG)
    if not isinstance(hash_alg, str) or hash_alg not in HASH_ALGS:
        raise VerificationError("unsupported_hash_alg", f"The digest algorithm {hash_alg!r} is not supported.")
    return hash_alg


# ---------------------------------------------------------------------------------------------
# Presenting (the holder)


def present(
    sd_jwt: str,
    disclose: Iterable[str | Sequence[str | int]],
    *,
    holder_key: SigningKey | None = None,
    aud: str | None = None,
    nonce: str | None = None,
    now: int | None = None,
) -> str:
    """Make a presentation that shows only the claims at the ``disclose`` paths.

    Disclosing a path shows that claim with everything inside it, and the claims it sits in.
    With ``holder_key`` a Key Binding JWT for ``aud`` and ``nonce`` is appended.
    """
    jwt, disclosures, kb_jwt = split(sd_jwt)
    if kb_jwt is not None:
        raise InvalidInput("malformed", "This is already a presentation; start from the issued credential.")
    _, payload = jws.unverified_parts(jwt)
    hash_alg = _hash_alg_of(payload)
    by_digest = _index_disclosures(disclosures, hash_alg)
    processor = _Processor(by_digest)
    processor.process(payload, (), None)
    chosen: set[str] = set()
    for raw in disclose:
        path = parse_path(raw)
        if path not in processor.paths:
            raise InvalidInput("bad_path", f"The credential has no claim {format_path(path)!r}.")
        owner = processor.paths[path]
        while owner is not None:  # the claim itself and every claim it sits in
            chosen.add(owner)
            owner = processor.parents[owner]
        chosen.update(d for p, d in processor.own.items() if p[: len(path)] == path)
    presentation = jwt + "~" + "".join(d.text + "~" for dg, d in by_digest.items() if dg in chosen)
    if holder_key is None:
        return presentation
    if aud is None or nonce is None:
        raise InvalidInput("bad_claims", "A Key Binding JWT needs both an audience (aud) and a nonce.")
    bound = payload.get("cnf", {}).get("jwk") if isinstance(payload.get("cnf"), dict) else None
    if bound is None:
        raise InvalidInput("no_holder_key", "The credential is not bound to a holder key.")
    if thumbprint(bound) != thumbprint(holder_key.public_jwk):
        raise InvalidInput("bad_key", "This key is not the holder key the credential is bound to.")
    return presentation + key_binding_jwt(presentation, holder_key, aud=aud, nonce=nonce, now=now, hash_alg=hash_alg)


def unverified_claims(sd_jwt: str) -> dict[str, Any]:
    """All claims of an SD-JWT the holder already verified, rebuilt without checking it again.

    For a holder's own bookkeeping only: a receiver must always call :func:`verify`.
    """
    jwt, disclosures, _ = split(sd_jwt)
    payload = jws.unverified_parts(jwt)[1]
    return _Processor(_index_disclosures(disclosures, _hash_alg_of(payload))).process(payload, (), None)


def key_binding_jwt(
    presentation: str,
    holder_key: SigningKey,
    *,
    aud: str,
    nonce: str,
    now: int | None = None,
    hash_alg: str = DEFAULT_HASH_ALG,
) -> str:
    """A Key Binding JWT (``typ: kb+jwt``) over ``presentation`` (which ends in ``~``)."""
    payload = {"iat": now_or(now), "aud": aud, "nonce": nonce, "sd_hash": digest(presentation, hash_alg)}
    return jws.sign(payload, holder_key, KB_TYP)


# ---------------------------------------------------------------------------------------------
# Verifying


@dataclass(frozen=True)
class KeyBinding:
    """What a verified Key Binding JWT proved."""

    aud: str
    nonce: str
    iat: int


@dataclass(frozen=True)
class VerifiedSdJwt:
    """A verified SD-JWT: the claims that were disclosed, and how they were proven."""

    header: dict[str, Any]
    claims: dict[str, Any]
    disclosed: frozenset[str]  # dotted paths of every selectively disclosed claim that was shown
    issuer_key: VerifyingKey
    key_binding: KeyBinding | None


def verify(
    sd_jwt: str,
    keys: KeyResolver | VerifyingKey,
    *,
    typ: str | tuple[str, ...],
    require_key_binding: bool,
    aud: str | None = None,
    nonce: str | None = None,
    now: int | None = None,
    leeway: int = DEFAULT_LEEWAY,
    kb_max_age: int = DEFAULT_KB_MAX_AGE,
) -> VerifiedSdJwt:
    """Verify an SD-JWT or presentation with every check of RFC 9901 §7.

    Whether key binding is required is the verifier's policy (``require_key_binding``), never
    the presenter's choice. When ``aud`` or ``nonce`` is given they must match the KB-JWT.
    """
    now = now_or(now)
    jwt, disclosures, kb_jwt = split(sd_jwt)
    signed = jws.verify(jwt, keys, typ)
    hash_alg = _hash_alg_of(signed.payload)
    processor = _Processor(_index_disclosures(disclosures, hash_alg))
    claims = processor.process(signed.payload, (), None)
    if len(processor.used) != len(processor.by_digest):
        raise VerificationError("unreferenced_disclosure")
    check_validity(claims, now, leeway=leeway)
    binding = None
    if kb_jwt is not None:
        presentation = sd_jwt.strip()[: -len(kb_jwt)]
        binding = _verify_key_binding(
            kb_jwt, presentation, claims, hash_alg, aud=aud, nonce=nonce, now=now, leeway=leeway, max_age=kb_max_age
        )
    elif require_key_binding or aud is not None or nonce is not None:
        raise VerificationError("key_binding_required")
    disclosed = frozenset(format_path(p) for p in processor.own)
    return VerifiedSdJwt(signed.header, claims, disclosed, signed.key, binding)


def _verify_key_binding(
    kb_jwt: str,
    presentation: str,
    claims: Mapping[str, Any],
    hash_alg: str,
    *,
    aud: str | None,
    nonce: str | None,
    now: int,
    leeway: int,
    max_age: int,
) -> KeyBinding:
    cnf = claims.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise VerificationError("no_holder_key")
    try:
        holder = VerifyingKey(cnf["jwk"])
    except InvalidInput as exc:
        raise VerificationError("no_holder_key", "The holder key in the credential is not usable.") from exc
    kb = jws.verify(kb_jwt, holder, KB_TYP).payload
    iat = required_date(kb, "iat")
    if not now - max_age - leeway <= iat <= now + leeway:
        raise VerificationError("kb_stale")
    if not isinstance(kb.get("aud"), str) or (aud is not None and kb["aud"] != aud):
        raise VerificationError("aud_mismatch")
    if not isinstance(kb.get("nonce"), str) or (nonce is not None and kb["nonce"] != nonce):
        raise VerificationError("nonce_mismatch")
    if kb.get("sd_hash") != digest(presentation, hash_alg):
        raise VerificationError("sd_hash_mismatch")
    return KeyBinding(kb["aud"], kb["nonce"], iat)
