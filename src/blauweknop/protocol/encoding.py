"""Byte-level encodings shared by the JOSE pieces: base64url without padding and strict JSON."""

from __future__ import annotations

import binascii
import json
import math
import re
from typing import Any

from blauweknop.protocol.errors import VerificationError

_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
# Compact, UTF-8 JSON: what we sign must be as small as possible and byte-stable.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_string = json.encoder.encode_basestring


def b64url_bytes(data: bytes) -> bytes:
    """Encode bytes as base64url without padding (RFC 7515 §2), as ASCII bytes.

    binascii directly: ``base64.urlsafe_b64encode`` costs twice as much, and issuing calls this
    several times per claim.
    """
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def b64url_encode(data: bytes) -> str:
    """Encode bytes as base64url without padding (RFC 7515 §2)."""
    return b64url_bytes(data).decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; anything else (padding, other characters) is malformed."""
    # '+', '/' and '=' belong to plain base64 only; strict mode refuses every other stranger.
    if not isinstance(text, str) or len(text) % 4 == 1 or "+" in text or "/" in text or "=" in text:
        raise VerificationError("malformed", "A part is not valid base64url.")
    try:
        padded = text.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4)
        return binascii.a2b_base64(padded, strict_mode=True)
    except ValueError as exc:  # binascii.Error, and non-ASCII text
        raise VerificationError("malformed", "A part is not valid base64url.") from exc


def json_string(text: str) -> str:
    """A JSON string literal for ``text`` (UTF-8, not escaped to ASCII)."""
    return _string(text)


def json_dumps(value: Any) -> str:
    """Serialise to compact JSON text."""
    return _dumps(value)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # RFC 7519 §4: a parser must reject or pick one; picking one hides tampering.
        raise VerificationError("malformed", "A JSON object has the same member twice.")
    return result


# A \uD800-\uDFFF escape: half of a UTF-16 pair, which may stand alone in JSON text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def json_loads(data: bytes | str) -> Any:
    """Parse JSON strictly: valid UTF-8, no duplicate members, no NaN or Infinity, no lone surrogates."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = _decoder.decode(text)
        if _SURROGATE_ESCAPE.search(text):
            # A lone surrogate is valid JSON but no UTF-8 encoder (database, page) can write it (RFC 7493 §2.1).
            _dumps(value).encode("utf-8")
    except RecursionError as exc:
        raise VerificationError("malformed", "The JSON is nested too deeply.") from exc
    except ValueError as exc:  # UnicodeDecodeError, UnicodeEncodeError and JSONDecodeError are ValueErrors
        raise VerificationError("malformed", "A part is not valid JSON.") from exc
    return value


def _reject_constant(name: str) -> Any:
    raise VerificationError("malformed", f"JSON may not contain {name}.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # 1e400 is valid JSON, but it becomes infinity, which no consumer of a claim can use.
        raise VerificationError("malformed", "JSON may not contain a number too large to represent.")
    return value


# One decoder for every call: json.loads would build a new one each time it is given options.
_decoder = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, parse_float=_finite_float
)


def json_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse ``data`` as strict JSON and insist that it is an object."""
    value = json_loads(data)
    if not isinstance(value, dict):
        raise VerificationError("malformed", f"The {what} is not a JSON object.")
    return value
