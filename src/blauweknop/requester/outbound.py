"""The requester's calls to others (the portal's fetch API, a holder, status lists): timed, and read with a cap.

Whoever answers may be slow or hostile: every call has a deadline for the whole exchange, and no
answer is read beyond what it can sensibly hold. Blocking: callers run these off the event loop, in
:data:`WAITING`, the requester's own threads. Not in the event loop's default pool: it has only a few threads
(cpus + 4), and Django also logs every 4xx and 5xx answer of the process there, so a handful of slow fetches
held up every error answer, the portal's 403 to those very fetches included (attacker review A1). The back
office's calls take a :func:`slot` once the caller is authenticated as that back office (anonymous calls take
none): beyond :data:`AT_ONCE` (or :data:`PER_REQUESTER` of one requester) they are turned away at once rather
than queued.
"""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from blauweknop import outgoing
from blauweknop.capped import TooLarge
from blauweknop.protocol.encoding import json_loads
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.status_list import StatusListClient

DEADLINE = 20.0  # seconds for a whole call: the portal asks every holder before it answers a standing fetch
MAX_ANSWER_BYTES = 2 * 1024 * 1024  # presentations of every holder that has debts: far less in practice
# Another party's error code goes into our answers and logs only if it looks like one: it could carry anything.
ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
AT_ONCE = 24  # the back office's calls under way in this process, of all its requesters
# Of one requester: well under half, so that even two busy back offices leave room for the others.
PER_REQUESTER = 10
# More threads than AT_ONCE: the wallets' answers (status lists) wait here too, and are never turned away.
WAITING = ThreadPoolExecutor(max_workers=AT_ONCE + 8, thread_name_prefix="requester-outbound")
_under_way: collections.Counter[str] = collections.Counter()
_counting = threading.Lock()


class Busy(Exception):
    """Too many of the back office's calls are under way now: try again in a few seconds."""


@contextmanager
def slot(requester_oin: str) -> Iterator[None]:
    """Hold one of the back office's places for a call of ``requester_oin``; :class:`Busy` when none is free."""
    with _counting:
        if _under_way.total() >= AT_ONCE or _under_way[requester_oin] >= PER_REQUESTER:
            raise Busy(requester_oin)
        _under_way[requester_oin] += 1
    try:
        yield
    finally:
        with _counting:
            _under_way[requester_oin] -= 1
            if not _under_way[requester_oin]:
                del _under_way[requester_oin]


class Unreachable(Exception):
    """The other party did not answer in time, could not be reached, or sent more than was asked for."""


@dataclass(frozen=True)
class Answer:
    """An answer: its HTTP status, content type, and JSON body (``None`` if it was not JSON)."""

    status: int
    content_type: str
    body: Any

    def error_code(self) -> str | None:
        """The ``code`` of a problem answer, if it looks like a code at all."""
        code = self.body.get("code") if isinstance(self.body, dict) else None
        return code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else None


def _run(method: str, url: str, *, limit: int, deadline: float, **kwargs: Any) -> tuple[int, str, bytes]:
    """One HTTP call with a deadline for all of it (:func:`outgoing.exchange_from_thread`); :class:`Unreachable`."""
    try:
        return outgoing.exchange_from_thread(method, url, limit=limit, deadline=deadline, **kwargs)
    except (httpx.HTTPError, TimeoutError, TooLarge, OSError) as exc:
        raise Unreachable(type(exc).__name__) from exc


def post_json(url: str, payload: dict[str, Any], *, limit: int = MAX_ANSWER_BYTES) -> Answer:
    """POST ``payload`` as JSON to ``url``; the answer, its body parsed when it is JSON. :class:`Unreachable`."""
    status, content_type, raw = _run("POST", url, json=payload, limit=limit, deadline=DEADLINE)
    try:
        # As strict as the protocol core: no duplicate members, no lone surrogates.
        body = json_loads(raw) if "json" in content_type else None
    except ProtocolError:
        body = None
    return Answer(status, content_type, body)


download_status_list = outgoing.download_status_list  # any failure of it is status_unavailable to the client


def status_lists() -> StatusListClient:
    """A status list client for one answer: each list it needs fetched from its publisher now, once.

    A receiver checks a copy as it arrives, so it asks each publisher anew rather than trust a list
    it kept from an earlier answer (the copy may have been withdrawn since).
    """
    return StatusListClient(download_status_list)
