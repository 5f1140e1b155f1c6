"""Time checks for signed tokens (``exp``, ``nbf``, ``iat``); time is always a parameter."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from blauweknop.protocol.errors import VerificationError

DEFAULT_LEEWAY = 60  # seconds of clock difference between honest parties that we tolerate
# The last second of the year 9999: later (or negative) times are no real moment, and would
# overflow the date types of every consumer (datetime, databases).
MAX_NUMERIC_DATE = 253_402_300_799


def now_or(now: int | None) -> int:
    """``now`` if given (tests, replays), else the current Unix time."""
    return int(time.time()) if now is None else now


def numeric_date(payload: Mapping[str, Any], name: str) -> int | None:
    """The NumericDate claim ``name`` as an integer, or ``None`` when it is absent."""
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_NUMERIC_DATE:
        raise VerificationError("malformed", f"The claim {name!r} is not a time.")
    return int(value)


def required_date(payload: Mapping[str, Any], name: str) -> int:
    """The NumericDate claim ``name``, which must be there."""
    value = numeric_date(payload, name)
    if value is None:
        raise VerificationError("missing_claim", f"The claim {name!r} is missing.")
    return value


def check_validity(
    payload: Mapping[str, Any], now: int, *, leeway: int = DEFAULT_LEEWAY, require_exp: bool = False
) -> None:
    """Refuse a token that has expired, is not valid yet, or says it was issued in the future."""
    exp = required_date(payload, "exp") if require_exp else numeric_date(payload, "exp")
    if exp is not None and now - leeway >= exp:
        raise VerificationError("expired")
    nbf = numeric_date(payload, "nbf")
    if nbf is not None and now + leeway < nbf:
        raise VerificationError("not_yet_valid")
    iat = numeric_date(payload, "iat")
    if iat is not None and now + leeway < iat:
        raise VerificationError("issued_in_future")
