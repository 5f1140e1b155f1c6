"""A holder accepts a citizen's session only from a certified app manager, and only once."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime

from blauweknop import metrics
from blauweknop.holder.errors import Replayed
from blauweknop.holder.models import UsedAssertion
from blauweknop.protocol import jws, session_assertion
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.scheme_document import CERTIFIED, REQUESTER, SchemeDocument
from blauweknop.protocol.session_assertion import SessionAssertion
from blauweknop.protocol.validity import DEFAULT_LEEWAY

logger = logging.getLogger(__name__)
LEEWAY = DEFAULT_LEEWAY  # the clock difference verification tolerates; a used id is kept as long


def as_if_certified(scheme: SchemeDocument, oin: object) -> SchemeDocument:
    """``scheme`` with the requester ``oin`` certified, whatever its status; ``scheme`` itself for anyone else.

    To refuse a requester that is not certified (suspended, revoked) where the citizen can see it, a
    holder must first know who the citizen is and that the sender is who it says: a token is verified
    as if the requester were certified, and the holder then refuses it by itself and records that.
    """
    participant = scheme.organisations.get(oin) if isinstance(oin, str) else None
    if participant is None or REQUESTER not in participant.roles or participant.is_certified:
        return scheme
    certified = dataclasses.replace(participant, certification=CERTIFIED)
    return dataclasses.replace(scheme, organisations={**scheme.organisations, participant.oin: certified})


def unverified_claim(token: str, name: str) -> object:
    """The claim ``name`` of a token, unverified (``None`` when unreadable): only to know whom to treat as certified."""
    try:
        return jws.unverified_parts(token)[1].get(name)
    except ProtocolError:
        return None


def _verify(
    holder_oin: str, token: str, scheme: SchemeDocument, now: int | None, suspended_sharing: bool
) -> SessionAssertion:
    try:
        return session_assertion.verify(token, scheme, holder_oin=holder_oin, now=now, leeway=LEEWAY)
    except VerificationError as exc:
        if not suspended_sharing or exc.code != "not_certified":
            raise
        sharing = unverified_claim(token, "deling")
        unsuspended = as_if_certified(scheme, sharing.get("vrager") if isinstance(sharing, dict) else None)
        if unsuspended is scheme:  # the app manager is not certified, or whom it shares with is no requester
            raise
        return session_assertion.verify(token, unsuspended, holder_oin=holder_oin, now=now, leeway=LEEWAY)


def accept(
    holder_oin: str, token: str, scheme: SchemeDocument, *, now: int | None = None, suspended_sharing: bool = False
) -> SessionAssertion:
    """Verify the app manager's assertion for the holder ``holder_oin`` and use it up. Call inside a transaction.

    With ``suspended_sharing`` an assertion that is sound but shares with a requester that is not
    certified is accepted (and used up) too: the caller must then record its refusal and refuse.
    """
    try:
        session = _verify(holder_oin, token, scheme, now, suspended_sharing)
    except ProtocolError as exc:
        logger.warning("assertion refused: holder=%s code=%s", holder_oin, exc.code)
        metrics.assertion_refusals.labels(holder_oin, exc.code).inc()
        raise
    use_once(holder_oin, session.jti, session.expires_at, sender=session.app_manager_oin)
    return session


def use_once(holder_oin: str, key: str, expires_at: int, *, sender: str) -> None:
    """Use up the assertion ``key`` of ``sender`` (valid until ``expires_at``); :class:`Replayed` if used before.

    App managers' assertions are kept by their ``jti``, organisations' client assertions by their
    replay key (a SHA-256 in hex, 64 characters): one table refuses both kinds of replay. Call inside
    the transaction that does the work: the assertion is used up exactly when the work (or the
    record of its refusal) is committed.
    """
    # The assertion verifies until exp + leeway, so its id must be remembered that long too.
    if not UsedAssertion.use(key, datetime.fromtimestamp(expires_at + LEEWAY, UTC)):
        logger.warning("assertion replayed: holder=%s sender=%s", holder_oin, sender)
        metrics.assertion_refusals.labels(holder_oin, "assertion_replayed").inc()
        raise Replayed("assertion_replayed", "This assertion was used before; ask for a new one.")
