"""How every other role gets the scheme document: over HTTP, verified against the trust anchor.

Build for failure: the operator being down must not take the scheme down. The last verified
document stays in use until its own ``exp`` (a week); a stale one is refreshed in the background
while requests go on with the one in hand. Only when no valid document is left does a request
fail, with :class:`SchemeUnavailable` (503), never a 500.

Processes share: a refresh first takes the document another process of the deployment fetched
less than ``REFRESH_AFTER`` ago from the shared cache, verified against the trust anchor with the
rollback check like a fetched one, and leaves what it fetched itself there. Whoever can write to
the cache can at most hold back a newer document until the one in hand expires, as whoever can
block the operator's address can; a forged or older one is refused.

The operator kids a verified document listed as revoked are written to the role's database
(:class:`~blauweknop.accounts.models.RevokedOperatorKey`): after a restart, a document signed with
one is still refused, even before a newer document is read, and even while the configured trust
anchor still holds that key. Not in the shared cache: that may drop entries when it is full.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterable

import httpx
from django.conf import settings
from django.db import DatabaseError

from blauweknop import db, keystore, metrics, shared_cache
from blauweknop.accounts.models import RevokedOperatorKey
from blauweknop.api import ApiProblem
from blauweknop.capped import TooLarge, read_at_most
from blauweknop.db import release_before_waiting
from blauweknop.protocol import scheme_document
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.jwk import KeySet
from blauweknop.protocol.scheme_document import SchemeDocument

logger = logging.getLogger(__name__)
REFRESH_AFTER = 300  # seconds: a suspension is seen everywhere within five minutes
RETRY_AFTER = 30  # seconds between attempts while the operator cannot be reached
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# The demo's document (seven organisations and the catalogue of document types) is 25 kB; one with a
# thousand participants a few MB. Past this, a body is junk or an attack on memory, not a scheme.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


class SchemeUnavailable(ApiProblem):
    """No valid scheme document: nobody can be trusted until the operator is reachable again."""

    def __init__(self) -> None:
        super().__init__(
            503, "scheme_unavailable", "The scheme document cannot be fetched and the last one has expired."
        )


def trust_anchor(revoked: Iterable[str] = ()) -> KeySet:
    """The scheme operator's public keys: from configuration, or (the demo, the tests) every operator key held here.

    A participant lists every published operator key in ``BLAUWEKNOP_SCHEME_JWKS``: the current one, and a
    next one as soon as the operator announces it (see docs/scheme-operator.md). ``revoked``: operator kids
    a verified document listed as revoked; a document signed with one fails with ``key_revoked``. So does one
    signed with a kid this deployment wrote down as revoked before (:func:`remember_revoked`). Blocking.
    """
    revoked = frozenset(revoked) | learnt_revoked()
    if settings.SCHEME_JWKS:
        return KeySet.from_jwks(json.loads(settings.SCHEME_JWKS), revoked)
    return KeySet([key.public_jwk for key in keystore.signing_keys("stelsel")], revoked)


def learnt_revoked() -> frozenset[str]:
    """The operator kids this deployment learnt were revoked, from any verified document it ever read. Blocking."""
    return frozenset(RevokedOperatorKey.objects.values_list("kid", flat=True))


def remember_revoked(document: SchemeDocument) -> None:
    """Write down the operator kids ``document`` (verified) lists as revoked, for good. Blocking."""
    new = document.operator_revoked_kids - learnt_revoked()
    if new:
        RevokedOperatorKey.objects.bulk_create([RevokedOperatorKey(kid=kid) for kid in new], ignore_conflicts=True)
        logger.warning("operator keys revoked, never trusted here again: %s", ", ".join(sorted(new)))


def check(token: str, previous: SchemeDocument | None) -> SchemeDocument:
    """Verify ``token`` against the trust anchor; refuse one older than ``previous`` (version, then signing time).

    Once ``previous`` listed an operator key as revoked, a document signed with it is refused, even when the
    configured trust anchor still holds that key.
    """
    anchor = trust_anchor(previous.operator_revoked_kids if previous else ())
    document = scheme_document.verify(token, anchor, min_version=previous.version if previous else None)
    if previous is not None and (document.version, document.iat) < (previous.version, previous.iat):
        raise VerificationError("scheme_rollback")
    remember_revoked(document)
    return document


class SchemeTooLarge(TooLarge):
    """The operator's answer is longer than any scheme document: reading stopped at the cap."""

    code = "scheme_too_large"


def download() -> str:
    """The scheme document as the operator publishes it now, unverified. Blocking.

    Raises :class:`SchemeTooLarge` as soon as more than ``MAX_DOCUMENT_BYTES`` arrived.
    """
    # Raw bytes, no content coding (no gzip bomb), read in chunks up to the cap: whoever is on the
    # path to the operator must not be able to fill this process's memory before the signature check.
    with (
        httpx.Client(timeout=TIMEOUT) as client,
        client.stream(
            "GET", f"{settings.SCHEME_URL}/api/v1/stelseldocument", headers={"Accept-Encoding": "identity"}
        ) as response,
    ):
        response.raise_for_status()
        body = read_at_most(response, MAX_DOCUMENT_BYTES, SchemeTooLarge)
    return body.decode("utf-8", errors="replace").strip()  # anything not ASCII fails the signature check


def _shared_key() -> str:
    return shared_cache.key("stelseldocument", settings.SCHEME_URL)


def from_shared_cache(previous: SchemeDocument | None) -> tuple[SchemeDocument, float] | None:
    """The document another process fetched less than ``REFRESH_AFTER`` ago, and its age; if it checks out. Blocking."""
    entry = shared_cache.read(_shared_key())
    if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)):
        return None
    token, fetched_at = entry
    if isinstance(fetched_at, bool) or not isinstance(fetched_at, int | float):
        return None
    age = min(max(time.time() - fetched_at, 0.0), float(REFRESH_AFTER))  # a cache's clock is not trusted either
    if age >= REFRESH_AFTER:
        return None
    try:
        return check(token, previous), age
    except ProtocolError as exc:
        logger.warning("scheme document in the shared cache refused: %s", exc.code)
        metrics.scheme_refresh_failures.labels(f"cache_{exc.code}").inc()
        return None


def fetch(previous: SchemeDocument | None) -> SchemeDocument:
    """Fetch the document from the operator, verify it, and leave it for the other processes. Blocking."""
    token = download()
    document = check(token, previous)
    shared_cache.write(_shared_key(), (token, time.time()), REFRESH_AFTER)
    return document


class SchemeClient:
    """Keeps the current scheme document and refreshes it every few minutes, without making anyone wait.

    Fetches run in a thread of their own, not in a request's event loop: a request (and its loop)
    may end before the fetch does, and one fetch at a time is enough for the whole process.
    """

    def __init__(self) -> None:
        self._document: SchemeDocument | None = None
        self._fetched_at = 0.0
        self._ended_at = float("-inf")  # when the last fetch, good or failed, ended
        self._fetching = threading.Lock()

    def forget(self) -> None:
        """Drop the document in hand and the shared copy, so the next use fetches it (after a known change, in tests).

        Blocking: it reaches the shared cache.
        """
        self._document = None
        self._ended_at = float("-inf")
        shared_cache.delete(_shared_key())

    def _update(self) -> None:
        """One refresh, from the shared cache or else the operator; on failure the document in hand stays."""
        try:
            shared = from_shared_cache(self._document)
            document, age = shared if shared is not None else (fetch(self._document), 0.0)
        except (httpx.HTTPError, ProtocolError, SchemeTooLarge, DatabaseError) as exc:
            code = getattr(exc, "code", type(exc).__name__)
            logger.warning("scheme document refresh failed from %s: %s", settings.SCHEME_URL, code)
            metrics.scheme_refresh_failures.labels(code).inc()
            return
        finally:
            self._ended_at = time.monotonic()
            # A refresh thread ends without a request's end to give its connection back to the pool.
            db.release()
        if self._document is None or document.version != self._document.version:
            logger.info("scheme document version %s in force", document.version)
        self._document, self._fetched_at = document, time.monotonic() - age
        metrics.scheme_document_expiry.set(document.exp)

    def refresh(self, *, unless_ended_since: float | None = None) -> None:
        """Fetch now, one fetch at a time. Blocking.

        With ``unless_ended_since``, a fetch that ended after that moment (one this caller waited
        for) is as good as its own: a burst of requests shares one fetch instead of queueing one each.
        """
        with self._fetching:
            if unless_ended_since is None or self._ended_at < unless_ended_since:
                self._update()

    def _refresh_in_background(self) -> None:
        if not self._fetching.locked() and time.monotonic() - self._ended_at >= RETRY_AFTER:
            threading.Thread(target=self.refresh, name="scheme-refresh", daemon=True).start()

    def in_hand(self) -> SchemeDocument | None:
        """The valid document in hand, for code that runs outside a request (the worker); ``None`` without one.

        Blocking: with none in hand it fetches one first (unless a fetch failed just now); a stale one is
        refreshed in the background, as :meth:`current` does.
        """
        document = self._document
        if document is None or document.exp <= time.time():
            if not self._fetching.locked() and time.monotonic() - self._ended_at >= RETRY_AFTER:
                self.refresh()
            document = self._document
            return document if document is not None and document.exp > time.time() else None
        if time.monotonic() - self._fetched_at >= REFRESH_AFTER:
            self._refresh_in_background()
        return document

    async def current(self) -> SchemeDocument:
        """The scheme document in force; raises :class:`SchemeUnavailable` when there is no valid one."""
        document = self._document
        if document is not None and document.exp > time.time():
            if time.monotonic() - self._fetched_at >= REFRESH_AFTER:
                self._refresh_in_background()  # stale but valid: use it now
            return document
        asked = time.monotonic()
        # A fetch just failed: say so at once rather than make every request wait on the operator again.
        if asked - self._ended_at >= RETRY_AFTER or self._fetching.locked():
            await release_before_waiting()
            await asyncio.to_thread(self.refresh, unless_ended_since=asked)
        document = self._document
        if document is None or document.exp <= time.time():
            logger.error("no valid scheme document: refusing requests until %s answers", settings.SCHEME_URL)
            metrics.scheme_unavailable.inc()
            raise SchemeUnavailable()
        return document


scheme_client = SchemeClient()
