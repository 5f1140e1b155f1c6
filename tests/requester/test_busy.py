"""The back office's calls that wait on others are capped per process and per requester (attacker review A1).

Past the cap a call is turned away at once with 503 busy (problem+json, Retry-After) instead of queueing behind
fetches that wait on a slow portal or holder; one busy requester leaves room for the others.
"""

from contextlib import ExitStack

import httpx
import pytest

from blauweknop.requester import outbound

from .world import BANK, BANK_SLUG, WONING, api_url, authenticated, created, is_problem, state_of

pytestmark = pytest.mark.django_db(transaction=True)


def _fetch(code: str, slug: str, oin: str) -> httpx.Response:
    url = f"{api_url(slug)}/verzoeken/{code}/ophalen"
    return httpx.post(url, json=authenticated({}, url, oin), timeout=30)


def _held(places: ExitStack, oin: str, count: int) -> None:
    for _ in range(count):
        places.enter_context(outbound.slot(oin))


def test_past_the_cap_a_fetch_is_turned_away_at_once_and_another_requester_still_gets_through(demo_world):
    mine, theirs = created()["code"], created(slug=BANK_SLUG, oin=BANK)["code"]
    with ExitStack() as places:
        _held(places, WONING, outbound.PER_REQUESTER)
        busy = _fetch(mine, "woningcorporatie-thuisbasis", WONING)
        assert is_problem(busy, 503, "busy") and busy.headers["Retry-After"] == "5"
        assert is_problem(state_of(mine), 503, "busy")
        # The bank's own calls still have room: its request gives no standing access, and it is told so.
        assert is_problem(_fetch(theirs, BANK_SLUG, BANK), 403, "no_standing_access")
        _held(places, BANK, outbound.AT_ONCE - outbound.PER_REQUESTER)
        assert is_problem(_fetch(theirs, BANK_SLUG, BANK), 503, "busy")  # the process as a whole is full
    # Places are given back, also by calls that were refused.
    assert is_problem(_fetch(mine, "woningcorporatie-thuisbasis", WONING), 403, "no_standing_access")
    assert state_of(mine).status_code == 200
    assert not outbound._under_way
