"""The fan-out to every holder: one result per holder, each as soon as it is in, all within the timeout."""

import asyncio
import time

import pytest

from blauweknop.portal.fanout import ask_all
from blauweknop.portal.holders import Citizen
from blauweknop.protocol.scheme_document import HOLDER
from blauweknop.scheme.client import scheme_client

pytestmark = pytest.mark.django_db(transaction=True)


def collect(citizen: Citizen, timeout: float = 5) -> tuple[list, float]:
    """Every result of one fan-out, and the seconds it took."""

    async def run():
        scheme = await scheme_client.current()
        started = time.monotonic()
        results = [r async for r in ask_all(scheme, citizen, timeout=timeout)]
        return results, time.monotonic() - started

    return asyncio.run(run())


def test_every_holder_answers_once_with_verified_copies(demo_world, citizen_bsn, wallet):
    citizen = Citizen(citizen_bsn, "midden", wallet.public_jwk)
    results, _ = collect(citizen)
    scheme = asyncio.run(scheme_client.current())
    holders = {p.oin for p in scheme.organisations.values() if HOLDER in p.roles}
    assert sorted(r.holder.oin for r in results) == sorted(holders)
    assert all(r.outcome in ("opgehaald", "geen") for r in results)
    assert any(r.credentials for r in results)
    for r in results:
        assert set(r.credentials) | set(r.absent) == set(r.holder.document_types)
