"""Opening a request's link, as often and in as many tabs as a citizen likes (attacker review A7, A10, A2).

A7: links the requester does not know are counted per citizen (and per address, with the code form's wrong
codes): past 20 the portal stops asking the requester and says so plainly, so one citizen's made-up links
cannot make a requester refuse the portal for every citizen. A10: the same link opened again finds the request
this session opened, without fetching or keeping another copy, and a citizen keeps at most 20 undecided
requests. A2: what the done page tells is kept with the opened request, so two tabs deciding at once each
show the truth.
"""

from __future__ import annotations

import asyncio
import threading

import httpx
from django.test import Client

from blauweknop.portal import sharing
from blauweknop.portal.models import OpenedRequest
from blauweknop.pseudonyms import pseudonym
from tests.portal import test_share
from tests.portal.conftest import browser, log_in
from tests.portal.test_share import CODE, REQUESTER, _link, _open

requester = test_share.requester  # the stand-in requester, serving request objects signed with the requester's key

TOO_MANY_LINKS = "U opende te veel links die niet werken. Wacht een kwartier en probeer het opnieuw."


def _made_up(requester_, number: int) -> str:
    return f"{requester_.api}/verzoekobjecten/ONBEKEND{number:03d}"


def test_links_that_do_not_work_are_counted_per_citizen_and_then_refused(citizen, citizen_bsn, requester):
    right = requester.ask()
    for number in range(20):
        assert citizen.get(_link(_made_up(requester, number))).status_code == 404
    refused = citizen.get(_link(right))
    assert refused.status_code == 429
    page = refused.content.decode()
    assert TOO_MANY_LINKS in page and "Kreeg u de link van een organisatie? Vraag hen om een nieuwe." in page
    assert len(requester.fetched) == 20  # once refused, the requester is not asked any more
    # The same citizen on another network: still this citizen's count.
    elsewhere = Client(REMOTE_ADDR="10.0.0.7")
    log_in(elsewhere, citizen_bsn)
    assert elsewhere.get(_link(right)).status_code == 429
    typed = elsewhere.post("/delen/openen/", {"organisatie": REQUESTER, "code": CODE})  # and a code typed: the same
    assert typed.status_code == 429 and "U vulde te vaak een code in die niet werkt." in typed.content.decode()
    elsewhere.cookies["django_language"] = "en"
    english = elsewhere.get(_link(right)).content.decode()
    assert "You opened too many links that do not work." in english
    assert len(requester.fetched) == 20


def test_another_citizen_still_opens_a_link_and_right_links_are_not_counted(
    citizen, citizen_bsn, requester, two_citizen_bsns
):
    for number in range(20):
        assert citizen.get(_link(_made_up(requester, number))).status_code == 404
    second = next(bsn for bsn in two_citizen_bsns if bsn != citizen_bsn)
    same_network = Client()
    log_in(same_network, second)
    shut = same_network.get(_link(requester.ask()))  # the address's limit, as for the code form
    assert shut.status_code == 429
    assert "Vanaf dit netwerk is te vaak een verkeerde code ingevuld." in shut.content.decode()
    other = Client(REMOTE_ADDR="10.0.0.8")
    log_in(other, second)
    for number in range(25):  # right links, each a request of its own: given back, never refused
        assert other.get(_link(requester.ask(f"GOED{number:04d}"))).status_code == 303


def test_the_same_link_opened_again_is_the_same_request_fetched_once(citizen, requester):
    uri = requester.ask()
    first = _open(citizen, uri)
    for _ in range(5):
        assert _open(citizen, uri) == first
    assert OpenedRequest.objects.count() == 1 and len(requester.fetched) == 1
    assert citizen.get(first).status_code == 200


def test_a_citizen_keeps_at_most_20_undecided_requests_the_oldest_dropped(
    citizen, citizen_bsn, requester, two_citizen_bsns
):
    other = Client()
    log_in(other, next(bsn for bsn in two_citizen_bsns if bsn != citizen_bsn))
    others = _open(other, requester.ask("ANDERE01"))
    pages = [_open(citizen, requester.ask(f"VERZ{number:04d}")) for number in range(25)]
    assert OpenedRequest.objects.count() == 21
    assert OpenedRequest.objects.filter(citizen=pseudonym(citizen_bsn)).count() == 20
    assert other.get(others).status_code == 200  # another citizen's request stays
    assert all(citizen.get(page).status_code == 404 for page in pages[:5])
    assert all(citizen.get(page).status_code == 200 for page in pages[5:])


def test_two_tabs_deciding_at_once_each_show_what_happened(demo_world, citizen_bsn, requester, monkeypatch):
    http = browser(demo_world.url, citizen_bsn)
    reviews = []
    for code in ("TABEEN01", "TABTWEE2"):
        opened = http.get(_link(requester.ask(code)))
        assert opened.status_code == 303
        reviews.append(opened.headers["Location"])
        http.get(reviews[-1])
    post = sharing._post

    async def slow_post(*args, **kwargs):  # both decisions are surely at work at once, as in two tabs
        await asyncio.sleep(1.5)
        return await post(*args, **kwargs)

    monkeypatch.setattr(sharing, "_post", slow_post)
    token, barrier, statuses = http.cookies["csrftoken"], threading.Barrier(2), []

    def click(review: str) -> None:
        with httpx.Client(base_url=demo_world.url, cookies=http.cookies, timeout=60) as tab:
            barrier.wait()
            statuses.append(tab.post(review, data={"besluit": "ja"}, headers={"X-CSRFToken": token}).status_code)

    tabs = [threading.Thread(target=click, args=(review,)) for review in reviews]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()
    assert statuses == [303, 303]
    for review in reviews:
        done = http.get(review + "klaar/").text
        assert "Uw gegevens zijn gedeeld" in done, done[:3000]
    http.close()
    assert len(requester.answers) == 2
