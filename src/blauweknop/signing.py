"""Which private key a party of this deployment signs with: the one its scheme entry names (``signing_kid``).

Holders sign copies, status lists and PDFs; requesters sign request objects and client assertions; the
portal (an app manager) signs session assertions, client assertions and PDFs. During a key rotation the
deployment holds the old and the new key (see :mod:`blauweknop.keystore`); the scheme document says when
the new one takes over, so every verifier knows it before anything is signed with it. An entry without
``signing_kid`` (a party with one key) signs with the default key, and so does a party whose scheme
document is not at hand or does not list it: nobody could verify what it signs then anyway.
"""

from __future__ import annotations

import logging

from blauweknop import keystore
from blauweknop.protocol.jwk import SigningKey
from blauweknop.protocol.scheme_document import Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)


def key_for(participant: Participant) -> SigningKey:
    """The private key ``participant`` signs with now, by its entry in the scheme document.

    Raises :class:`keystore.MissingKey` when that key is not held here, after telling the operator which
    key to add: nothing ``participant`` signs would verify with another one. Callers answer 503.
    """
    try:
        return keystore.signing_key(participant.oin, participant.signing_kid)
    except keystore.MissingKey as exc:
        logger.warning(
            "%s cannot sign: its scheme entry names key %s to sign with. %s Or ask the scheme operator which to use.",
            exc.name,
            exc.kid,
            exc,
        )
        raise


def participant_in(scheme: SchemeDocument, oin: str) -> Participant | None:
    """The entry of ``oin`` in ``scheme``, an organisation's or an app manager's; ``None`` if it has none."""
    return scheme.organisations.get(oin) or scheme.app_managers.get(oin)


def key_in(scheme: SchemeDocument | None, oin: str) -> SigningKey:
    """The private key ``oin`` signs with now by ``scheme``; its default key without a document or an entry."""
    participant = participant_in(scheme, oin) if scheme is not None else None
    return key_for(participant) if participant is not None else keystore.signing_key(oin)


def key_of(oin: str) -> SigningKey:
    """The private key ``oin`` signs with now, outside a request (status lists, a PDF made in a thread). Blocking.

    By the scheme document in hand, fetched when there is none (see :func:`key_in`).
    """
    return key_in(scheme_client.in_hand(), oin)
