"""Token Status List (IETF OAuth draft): compressed bit arrays that tell whether a credential holds.

A holder keeps one list per purpose; each credential carries ``status.status_list`` with the
list's ``uri`` and its own ``idx``. Setting an index to INVALID marks the credential withdrawn or
superseded, so a verifier sees it even on an old PDF.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from blauweknop.protocol import jws
from blauweknop.protocol.encoding import b64url_decode, b64url_encode
from blauweknop.protocol.errors import InvalidInput, VerificationError
from blauweknop.protocol.jwk import KeyResolver, SigningKey
from blauweknop.protocol.validity import DEFAULT_LEEWAY, check_validity, now_or, numeric_date, required_date

TYP = "statuslist+jwt"
VALID, INVALID, SUSPENDED = 0x00, 0x01, 0x02
ALLOWED_BITS = (1, 2, 4, 8)
# A holder's list is a few tens of kB, but a token of 2 MB from a hostile issuer can inflate to
# 2 GB: the list is decompressed into at most this many bytes (16 million 1-bit statuses).
MAX_LIST_BYTES = 2 * 1024 * 1024
# The signed token around the largest list, even one that does not compress; fetchers read no more.
MAX_TOKEN_BYTES = 3 * 1024 * 1024


class StatusList:
    """A list of ``size`` statuses of ``bits`` bits each; index 0 is in the low bits of byte 0."""

    def __init__(self, size: int, bits: int = 1) -> None:
        if bits not in ALLOWED_BITS:
            raise InvalidInput("malformed", "A status takes 1, 2, 4 or 8 bits.")
        if size < 1:
            raise InvalidInput("malformed", "A status list holds at least one status.")
        self.bits = bits
        self.size = size
        self._per_byte = 8 // bits
        self._mask = (1 << bits) - 1
        self.data = bytearray(-(-size // self._per_byte))

    def _locate(self, idx: int) -> tuple[int, int]:
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < self.size:
            raise VerificationError("status_index_out_of_range")
        return idx // self._per_byte, (idx % self._per_byte) * self.bits

    def get(self, idx: int) -> int:
        """The status at ``idx``."""
        byte, shift = self._locate(idx)
        return (self.data[byte] >> shift) & self._mask

    def set(self, idx: int, status: int) -> None:
        """Set the status at ``idx``; it must fit in ``bits`` bits."""
        if not 0 <= status <= self._mask:
            raise InvalidInput("malformed", f"Status {status} does not fit in {self.bits} bit(s).")
        byte, shift = self._locate(idx)
        self.data[byte] = (self.data[byte] & ~(self._mask << shift)) | (status << shift)

    def encode(self) -> dict[str, Any]:
        """The ``status_list`` claim: ``bits`` and the DEFLATE/ZLIB-compressed list, base64url."""
        return {"bits": self.bits, "lst": b64url_encode(zlib.compress(bytes(self.data), 9))}

    @classmethod
    def decode(cls, claim: Any) -> StatusList:
        """Read a ``status_list`` claim; the size is what the compressed bytes hold."""
        if (
            not isinstance(claim, Mapping)
            or claim.get("bits") not in ALLOWED_BITS
            or not isinstance(claim.get("lst"), str)
        ):
            raise VerificationError("malformed", "The status list is not a valid 'status_list' claim.")
        decompressor = zlib.decompressobj()
        try:
            data = decompressor.decompress(b64url_decode(claim["lst"]), MAX_LIST_BYTES + 1)
        except zlib.error as exc:
            raise VerificationError("malformed", "The status list cannot be decompressed.") from exc
        if len(data) > MAX_LIST_BYTES:
            raise VerificationError("malformed", "The status list is larger than any list in this scheme.")
        if not decompressor.eof:
            raise VerificationError("malformed", "The status list is cut short.")
        if not data:
            raise VerificationError("malformed", "The status list is empty.")
        bits = claim["bits"]
        result = cls(len(data) * (8 // bits), bits)
        result.data = bytearray(data)
        return result


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: str) -> tuple[str, str, int] | None:
    """The (scheme, host, port) of an http(s) ``url`` without user info; ``None`` for anything else."""
    try:
        parts = urlsplit(url)
        scheme, port = parts.scheme.lower(), parts.port
    except ValueError:  # a port that is not a number, a malformed IPv6 host
        return None
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return scheme, parts.hostname, _DEFAULT_PORTS[scheme] if port is None else port


def check_published_by(uri: str, iss: str) -> None:
    """Refuse a status list ``uri`` that is not on the origin (scheme, host, port) of the issuer ``iss``.

    Every verifier fetches the list a credential names: were any address allowed, a certified
    issuer could make the portal ask its internal addresses (SSRF). So the list is https on the
    issuer's own host and port, or http only when the issuer's URL is http too (as in a demo).
    """
    own = _origin(iss)
    if own is None or _origin(uri) != own:
        raise VerificationError("status_elsewhere")


@dataclass(frozen=True)
class StatusReference:
    """Where a credential's status is: the list's URI and the credential's index in it."""

    uri: str
    idx: int

    def claim(self) -> dict[str, Any]:
        """The ``status`` claim a credential carries."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}

    @classmethod
    def from_claim(cls, claim: Any) -> StatusReference:
        """Read a credential's ``status`` claim."""
        ref = claim.get("status_list") if isinstance(claim, Mapping) else None
        if not isinstance(ref, Mapping):
            raise VerificationError("malformed", "The 'status' claim has no 'status_list'.")
        idx, uri = ref.get("idx"), ref.get("uri")
        if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0 or not isinstance(uri, str) or not uri:
            raise VerificationError("malformed", "The 'status_list' reference needs an index and a URI.")
        return cls(uri, idx)


def sign(
    status_list: StatusList,
    key: SigningKey,
    *,
    uri: str,
    iss: str,
    now: int | None = None,
    valid_for: int | None = 86400,
    ttl: int | None = 300,
) -> str:
    """A Status List Token (``typ: statuslist+jwt``) for the list published at ``uri``."""
    iat = now_or(now)
    payload: dict[str, Any] = {"iss": iss, "sub": uri, "iat": iat, "status_list": status_list.encode()}
    if valid_for is not None:
        payload["exp"] = iat + valid_for
    if ttl is not None:
        payload["ttl"] = ttl
    return jws.sign(payload, key, TYP)


@dataclass(frozen=True)
class StatusListToken:
    """A verified Status List Token."""

    uri: str
    status_list: StatusList
    iat: int
    exp: int | None
    ttl: int | None


def verify(
    token: str, keys: KeyResolver, *, uri: str, now: int | None = None, leeway: int = DEFAULT_LEEWAY
) -> StatusListToken:
    """Verify a Status List Token: signature, type, that it is the list at ``uri``, and its times.

    A token older than its ``ttl`` allows is refused as ``status_unavailable``: whoever served it
    kept it too long, and the statuses in it may have changed since.
    """
    now = now_or(now)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise VerificationError("malformed", "The status list token is larger than any list in this scheme.")
    payload = jws.verify(token, keys, TYP).payload
    if payload.get("sub") != uri:
        raise VerificationError("malformed", "The status list is not the one the credential points to.")
    check_validity(payload, now, leeway=leeway)
    iat = required_date(payload, "iat")
    ttl = payload.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        raise VerificationError("malformed", "The status list's 'ttl' is not a number of seconds.")
    if ttl is not None and now - leeway >= iat + ttl:
        raise VerificationError("status_unavailable", "The status list is older than its time to live allows.")
    return StatusListToken(uri, StatusList.decode(payload.get("status_list")), iat, numeric_date(payload, "exp"), ttl)


class StatusListClient:
    """Looks up statuses, fetching each list through ``fetch(uri) -> token`` and caching it.

    A list is kept until its ``ttl`` (counted from its ``iat``) runs out or it expires, whichever
    comes first; a list that gives neither is fetched again every time. Fetch failures become
    ``status_unavailable``. ``fetch`` should read at most :data:`MAX_TOKEN_BYTES`.
    """

    def __init__(self, fetch: Callable[[str], str], *, clock: Callable[[], int] | None = None) -> None:
        self._fetch = fetch
        self._clock = clock or (lambda: now_or(None))
        self._cache: dict[str, tuple[StatusListToken, int]] = {}

    def _token(self, uri: str, keys: KeyResolver) -> StatusListToken:
        now = self._clock()
        cached = self._cache.get(uri)
        if cached is not None and now < cached[1]:
            return cached[0]
        try:
            text = self._fetch(uri)
        except Exception as exc:  # whatever the transport raises, the verifier just cannot tell
            raise VerificationError("status_unavailable") from exc
        token = verify(text, keys, uri=uri, now=now)
        ends = [t for t in (token.exp, None if token.ttl is None else token.iat + token.ttl) if t is not None]
        if ends:
            self._cache[uri] = (token, min(ends))
        return token

    def status(self, ref: StatusReference, keys: KeyResolver) -> int:
        """The status of the credential at ``ref``, from a list signed by one of ``keys``."""
        return self._token(ref.uri, keys).status_list.get(ref.idx)
