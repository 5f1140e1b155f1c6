"""A holder accepts a citizen's session only from a certified app manager, and only once."""

from __future__ import annotations

from datetime import UTC, datetime

from blauweknop.api import ApiProblem
from blauweknop.holder.models import UsedAssertion
from blauweknop.protocol import session_assertion
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.session_assertion import SessionAssertion
from blauweknop.scheme.models import Organisation


def accept(holder: Organisation, token: str, scheme: SchemeDocument) -> SessionAssertion:
    """Verify the app manager's assertion for ``holder`` and use it up. Call inside a transaction."""
    session = session_assertion.verify(token, scheme, holder_oin=holder.oin)
    if not UsedAssertion.use(session.jti, datetime.fromtimestamp(session.expires_at, UTC)):
        raise ApiProblem(401, "assertion_replayed", "This assertion was used before; ask for a new one.")
    return session
