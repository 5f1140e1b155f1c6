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
OTHER = "00000009999999999000"  # a third requester of this process
JUNK = {"Authorization": "Bearer eyJhbGciOiJFUzI1NiJ9." + "x" * 200 + ".sig"}


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
        _held(places, BANK, outbound.PER_REQUESTER)
        _held(places, OTHER, 1)  # two busy requesters leave room for a third (attack review 2, F6)
        _held(places, OTHER, outbound.AT_ONCE - 2 * outbound.PER_REQUESTER - 1)
        with pytest.raises(outbound.Busy):
            _held(places, "00000009999999998000", 1)  # the process as a whole is full
    # Places are given back, also by calls that were refused.
    assert is_problem(_fetch(mine, "woningcorporatie-thuisbasis", WONING), 403, "no_standing_access")
    assert state_of(mine).status_code == 200
    assert not outbound._under_way


def test_a_stranger_takes_no_place_and_is_refused_for_who_it_is_even_when_the_places_are_full(demo_world, monkeypatch):
    """Attack review 2, F6: the place was taken before the caller was authenticated, so anonymous junk calls
    held the requester's places and its own signed back office got 503 busy."""
    code = created()["code"]
    taken, slot = [], outbound.slot

    def counted(oin: str):
        taken.append(oin)
        return slot(oin)

    monkeypatch.setattr(outbound, "slot", counted)
    url = f"{api_url()}/verzoeken/{code}"
    for response in (
        httpx.get(url, headers=JUNK, timeout=30),
        httpx.get(url, timeout=30),
        httpx.post(f"{url}/ophalen", json=authenticated({}, f"{url}/ophalen", BANK), timeout=30),  # not its own
        httpx.post(
            f"{api_url()}/wettelijke-verstrekkingen", json={**_lawful(), "client_assertion": "x" * 40}, timeout=30
        ),
    ):
        assert response.status_code in (401, 403), response.text
    assert taken == []
    assert state_of(code).status_code == 200 and taken == [WONING]
    with ExitStack() as places:
        _held(places, WONING, outbound.PER_REQUESTER)
        assert is_problem(httpx.get(url, headers=JUNK, timeout=30), 401)  # not "busy": it is nobody
        assert is_problem(state_of(code), 503, "busy")  # the requester's own, past its own cap


def _lawful() -> dict:
    return {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "houder": "0" * 20,
        "burgerservicenummer": "0" * 9,
        "documentsoort": "inkomen",
        "velden": ["inkomen.vastgesteldOp"],
        "grondslag": "wet",
        "doel": "doel",
        "bewaartermijnDagen": 1,
    }
