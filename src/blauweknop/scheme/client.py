"""How every other role gets the scheme document: over HTTP, verified against the trust anchor."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from django.conf import settings

from blauweknop import keystore
from blauweknop.protocol import scheme_document
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import KeySet
from blauweknop.protocol.scheme_document import SchemeDocument

REFRESH_AFTER = 300  # seconds: a suspension is seen everywhere within five minutes
TIMEOUT = 10


def trust_anchor() -> KeySet:
    """The scheme operator's public keys, from configuration (or this deployment's own key)."""
    if settings.SCHEME_JWKS:
        return KeySet.from_jwks(json.loads(settings.SCHEME_JWKS))
    return KeySet([keystore.signing_key("stelsel").public_jwk])


class SchemeClient:
    """Keeps the current scheme document, fetching a new one every few minutes."""

    def __init__(self) -> None:
        self._document: SchemeDocument | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        """Drop the cached document, so the next use fetches it (after a known change, and in tests)."""
        self._document = None

    async def current(self) -> SchemeDocument:
        """The scheme document in force; refuses an older version than one already seen."""
        async with self._lock:
            fresh = self._document and time.monotonic() - self._fetched_at < REFRESH_AFTER
            if fresh and self._document.exp > time.time():
                return self._document
            url = f"{settings.SCHEME_URL}/api/v1/stelseldocument"
            try:
                async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                    response = await client.get(url)
                    response.raise_for_status()
            except httpx.HTTPError as exc:
                raise VerificationError("unknown_issuer", "The scheme document could not be fetched.") from exc
            previous = self._document.version if self._document else None
            self._document = scheme_document.verify(response.text.strip(), trust_anchor(), min_version=previous)
            self._fetched_at = time.monotonic()
            return self._document


scheme_client = SchemeClient()
