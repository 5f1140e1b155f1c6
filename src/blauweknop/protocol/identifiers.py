"""Dutch identifiers: the citizen service number (BSN) and the organisation number (OIN)."""

from __future__ import annotations

from blauweknop.protocol.errors import InvalidInput

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(value: object) -> bool:
    """True for nine digits that pass the 11-proef (and are not all zeros)."""
    if not isinstance(value, str) or len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value, _BSN_WEIGHTS, strict=True))
    return total % 11 == 0 and value != "000000000"


def validate_bsn(value: object) -> str:
    """Return ``value`` if it is a valid BSN; the error never repeats the number itself."""
    if not is_valid_bsn(value):
        raise InvalidInput("bad_bsn", "A BSN has 9 digits and must pass the 11-proef. Check the number and try again.")
    return value  # type: ignore[return-value]


def is_valid_oin(value: object) -> bool:
    """True for an OIN: exactly twenty digits."""
    return isinstance(value, str) and len(value) == 20 and value.isascii() and value.isdigit()


def validate_oin(value: object) -> str:
    """Return ``value`` if it is a valid OIN."""
    if not is_valid_oin(value):
        raise InvalidInput("bad_oin", "An OIN has exactly 20 digits.")
    return value  # type: ignore[return-value]
