"""An organisation this deployment plays, as it acts on a call: what the scheme document says of it now.

A deployment names the organisations it plays by OIN only (``BLAUWEKNOP_HOLDER_OINS``,
``BLAUWEKNOP_REQUESTER_OINS``) and holds their private keys; their names, addresses and public keys
come from the verified scheme document. Each role adds what it needs (its row here, its catalogue).
"""

from __future__ import annotations

from dataclasses import dataclass

from blauweknop import signing
from blauweknop.protocol.jwk import SigningKey
from blauweknop.protocol.scheme_document import Participant


@dataclass(frozen=True)
class Acting:
    """One organisation of this deployment as the scheme document describes it now."""

    participant: Participant

    @property
    def oin(self) -> str:
        return self.participant.oin

    @property
    def name(self) -> str:
        return self.participant.name

    def signing_key(self) -> SigningKey:
        """Its private key now, the one its scheme entry names (:class:`keystore.MissingKey` when not held here)."""
        return signing.key_for(self.participant)
