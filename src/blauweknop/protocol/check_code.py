"""The check code of a printed copy: a short random code that opens the copy's verify page without the file.

A code is 12 characters of Crockford base32 (60 random bits), written ``XXXX-XXXX-XXXX``. People
copy it from paper, so reading it forgives case, spaces, hyphens and the look-alikes O/0 and I/L/1.

The server finds a copy by a keyed hash of its code (:func:`lookup`) and keeps the copy sealed
under a key derived from the code with scrypt (:func:`seal`): the database alone reveals neither the
code nor the copy, and guessing a code against one stolen row costs one scrypt per guess.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
LENGTH = 12  # 60 bits
PATTERN = f"^[{ALPHABET}]{{{LENGTH}}}$"  # a normalised code, for schemas that validate it
MAX_TYPED = 40  # characters of typed input worth reading: a code with generous spacing
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " -\t.")

_VERSION = b"\x01"
_SALT = 16
_NONCE = 12
# scrypt with N=2**15, r=8: 32 MiB and about 0.1 s per derivation, once per check.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class WrongCode(Exception):
    """The code does not open this sealed copy (or the sealed copy was changed)."""


def new_code() -> str:
    """A fresh random code, normalised (12 characters of :data:`ALPHABET`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str, length: int = LENGTH) -> str | None:
    """The code someone typed, as :func:`new_code` made it; ``None`` if it cannot be one.

    ``length``: the characters of such a code (a share code of variant Plus has 8, in the same alphabet).
    """
    if len(typed) > MAX_TYPED or not typed.isascii():
        return None
    code = typed.upper().translate(_IGNORED).translate(_LOOK_ALIKES)
    if len(code) != length or any(c not in ALPHABET for c in code):
        return None
    return code


def formatted(code: str) -> str:
    """A normalised code as people read it: ``XXXX-XXXX-XXXX``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def lookup(code: str, key: bytes) -> str:
    """The name a normalised code is stored under: HMAC-SHA-256 under the server's ``key``, hex."""
    return hmac.new(key, b"controlecode:" + code.encode("ascii"), hashlib.sha256).hexdigest()


def _key(code: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, **_SCRYPT).derive(code.encode("ascii"))


def seal(text: str, code: str, context: bytes) -> bytes:
    """``text`` encrypted (AES-256-GCM) under a key derived from ``code``, bound to ``context``."""
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    return _VERSION + salt + nonce + AESGCM(_key(code, salt)).encrypt(nonce, text.encode("utf-8"), context)


def unseal(sealed: bytes, code: str, context: bytes) -> str:
    """The text :func:`seal` sealed under ``code`` and ``context``; :class:`WrongCode` otherwise."""
    if len(sealed) < 1 + _SALT + _NONCE + 16 or sealed[:1] != _VERSION:
        raise WrongCode
    salt, nonce, body = sealed[1 : 1 + _SALT], sealed[1 + _SALT : 1 + _SALT + _NONCE], sealed[1 + _SALT + _NONCE :]
    try:
        return AESGCM(_key(code, salt)).decrypt(nonce, body, context).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise WrongCode from exc
