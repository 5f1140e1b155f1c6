"""Without a valid scheme document, a hanging operator costs one fetch, not one fetch per request.

Found by attacking the demo: with the operator hanging and no document in hand, 40 requests at
once each waited for a fetch of their own, one after the other (10 s each), and all were still
waiting after two minutes. A burst shares the one fetch in flight, and right after a failed fetch
requests are told 503 at once (issue 6, item 5).
"""

import asyncio
import time

import httpx
import pytest

from .test_scheme_outage import hanging_operator  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db(transaction=True)
BURST = 20


async def _burst(url: str) -> list[tuple[int, float]]:
    async with httpx.AsyncClient(timeout=60) as http:

        async def one() -> tuple[int, float]:
            started = time.monotonic()
            response = await http.get(url)
            return response.status_code, time.monotonic() - started

        return await asyncio.gather(*(one() for _ in range(BURST)))


def test_it_answers_a_burst_with_503_after_one_fetch_when_a_hanging_operator_left_no_document(
    deployment,
    settings,
    hanging_operator,  # noqa: F811
):
    settings.SCHEME_URL = hanging_operator
    first = asyncio.run(_burst(deployment.url + "/"))
    assert [status for status, _ in first] == [503] * BURST
    assert max(seconds for _, seconds in first) < 20  # one fetch of 10 s, shared; not one per request
    again = asyncio.run(_burst(deployment.url + "/"))
    assert [status for status, _ in again] == [503] * BURST
    assert max(seconds for _, seconds in again) < 3  # it just failed: nobody waits for another try yet
