"""A holder accepts a citizen's session only from a certified app manager, and only once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from blauweknop import metrics
from blauweknop.holder.errors import Replayed
from blauweknop.holder.models import UsedAssertion
from blauweknop.protocol import session_assertion
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.session_assertion import SessionAssertion
from blauweknop.protocol.validity import DEFAULT_LEEWAY

logger = logging.getLogger(__name__)
LEEWAY = DEFAULT_LEEWAY  # the clock difference verification tolerates; a used id is kept as long


def accept(holder_oin: str, token: str, scheme: SchemeDocument, *, now: int | None = None) -> SessionAssertion:
    """Verify the app manager's assertion for the holder ``holder_oin`` and use it up. Call inside a transaction."""
    try:
        session = session_assertion.verify(token, scheme, holder_oin=holder_oin, now=now, leeway=LEEWAY)
    except ProtocolError as exc:
        logger.warning("assertion refused: holder=%s code=%s", holder_oin, exc.code)
        metrics.assertion_refusals.labels(holder_oin, exc.code).inc()
        raise
    # The assertion verifies until exp + leeway, so its id must be remembered that long too.
    if not UsedAssertion.use(session.jti, datetime.fromtimestamp(session.expires_at + LEEWAY, UTC)):
        logger.warning("assertion replayed: holder=%s app_manager=%s", holder_oin, session.app_manager_oin)
        metrics.assertion_refusals.labels(holder_oin, "assertion_replayed").inc()
        raise Replayed("assertion_replayed", "This assertion was used before; ask for a new one.")
    return session
