"""The stand-in holders of ``bench/centraal.py`` are genuine: the portal's own verification accepts their copies.

A benchmark of the overview measures nothing if the portal refuses every copy, or if the stand-in
answers one request after another. The stand-in runs for real here (uvicorn, HTTP) in a thread.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from blauweknop.portal.verification import verify_credential
from blauweknop.protocol import scheme_document, session_assertion
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks
from blauweknop.scheme.catalogue import document_type

pytestmark = pytest.mark.django_db  # the portal shares status lists through the cache, a table by default
_SPEC = importlib.util.spec_from_file_location(
    "stand_in_holders", Path(__file__).resolve().parents[2] / "bench" / "stand_in_holders.py"
)
stand_in_holders = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(stand_in_holders)

HOLDER_OIN, APP_MANAGER_OIN, BSN = "00000009901000000000", "00000001234567890000", "999990019"
SLUG, DELAY_MS = "proefhouder-01", 200
DEBTS = {
    "burgerservicenummer": BSN,
    "naam": {"voornamen": "Proef", "geslachtsnaam": "Persoon"},
    "geboorte": {"datum": "1980-01-01"},
    "vorderingen": [
        {
            "schuldeiser": "Proefhouder 01",
            "kenmerk": "PROEF-01-1",
            "oorspronkelijkBedragInCenten": 10000,
            "openstaandBedragInCenten": 5000,
            "vervaldatum": "2030-01-01",
        }
    ],
}


@pytest.fixture
def stand_in() -> Iterator[tuple[str, dict]]:
    """The stand-in with one holder, serving on a free port: its base URL and the holder's private key."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url, key = f"http://127.0.0.1:{port}", generate_jwk()
    documents = {"vorderingen": {"vct": document_type("vorderingen").vct, "data": {SLUG: DEBTS}}}
    config = {"base_url": base_url, "holders": [{"slug": SLUG, "key": key}], "documents": documents}
    app = stand_in_holders.StandIn(config, DELAY_MS)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield base_url, key
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _scheme(base_url: str, holder_key: dict) -> scheme_document.SchemeDocument:
    """A scheme document that lists the stand-in holder, as the operator would publish it."""
    operator, issuer = SigningKey(generate_jwk()), f"{base_url}/{SLUG}"
    holder = scheme_document.participant_entry(
        oin=HOLDER_OIN,
        name="Proefhouder 01",
        roles=[scheme_document.HOLDER],
        jwks=jwks([SigningKey(holder_key).public_jwk]),
        endpoints={"api": f"{issuer}/api/v1", "issuer": issuer},
        document_types=["vorderingen"],
    )
    payload = scheme_document.build(iss="https://stelsel.example", version=1, organisations=[holder])
    operator_keys = KeySet.from_jwks(jwks([operator.public_jwk]))
    return scheme_document.verify(scheme_document.sign(payload, operator), operator_keys)


def _request() -> dict:
    assertion = session_assertion.sign(
        SigningKey(generate_jwk()),
        app_manager_oin=APP_MANAGER_OIN,
        holder_oin=HOLDER_OIN,
        bsn=BSN,
        assurance_level="midden",
        wallet_jwk=SigningKey(generate_jwk()).public_jwk,
    )
    return {"appbeheerderverklaring": assertion, "documentsoort": "vorderingen"}


async def _ask_at_once(url: str, bodies: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=10) as http:
        return await asyncio.gather(*(http.post(url, json=body) for body in bodies))


def test_its_copies_pass_the_portals_verification_with_their_status(stand_in):
    base_url, key = stand_in
    answer = httpx.post(f"{base_url}/{SLUG}/api/v1/verklaringen", json=_request(), timeout=10)
    assert answer.status_code == 201
    verified = verify_credential(answer.json()["verklaring"], _scheme(base_url, key), fresh=True)
    assert verified.iss == f"{base_url}/{SLUG}"
    assert verified.status.uri == f"{base_url}/{SLUG}/api/v1/statuslijsten/1"


def test_it_answers_twenty_requests_at_once_after_the_delay_not_one_after_another(stand_in):
    base_url, _ = stand_in
    bodies = [_request() for _ in range(20)]  # signed before the clock starts: only the stand-in is timed
    started = time.perf_counter()
    answers = asyncio.run(_ask_at_once(f"{base_url}/{SLUG}/api/v1/verklaringen", bodies))
    elapsed = time.perf_counter() - started
    assert [a.status_code for a in answers] == [201] * 20
    # One after another takes 20 delays; at once takes one delay plus signing 20 copies, which on a
    # busy two-core CI machine has taken more than a second delay. Half the serial time tells them apart.
    assert DELAY_MS / 1000 <= elapsed < 10 * DELAY_MS / 1000
