"""The citizen's vault (kluis): copies kept beyond the session, only when the citizen asks (docs/vault.md).

Envelope encryption. Each citizen has a random 256-bit data key; every copy is sealed under it with
AES-256-GCM, its associated data naming the citizen, the holder, the document type and what the
bytes are, so a row moved to another citizen or type no longer opens. The data key is stored
wrapped under a key derived (HKDF-SHA256) from the server secret ``BLAUWEKNOP_VAULT_KEY`` and the
citizen's BSN, which the vault's tables never hold: the database alone opens nothing. Deleting
the vault deletes the wrapped key, so a backup of its copies can no longer be opened either.

The pure parts (derive, wrap, seal) come first; the storage below them runs in one transaction.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils import timezone

from blauweknop.db import erase_deleted, lock_name, write_transaction
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import VaultCopy, VaultKey
from blauweknop.protocol import sdjwt

logger = logging.getLogger(__name__)

# The first byte of a wrapped key: which server secret and derivation wrapped it (docs/vault.md, rotation).
KEY_VERSION = 1
# The first byte of a sealed copy: how its plaintext is laid out.
COPY_VERSION = 1
NONCE_BYTES = 12
MAX_COPIES = 100  # per citizen: one copy per holder and type; far more than any citizen has
MAX_CREDENTIAL_CHARS = 256 * 1024  # a copy is a few kB; a holder's answer is capped at 1 MiB anyway


class Unreadable(Exception):
    """The vault's key or a copy does not open: another server secret, or a row changed in the database."""


class Full(Exception):
    """Keeping these copies would put more than :data:`MAX_COPIES` in the vault."""


class TooLarge(Exception):
    """A copy is larger than :data:`MAX_CREDENTIAL_CHARS`."""


# --- The pure part: keys, wrapping, sealing --------------------------------------------------------


def derive_key(server_secret: str, salt: bytes, info: Sequence[Any]) -> bytes:
    """A 256-bit key for one use: HKDF-SHA256 over the server secret; ``salt`` and ``info`` (JSON) name the use."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=json.dumps(list(info)).encode()).derive(
        server_secret.encode()
    )


def key_encryption_key(server_secret: str, bsn: str, version: int = KEY_VERSION) -> bytes:
    """The key that wraps one citizen's data key: HKDF-SHA256 over the server secret, for this BSN and version."""
    return derive_key(server_secret, b"blauweknop/kluis", ["blauweknop/kluis/sleutel", version, bsn])


def associated_data(citizen: str, *context: str) -> bytes:
    """What a sealed value is bound to: the citizen's pseudonym, then holder, type, purpose (JSON: unambiguous)."""
    return json.dumps(["blauweknop/kluis", citizen, *context]).encode()


def seal(key: bytes, plaintext: bytes, aad: bytes, version: int) -> bytes:
    """``version`` byte, random nonce, AES-256-GCM of ``plaintext`` bound to ``aad`` (and the version)."""
    nonce = os.urandom(NONCE_BYTES)
    header = bytes([version])
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + aad)


def unseal(key: bytes, sealed: bytes, aad: bytes, version: int) -> bytes:
    """The plaintext of :func:`seal`; :class:`InvalidTag` for another key, another ``aad`` or a changed byte."""
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != version:
        raise InvalidTag
    nonce = sealed[1 : 1 + NONCE_BYTES]
    return AESGCM(key).decrypt(nonce, sealed[1 + NONCE_BYTES :], sealed[:1] + aad)


def wrap(kek: bytes, data_key: bytes, citizen: str) -> bytes:
    """The data key sealed under the key-encryption key, bound to the citizen's pseudonym."""
    return seal(kek, data_key, associated_data(citizen, "datasleutel"), KEY_VERSION)


def unwrap(kek: bytes, wrapped: bytes, citizen: str) -> bytes:
    """The data key of :func:`wrap`; :class:`InvalidTag` with another BSN, secret or citizen."""
    return unseal(kek, wrapped, associated_data(citizen, "datasleutel"), KEY_VERSION)


def copy_data(citizen: str, holder_oin: str, type_id: str) -> bytes:
    """The associated data of one kept copy: whose, from which holder, of which type, and that it is a copy."""
    return associated_data(citizen, holder_oin, type_id, "kopie")


# --- The storage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """A copy in the vault: the credential as issued, the wallet key it is bound to (``cnf``), and when."""

    holder_oin: str
    type_id: str
    credential: str
    wallet_jwk: dict[str, Any]  # private: the citizen can still present the copy with key binding
    fetched_at: datetime
    kept_at: datetime | None = None

    def __repr__(self) -> str:  # personal data and a private key
        return f"Kept({self.holder_oin}, {self.type_id})"

    @property
    def expires_at(self) -> datetime:
        """Until when the copy is valid (its ``exp``, in plain view in the credential)."""
        return datetime.fromtimestamp(sdjwt.unverified_claims(self.credential)["exp"], UTC)


def _kek(citizen: Citizen) -> bytes:
    return key_encryption_key(settings.VAULT_KEY, citizen.bsn)


def _data_key(citizen: Citizen, create: bool) -> bytes | None:
    """The citizen's data key, made (and stored wrapped) if ``create`` and there is none yet."""
    row = VaultKey.objects.filter(citizen=citizen.pseudonym).first()
    if row is None:
        if not create:
            return None
        data_key = AESGCM.generate_key(bit_length=256)
        VaultKey.objects.create(citizen=citizen.pseudonym, wrapped=wrap(_kek(citizen), data_key, citizen.pseudonym))
        return data_key
    try:
        return unwrap(_kek(citizen), bytes(row.wrapped), citizen.pseudonym)
    except InvalidTag:
        logger.error("vault key of citizen %s does not open: another BLAUWEKNOP_VAULT_KEY?", citizen.pseudonym)
        raise Unreadable from None


def store(citizen: Citizen, copies: Sequence[Kept], *, only_replace: bool = False) -> list[Kept]:
    """Seal ``copies`` into the citizen's vault, replacing any of the same holder and type; what was stored.

    ``only_replace``: store only over copies still in the vault (a refresh must not bring back a copy
    deleted meanwhile). All or nothing, in one transaction; the citizen's vault is locked meanwhile,
    so two keeps at once (two tabs, two web processes) count and write in turn.
    """
    if any(len(copy.credential) > MAX_CREDENTIAL_CHARS for copy in copies):
        raise TooLarge
    copies = list({(copy.holder_oin, copy.type_id): copy for copy in copies}.values())  # one upsert per row
    with write_transaction():
        lock_name(f"kluis:{citizen.pseudonym}")
        present = set(VaultCopy.objects.filter(citizen=citizen.pseudonym).values_list("holder_oin", "document_type"))
        if only_replace:
            copies = [c for c in copies if (c.holder_oin, c.type_id) in present]
        if len(present | {(c.holder_oin, c.type_id) for c in copies}) > MAX_COPIES:
            raise Full
        if not copies:
            return []
        data_key = _data_key(citizen, create=True)
        now = timezone.now()
        rows = [
            VaultCopy(
                citizen=citizen.pseudonym,
                holder_oin=copy.holder_oin,
                document_type=copy.type_id,
                sealed=seal(
                    data_key,
                    json.dumps({"verklaring": copy.credential, "sleutel": copy.wallet_jwk}).encode(),
                    copy_data(citizen.pseudonym, copy.holder_oin, copy.type_id),
                    COPY_VERSION,
                ),
                fetched_at=copy.fetched_at,
                expires_at=copy.expires_at,
                kept_at=now,
            )
            for copy in copies
        ]
        VaultCopy.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["citizen", "holder_oin", "document_type"],
            update_fields=["sealed", "fetched_at", "expires_at", "kept_at"],
        )
    return list(copies)


def _opened(data_key: bytes, row: VaultCopy) -> Kept:
    try:
        plain = unseal(
            data_key, bytes(row.sealed), copy_data(row.citizen, row.holder_oin, row.document_type), COPY_VERSION
        )
        content = json.loads(plain)
    except (InvalidTag, ValueError):
        logger.error("vault copy %s of citizen %s does not open: changed in the database?", row.pk, row.citizen)
        raise Unreadable from None
    return Kept(
        row.holder_oin, row.document_type, content["verklaring"], content["sleutel"], row.fetched_at, row.kept_at
    )


def copies(citizen: Citizen) -> list[Kept]:
    """Every copy in the citizen's vault, opened, by holder and type; :class:`Unreadable` if any does not open."""
    rows = list(VaultCopy.objects.filter(citizen=citizen.pseudonym).order_by("holder_oin", "document_type"))
    if not rows:
        return []
    data_key = _data_key(citizen, create=False)
    if data_key is None:  # copies without their key: they can never be opened
        logger.error("vault of citizen %s has %d copies but no key", citizen.pseudonym, len(rows))
        raise Unreadable
    return [_opened(data_key, row) for row in rows]


def kept(citizen: Citizen) -> set[tuple[str, str]]:
    """Which (holder OIN, document type) the citizen's vault holds, without opening anything."""
    return set(VaultCopy.objects.filter(citizen=citizen.pseudonym).values_list("holder_oin", "document_type"))


def delete(citizen: Citizen, holder_oin: str, type_id: str) -> bool:
    """Delete one copy from the vault; whether it was there. With the last copy goes the wrapped key."""
    with write_transaction():
        lock_name(f"kluis:{citizen.pseudonym}")
        mine = VaultCopy.objects.filter(citizen=citizen.pseudonym)
        deleted = mine.filter(holder_oin=holder_oin, document_type=type_id).delete()[0] > 0
        if not mine.exists():
            VaultKey.objects.filter(citizen=citizen.pseudonym).delete()
    erase_deleted()
    return deleted


def delete_all(citizen: Citizen) -> int:
    """Delete every copy and the wrapped key: whatever copy of the rows lingers (a backup) can no longer be opened."""
    with write_transaction():
        lock_name(f"kluis:{citizen.pseudonym}")
        deleted = VaultCopy.objects.filter(citizen=citizen.pseudonym).delete()[0]
        VaultKey.objects.filter(citizen=citizen.pseudonym).delete()
    erase_deleted()
    return deleted
