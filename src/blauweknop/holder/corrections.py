"""A citizen's correction requests at a holder (GDPR art. 16), and the holder staff's decisions on them.

The request comes in through the citizen's app manager with a session assertion, like every call
about a citizen. Staff take it up, accept it (the new value goes to the source, and every earlier
copy with the old data is superseded at once), reject it with a reason, or extend the deadline once.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from blauweknop.attachments import Attachment
from blauweknop.holder.models import CorrectionRequest
from blauweknop.holder.tenants import Holder
from blauweknop.protocol.scheme_document import SchemeDocument

MAX_PROPOSED = 500
MAX_EXPLANATION = 2000
MAX_REASON = 1000


class DecisionRefused(Exception):
    """A step staff may not take on this request: a stable code and a Dutch sentence for the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


def deadline_of(received_at: datetime) -> datetime:
    """The end of the day, Europe/Amsterdam, one calendar month after ``received_at``."""
    raise NotImplementedError


def submit(
    holder: Holder,
    assertion: str,
    scheme: SchemeDocument,
    *,
    type_id: str,
    path: str,
    position: int | None,
    proposed: str,
    explanation: str,
    attachment: Attachment | None,
) -> CorrectionRequest:
    """Store the citizen's request to correct the field ``path`` (item ``position``, counted from 0, in a list)."""
    raise NotImplementedError


def of_citizen(holder: Holder, assertion: str, scheme: SchemeDocument) -> list[CorrectionRequest]:
    """The citizen's requests at ``holder``, newest first."""
    raise NotImplementedError


def queue(holder_oin: str) -> QuerySet[CorrectionRequest]:
    """The holder's requests: open ones by deadline first, then decided ones, newest first."""
    raise NotImplementedError


def take_up(req: CorrectionRequest, by: str) -> CorrectionRequest:
    """Mark the request in behandeling."""
    raise NotImplementedError


def accept(req: CorrectionRequest, by: str, value: str) -> CorrectionRequest:
    """Write ``value`` (as staff typed it) to the source, supersede older copies, and mark the request aangepast."""
    raise NotImplementedError


def reject(req: CorrectionRequest, by: str, reason: str) -> CorrectionRequest:
    """Reject the request with ``reason``."""
    raise NotImplementedError


def extend(req: CorrectionRequest, by: str, reason: str, months: int) -> CorrectionRequest:
    """Extend the deadline once by ``months`` (1 or 2), with ``reason``."""
    raise NotImplementedError
