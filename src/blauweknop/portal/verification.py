"""Checking a credential as any receiver would: issuer in the scheme, signature, time, status."""

from __future__ import annotations

import httpx

from blauweknop.protocol import sdjwt_vc
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.status_list import StatusListClient

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def verify_credential(presentation: str, scheme: SchemeDocument) -> sdjwt_vc.VerifiedCredential:
    """Verify with every check, fetching status lists over HTTP.

    Blocking: call it through ``sync_to_async(..., thread_sensitive=False)`` from async views, so
    that a status list served by this same process can still be answered meanwhile.
    """
    with httpx.Client(timeout=TIMEOUT) as http:

        def fetch(uri: str) -> str:
            response = http.get(uri, headers={"Accept": "application/statuslist+jwt"})
            response.raise_for_status()
            return response.text

        return sdjwt_vc.verify(
            presentation, scheme.issuer_keys(), status_lists=StatusListClient(fetch), require_key_binding=False
        )
