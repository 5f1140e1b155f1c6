"""The citizen's access page as one timeline: what the holders recorded and what the portal recorded.

Every entry has a place in one total order: its moment, then its source (a holder's OIN, or the
portal), then its key within that source (the holder's ``kenmerk``, the portal's event number).
A page starts just beyond the place of the last entry shown, so paging never skips or repeats an
entry, also when entries of several sources share a moment. A place names a holder's own record
(its ``kenmerk``), which at that holder leads to the citizen: it travels in a link only sealed
(:func:`to_link`), so the link says nothing and cannot be changed.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils.dateparse import parse_datetime

from blauweknop.paging import Bound, within_years

PORTAL = "portaal"  # the source of the portal's own events; sorts after every OIN
PAGE_SIZE = 20
ONE_TICK = timedelta(microseconds=1)  # the finest step of time both databases keep
HOLDER_KEY = re.compile(r"[0-9a-f]{16}")
PORTAL_KEY = re.compile(r"[0-9]{20}")
OIN = re.compile(r"[0-9]{20}")
NONCE = 12  # bytes, for AES-GCM
MAX_LINK = 160  # characters: a sealed place is about 120; anything longer is not one of ours


@dataclass(frozen=True, order=True)
class Place:
    """Where an entry stands in the timeline."""

    at: datetime
    source: str
    key: str

    def token(self) -> str:
        """The place as text for a link: moment, source and key."""
        return f"{self.at.astimezone(UTC).isoformat().replace('+00:00', 'Z')}~{self.source}~{self.key}"


@dataclass(frozen=True)
class Entry:
    """One thing done with the citizen's data: where, from which holder, which data, who asked, what."""

    place: Place
    holder_oin: str
    document_type: str
    actor_oin: str  # empty for the portal's own events: the citizen, or whoever checked a copy
    activity: str  # a key of display.ACTIVITIES


def moment(text: str) -> datetime | None:
    """The moment in ``text`` in UTC, if in a time zone and within the years a record can have; else ``None``."""
    try:
        at = parse_datetime(text)
    except ValueError:  # well formed, but not a real moment
        return None
    return within_years(at) if at is not None else None


def place_from(token: str) -> Place | None:
    """The place in a link's ``token``; ``None`` for anything else (a link may have been typed or changed)."""
    parts = token.split("~")
    if len(parts) != 3:
        return None
    text, source, key = parts
    if (at := moment(text)) is None:
        return None
    valid_key = PORTAL_KEY if source == PORTAL else HOLDER_KEY if OIN.fullmatch(source) else None
    return Place(at, source, key) if valid_key and valid_key.fullmatch(key) else None


def to_link(place: Place, key: bytes, context: bytes) -> str:
    """``place`` sealed for a link (AES-256-GCM under ``key``, bound to ``context``): opaque and unchangeable."""
    nonce = os.urandom(NONCE)
    sealed = nonce + AESGCM(key).encrypt(nonce, place.token().encode("ascii"), context)
    return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def from_link(text: str, key: bytes, context: bytes) -> Place | None:
    """The place :func:`to_link` sealed under ``key`` and ``context``; ``None`` for anything else."""
    if len(text) > MAX_LINK or not text.isascii():
        return None
    try:
        sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        opened = AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], context)
    except (binascii.Error, ValueError, InvalidTag):  # not base64, too short, or not sealed by us for this citizen
        return None
    return place_from(opened.decode("ascii", errors="replace"))


def portal_key(number: int) -> str:
    """The key of the portal's event ``number``: zero-padded, so text order is number order."""
    return f"{number:020d}"


def bound_at(place: Place, source: str, older: bool) -> Bound:
    """The bound, within ``source``, of the entries beyond ``place`` (older, or newer).

    Within the place's own source the key breaks the tie; another source's entries at the very
    same moment lie wholly on one side of the place, by the order of the sources.
    """
    if source == place.source:
        return Bound(place.at, place.key, older)
    if (source < place.source) == older:  # its entries at this moment are beyond the place too
        return Bound(place.at + ONE_TICK if older else place.at - ONE_TICK, None, older)
    return Bound(place.at, None, older)


def holder_query(place: Place | None, holder_oin: str, older: bool, size: int) -> dict[str, Any]:
    """The paging part of the body that asks the holder ``holder_oin`` for its part of a page."""
    query: dict[str, Any] = {"aantal": size}
    if place is not None:
        bound = bound_at(place, holder_oin, older)
        position: dict[str, Any] = {"tijdstip": bound.at.isoformat()}
        if bound.key is not None:
            position["kenmerk"] = bound.key
        query["voor" if older else "na"] = position
    return query


@dataclass(frozen=True)
class Page:
    """The entries of one page, newest first, and whether more lie beyond it in the direction asked."""

    entries: list[Entry]
    more: bool


def merge(parts: Iterable[list[Entry]], place: Place | None, older: bool, size: int) -> Page:
    """The ``size`` entries nearest to ``place`` (the newest without one) from every source's part.

    Each source was asked for ``size + 1``: if together they hold more than ``size``, more lie beyond.
    An entry a source should not have sent (not beyond the place, a second copy) is left out.
    """
    found = {
        entry.place: entry
        for part in parts
        for entry in part[: size + 1]
        if place is None or (entry.place < place if older else entry.place > place)
    }
    nearest = sorted(found, reverse=older)
    return Page([found[p] for p in sorted(nearest[:size], reverse=True)], len(nearest) > size)
