"""Which private key a holder signs with: the one its scheme entry names (``signing_kid``).

During a key rotation the deployment holds the old and the new key (see :mod:`blauweknop.keystore`); the
scheme document says when the new one takes over, so every verifier knows it before anything is signed
with it. An entry without ``signing_kid`` (a holder with one key) signs with the default key.
"""

from __future__ import annotations

from blauweknop import keystore
from blauweknop.protocol.jwk import SigningKey
from blauweknop.protocol.scheme_document import Participant
from blauweknop.scheme.client import scheme_client


def key_for(participant: Participant) -> SigningKey:
    """The private key ``participant`` signs with now, by its entry in the scheme document."""
    return keystore.signing_key(participant.oin, participant.signing_kid)


def key_of(oin: str) -> SigningKey:
    """The private key holder ``oin`` signs with now, outside a request (status lists). Blocking.

    From the scheme document in hand (fetched when there is none); the default key when there is no
    document or it does not list ``oin``: nobody can verify then anyway.
    """
    scheme = scheme_client.in_hand()
    participant = scheme.organisations.get(oin) if scheme is not None else None
    return keystore.signing_key(oin, participant.signing_kid if participant is not None else None)
