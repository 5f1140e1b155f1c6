"""Whether a received copy still holds at its source, checked each time staff look at it (R8).

The requester keeps the disclosed claims of a copy, and with them the copy's status reference and its
end (``exp``): not the signed copy. A holder supersedes a copy when its data about the citizen change
(status INVALID, protocol code ``revoked``), also long after the copy was delivered; so a page that
shows received data looks each copy's status list up again, once per list per page, as the vault does.
The list is signed by the holder and verified as on receipt; what the page says is as fresh as the
list the holder publishes (within one publication interval of a change).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from blauweknop import old_copies
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.status_list import SUSPENDED, VALID, StatusReference
from blauweknop.requester import outbound
from blauweknop.requester.models import ReceivedCredential


class State(StrEnum):
    """A received copy as its holder sees it now."""

    VALID = "geldig"
    SUPERSEDED = "vervangen"  # INVALID in its status list: the holder's data changed since
    SUSPENDED = "geschorst"
    EXPIRED = "verlopen"
    UNKNOWN = "onbekend"  # its status list could not be had now, or the copy came before references were kept


NEXT = gettext_lazy("Haal de nieuwste gegevens op, of vraag de inwoner om ze opnieuw te delen.")
WORDS = {
    State.VALID: gettext_lazy("Nog geldig. De organisatie heeft deze gegevens niet veranderd."),
    State.SUPERSEDED: format_lazy(
        "{}. {} {} {}",
        old_copies.SUPERSEDED,
        old_copies.SUPERSEDED_WHY,
        gettext_lazy("Gebruik deze gegevens niet meer."),
        NEXT,
    ),
    State.SUSPENDED: gettext_lazy("Tijdelijk niet geldig. De organisatie kijkt de gegevens nog na."),
    State.EXPIRED: format_lazy("{}. {}", old_copies.EXPIRED, NEXT),
    State.UNKNOWN: gettext_lazy("Nu niet na te gaan of deze gegevens nog gelden. Kijk later nog eens."),
}


def reference(status: StatusReference | None, expires_at: int | None) -> dict[str, object]:
    """The fields of a :class:`ReceivedCredential` that let its state be checked later."""
    return {
        "status_uri": status.uri if status else "",
        "status_idx": status.idx if status else None,
        "expires_at": datetime.fromtimestamp(expires_at, UTC) if expires_at is not None else None,
    }


def states(rows: Iterable[ReceivedCredential], scheme: SchemeDocument, now: datetime) -> list[State]:
    """Each row's state now, in order. Blocking: each status list is fetched once, a list out of reach once."""
    lists = outbound.status_lists()  # a client of its own: each list fetched anew, then kept for this page
    out_of_reach: set[str] = set()
    found = []
    for row in rows:
        if row.expires_at is not None and row.expires_at <= now:
            found.append(State.EXPIRED)
        elif not row.status_uri or row.status_idx is None or row.status_uri in out_of_reach:
            found.append(State.UNKNOWN)
        else:
            try:
                value = lists.status(StatusReference(row.status_uri, row.status_idx), scheme.issuer_keys())
            except ProtocolError:  # down, or no longer a certified issuer's list: not to be told now
                out_of_reach.add(row.status_uri)
                found.append(State.UNKNOWN)
                continue
            # Any status other than these means, as on receipt, that the copy must not be trusted.
            found.append({VALID: State.VALID, SUSPENDED: State.SUSPENDED}.get(value, State.SUPERSEDED))
    return found
