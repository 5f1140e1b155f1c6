"""Checking a credential as any receiver would: issuer in the scheme, signature, time, status."""

from __future__ import annotations

import functools
import ssl

import httpx

from blauweknop.protocol import sdjwt_vc
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.status_list import MAX_TOKEN_BYTES, StatusListClient

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every outgoing call of the portal: loading the CA bundle anew took ~30 ms a call."""
    return httpx.create_ssl_context()


def verify_credential(presentation: str, scheme: SchemeDocument) -> sdjwt_vc.VerifiedCredential:
    """Verify with every check, fetching status lists over HTTP.

    Blocking: call it through ``sync_to_async(..., thread_sensitive=False)`` from async views, so
    that a status list served by this same process can still be answered meanwhile.
    """
    with httpx.Client(timeout=TIMEOUT, verify=tls_context()) as http:

        def fetch(uri: str) -> str:
            # Raw bytes, no content coding, at most one token's worth: the list's server may be hostile.
            headers = {"Accept": "application/statuslist+jwt", "Accept-Encoding": "identity"}
            with http.stream("GET", uri, headers=headers) as response:
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_raw():
                    body += chunk
                    if len(body) > MAX_TOKEN_BYTES:
                        raise ValueError(f"the status list is larger than {MAX_TOKEN_BYTES} bytes")
            return body.decode("utf-8")

        return sdjwt_vc.verify(
            presentation, scheme.issuer_keys(), status_lists=StatusListClient(fetch), require_key_binding=False
        )
