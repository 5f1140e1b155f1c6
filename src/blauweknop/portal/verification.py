"""Checking a credential as any receiver would: issuer in the scheme, signature, time, status.

Status lists are shared within their ``ttl``: by every verification in this process (in memory)
and by every process of the deployment (the shared cache), so a press or an upload costs no HTTP
request for a list another request just fetched. A cached token is not trusted: it is verified
each time it is used, as a fetched one is, and one that fails is passed over for a fresh fetch.

A list's server may be slow or hostile, and the threads that wait on it are few: a download is
given up after ``STATUS_LIST_DEADLINE`` seconds in all, verifications that need the same list
wait for the one download in progress, and a list that could not be had is not asked for again
for :data:`FAILURE_KEPT` seconds.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
from asgiref.sync import sync_to_async

from blauweknop import shared_cache
from blauweknop.outgoing import download_status_list as download
from blauweknop.outgoing import tls_context as tls_context  # the portal's other calls use it from here
from blauweknop.protocol import sdjwt_vc, status_list
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.jwk import KeyResolver
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.status_list import StatusListClient, StatusListToken, StatusReference
from blauweknop.protocol.validity import now_or

logger = logging.getLogger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=3.0)  # the portal's calls to holders (a status list has its own deadline)
KEPT_BYTES = 32 * 1024 * 1024  # status list tokens this process keeps in memory; the oldest go first
# A holder's list is a few kB; a larger token (a hostile issuer's, say) is not left in the shared cache.
SHARED_BYTES = 256 * 1024
# Verifying may wait on status lists (blocking HTTP): its own threads, so that 20 holders' lists are fetched at once.
_VERIFYING = ThreadPoolExecutor(max_workers=32, thread_name_prefix="verify")
# A list that could not be had is not asked for again so soon: a dead server is not hammered by every verification.
FAILURE_KEPT = 10.0


class NotKept(Exception):
    """A status list is not kept in this process's memory: it must be looked up (a blocking call)."""


class StatusLists(StatusListClient):
    """The status lists of every verification in this process: kept in memory, shared through the cache.

    ``fetch(uri) -> token`` gets a list from its publisher when neither copy is usable.
    """

    def __init__(self, fetch: Callable[[str], str] = download, *, kept_bytes: int = KEPT_BYTES) -> None:
        super().__init__(fetch)
        self._kept_bytes = kept_bytes
        self._kept: collections.OrderedDict[str, tuple[str, int]] = collections.OrderedDict()  # uri: (token, until)
        self._kept_size = 0
        self._downloading: dict[str, Future[str]] = {}  # uri: the download in progress
        self._failed: dict[str, float] = {}  # uri: until when (monotonic) it is not asked for again
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every list and failure this process keeps (in tests; the shared cache keeps its own lists)."""
        with self._lock:
            self._kept.clear()
            self._kept_size = 0
            self._failed.clear()

    def _download_once(self, uri: str) -> str:
        """``fetch(uri)``, one at a time per ``uri``: whoever comes while it runs waits for its answer. Blocking.

        ``status_unavailable`` when it fails, and for :data:`FAILURE_KEPT` seconds after that.
        """
        with self._lock:
            if time.monotonic() < self._failed.get(uri, 0.0):
                raise VerificationError("status_unavailable", "The status list could not be had a moment ago.")
            running = self._downloading.get(uri)
            leading = running is None
            if running is None:
                running = self._downloading[uri] = Future()
        if not leading:
            try:
                return running.result()  # the leader's fetch ends by its deadline
            except Exception as exc:  # its failure, or its cancellation
                raise VerificationError("status_unavailable") from exc
        try:
            text = self._fetch(uri)
        except Exception as exc:  # whatever the transport raises, the verifier just cannot tell
            running.set_exception(exc)
            raise VerificationError("status_unavailable") from exc
        else:
            running.set_result(text)
            return text
        finally:
            running.cancel()  # only when interrupted before an answer was set: its waiters are let go
            self._finish(uri, failed=running.cancelled() or running.exception() is not None)

    def _finish(self, uri: str, *, failed: bool) -> None:
        now = time.monotonic()
        with self._lock:
            del self._downloading[uri]
            self._failed = {u: until for u, until in self._failed.items() if until > now and u != uri}
            if failed:
                self._failed[uri] = now + FAILURE_KEPT

    def _in_memory(self, uri: str, now: int) -> str | None:
        with self._lock:
            kept = self._kept.get(uri)
        return kept[0] if kept is not None and now < kept[1] else None

    def _keep(self, uri: str, text: str, token: StatusListToken, now: int) -> int:
        """Keep ``text`` in memory while its ``ttl`` lasts; the seconds it may be kept (0: not at all)."""
        ends = [t for t in (token.exp, None if token.ttl is None else token.iat + token.ttl) if t is not None]
        until = min(ends, default=now)
        if until <= now:
            return 0
        if len(text) > self._kept_bytes:
            return until - now
        with self._lock:
            old = self._kept.pop(uri, None)
            self._kept_size += len(text) - (len(old[0]) if old else 0)
            self._kept[uri] = (text, until)
            while self._kept_size > self._kept_bytes:
                self._kept_size -= len(self._kept.popitem(last=False)[1][0])
        return until - now

    def token(self, uri: str, keys: KeyResolver, *, fresh: bool = False) -> StatusListToken:
        """The verified list at ``uri``: kept, shared or fetched; else ``status_unavailable``. Blocking.

        ``fresh``: from its publisher now, whatever is kept (what it fetched is still kept for others).
        """
        now = now_or(None)
        kept = None if fresh else self._in_memory(uri, now)
        if kept is not None:
            try:
                return status_list.verify(kept, keys, uri=uri, now=now)
            except ProtocolError:
                pass  # e.g. its issuer's key left the scheme: ask again
        cache_key = shared_cache.key("statuslijst", uri)
        shared = None if fresh else shared_cache.read(cache_key)
        if isinstance(shared, str):
            try:
                token = status_list.verify(shared, keys, uri=uri, now=now)
            except ProtocolError as exc:
                logger.warning("status list token in the shared cache refused: %s", exc.code)
            else:
                self._keep(uri, shared, token, now)
                return token
        text = self._download_once(uri)
        token = status_list.verify(text, keys, uri=uri, now=now)
        if (seconds := self._keep(uri, text, token, now)) and len(text) <= SHARED_BYTES:
            shared_cache.write(cache_key, text, seconds)
        return token

    def status(self, ref: StatusReference, keys: KeyResolver) -> int:
        """The status of the credential at ``ref``, from a list signed by one of ``keys``. Blocking."""
        return self.token(ref.uri, keys).status_list.get(ref.idx)

    def kept_only(self) -> StatusListClient:
        """These lists as a client that never waits: a list not kept in memory (or no longer valid) raises NotKept."""
        lists = self

        class InMemory(StatusListClient):
            def status(self, ref: StatusReference, keys: KeyResolver) -> int:
                now = now_or(None)
                kept = lists._in_memory(ref.uri, now)
                if kept is None:
                    raise NotKept(ref.uri)
                try:
                    token = status_list.verify(kept, keys, uri=ref.uri, now=now)
                except ProtocolError as exc:  # e.g. its issuer's key left the scheme: look it up again
                    raise NotKept(ref.uri) from exc
                return token.status_list.get(ref.idx)

        return InMemory(self._fetch)

    def fresh(self) -> StatusListClient:
        """These lists as a client that asks each publisher now, for a verification that must see the latest status."""
        lists = self

        class FromPublisher(StatusListClient):
            def status(self, ref: StatusReference, keys: KeyResolver) -> int:
                return lists.token(ref.uri, keys, fresh=True).status_list.get(ref.idx)

        return FromPublisher(self._fetch)


status_lists = StatusLists()


def verify_credential(presentation: str, scheme: SchemeDocument, *, fresh: bool = False) -> sdjwt_vc.VerifiedCredential:
    """Verify with every check, the status from :data:`status_lists` (``fresh``: from each publisher now).

    A copy the portal just received is checked against a kept list (its index is new, so an older
    list still says VALID rightly); a copy someone hands in on the verify page may have been
    withdrawn a minute ago, so that check asks the publisher (R8).

    Blocking: call it through ``sync_to_async(..., thread_sensitive=False)`` from async views, so
    that a status list served by this same process can still be answered meanwhile.
    """
    lists = status_lists.fresh() if fresh else status_lists
    return sdjwt_vc.verify(presentation, scheme.issuer_keys(), status_lists=lists, require_key_binding=False)


async def verify_received(presentation: str, scheme: SchemeDocument) -> sdjwt_vc.VerifiedCredential:
    """:func:`verify_credential` for a copy a holder just sent, from an async view; every check, status included.

    On the event loop itself when each status list it needs is kept in memory: then it is a
    millisecond of CPU, less than a hop to a thread costs. Otherwise in a thread, so that a list
    served by this same process can still be answered meanwhile.
    """
    try:
        return sdjwt_vc.verify(
            presentation, scheme.issuer_keys(), status_lists=status_lists.kept_only(), require_key_binding=False
        )
    except NotKept:
        return await sync_to_async(verify_credential, thread_sensitive=False, executor=_VERIFYING)(presentation, scheme)
