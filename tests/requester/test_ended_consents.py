"""A requester hears at once that a standing consent ended, and the operator's alert counts only fetches after that.

Newcomer review R3: a requester learnt of a withdrawal only at its next fetch, the one its staff page offers, and
that one fetch made the scheme operator's monitoring say "fetched after withdrawal: suspend it?". Now the
withdrawal queues a notice in the same transaction; the worker tells the requester
(``POST <endpoints.requester>/beeindigde-toestemmingen``), which records it and refuses its own next fetch without
asking the portal. The monitoring counts a refused fetch only once the requester knew. Two requesters, two
citizens, every role behind one real HTTP server.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from blauweknop import keystore, shared_cache
from blauweknop.api import ApiProblem
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import consents, end_notices
from blauweknop.portal.models import Consent, ConsentEvent, EndNotice
from blauweknop.protocol import client_assertion
from blauweknop.pseudonyms import pseudonym
from blauweknop.requester import endings
from blauweknop.requester.models import ShareRequest
from blauweknop.scheme import monitoring
from blauweknop.scheme.client import scheme_client
from tests.portal.conftest import log_in
from tests.portal.test_fetch_api import fetch, refused
from tests.portal.test_refused_fetch_records import another_app_manager
from tests.test_request_limits import call

from .world import BANK, BANK_SLUG, BELASTING, WONING, WONING_SLUG, api_url, created, income_request, is_problem
from .world import state_of as state_at

pytestmark = pytest.mark.django_db(transaction=True)


def two_citizens() -> list[str]:
    bsns = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)
    found = sorted(set(bsns))
    assert len(found) >= 2
    return found[:2]


def approved(bsn: str, slug: str, oin: str) -> dict:
    """A standing request of ``oin`` for ``bsn``'s income, approved by the citizen in the portal; its state."""
    until = date.today() + timedelta(days=60)
    made = created(income_request(toegang="doorlopend", toegangTot=until.isoformat()), slug=slug, oin=oin)
    browser = Client()
    assert log_in(browser, bsn).status_code == 302
    link = urlsplit(made["link"])
    opened = browser.get(f"{link.path}?{link.query}")
    assert opened.status_code == 303, opened.content.decode()[:500]
    assert browser.post(opened["Location"], {"besluit": "ja", "veld-inkomen": ["vastgesteldOp"]}).status_code == 303
    state = state_at(made["code"], slug=slug, oin=oin).json()
    assert state["status"] == "goedgekeurd" and state["toestemming"]
    return state


def fetch_now(code: str, slug: str = WONING_SLUG, oin: str = WONING) -> httpx.Response:
    url = f"{api_url(slug)}/verzoeken/{code}/ophalen"
    token = client_assertion.sign(keystore.signing_key(oin), client_id=oin, audience=url)
    body = {"client_assertion_type": client_assertion.ASSERTION_TYPE, "client_assertion": token}
    return httpx.post(url, json=body, timeout=60)


def fetches_seen_by_portal(consent_id: str) -> int:
    return ConsentEvent.objects.filter(consent_id=consent_id, kind=ConsentEvent.Kind.FETCH_REFUSED).count()


@pytest.fixture
def two(demo_world):
    """Citizen one gave the housing corporation standing access, citizen two the bank; each is the other's control."""
    first, second = two_citizens()
    return (first, approved(first, WONING_SLUG, WONING)), (second, approved(second, BANK_SLUG, BANK))


def test_a_withdrawal_reaches_its_requester_in_one_worker_run_and_its_next_fetch_is_refused_there(two):
    (bsn, woning), (_, bank) = two
    assert ShareRequest.objects.get(consent=woning["toestemming"]).app_manager == PORTAL_OIN
    assert consents.withdraw(pseudonym(bsn), woning["toestemming"])
    (notice,) = EndNotice.objects.all()  # queued with the withdrawal, for the housing corporation only
    assert (notice.requester_oin, notice.reason, notice.told_at) == (WONING, "ingetrokken", None)

    assert end_notices.tell_pending() == 1

    told = state_at(woning["code"]).json()
    assert told["status"] == "ingetrokken" and told["beeindigdOp"] is not None
    notice.refresh_from_db()
    assert notice.done_at is not None and notice.told_at is not None
    assert end_notices.tell_pending() == 0  # told once
    # Its next fetch is refused by the requester itself: the portal never sees it.
    assert is_problem(fetch_now(woning["code"]), 403, "consent_withdrawn")
    assert fetches_seen_by_portal(woning["toestemming"]) == 0
    # The bank and the other citizen: untouched.
    assert state_at(bank["code"], slug=BANK_SLUG, oin=BANK).json()["status"] == "goedgekeurd"
    assert fetch_now(bank["code"], BANK_SLUG, BANK).status_code == 200


def test_the_moment_kept_as_told_is_when_the_requester_took_the_notice_not_when_it_was_sent(two, monkeypatch):
    """The alert counts refused fetches from ``told_at`` on: stamped before the answer came, too early (audit)."""
    (bsn, woning), _ = two
    record, recorded = endings.record, []

    def slow(tenant, *args, **kwargs):
        taken = record(tenant, *args, **kwargs)
        recorded.append(timezone.now())
        time.sleep(0.3)  # the answer takes a while to come back
        return taken

    monkeypatch.setattr(endings, "record", slow)
    assert consents.withdraw(pseudonym(bsn), woning["toestemming"])
    assert end_notices.tell_pending() == 1
    assert EndNotice.objects.get().told_at >= recorded[0]


def test_an_expired_consent_is_told_too(two):
    (_, woning), _ = two
    # Their term ran out just now: the requester takes no end date ahead of its own clock (attack review 2, F4).
    Consent.objects.update(valid_until=timezone.now())
    assert consents.expire_due(timezone.now()) == 2
    assert sorted(EndNotice.objects.values_list("requester_oin", "reason")) == [
        (WONING, "verlopen"),
        (BANK, "verlopen"),
    ]
    assert end_notices.tell_pending() == 2
    assert state_at(woning["code"]).json()["status"] == "verlopen"
    assert is_problem(fetch_now(woning["code"]), 403, "consent_expired")


def test_a_requester_that_is_down_is_told_later_and_once(two, monkeypatch):
    (bsn, woning), _ = two
    record, taken = endings.record, []

    def down(*args, **kwargs):
        raise ApiProblem(503, "unavailable", "Down in this test.")

    def counted(*args, **kwargs):
        taken.append(record(*args, **kwargs))
        return taken[-1]

    monkeypatch.setattr(endings, "record", down)
    assert consents.withdraw(pseudonym(bsn), woning["toestemming"])
    assert end_notices.tell_pending() == 0
    waiting = EndNotice.objects.get(done_at__isnull=True)
    assert waiting.tries == 1 and waiting.next_try > timezone.now() and waiting.told_at is None
    assert end_notices.tell_pending() == 0  # not before its wait is over
    assert state_at(woning["code"]).json()["status"] == "goedgekeurd"

    monkeypatch.setattr(endings, "record", counted)
    EndNotice.objects.filter(pk=waiting.pk).update(next_try=timezone.now() - timedelta(seconds=1))
    assert end_notices.tell_pending() == 1
    assert end_notices.tell_pending() == 0
    assert len(taken) == 1 and taken[0].status == "ingetrokken"


def overview() -> monitoring.Overview:
    """The operator's monitoring as its page reads it, over HTTP from the app manager, not from any cache."""
    scheme = asyncio.run(scheme_client.current())
    start, end = monitoring.period(timezone.localdate())
    shared_cache.delete(shared_cache.key("cijfers-vragers", f"{start.isoformat()}/{end.isoformat()}"))
    return monitoring.overview(scheme, start, end)


def fetches_after_withdrawal(seen: monitoring.Overview, oin: str) -> int:
    return seen.requesters[oin]["ophalingenNaIntrekking"]


def test_only_fetches_after_the_requester_was_told_raise_the_alert(two):
    (bsn, woning), (other, bank) = two
    consent = woning["toestemming"]
    assert consents.withdraw(pseudonym(bsn), consent)
    # Before the notice could reach it, staff press "Haal nu op": the portal refuses, and the request says so.
    assert is_problem(fetch_now(woning["code"]), 403, "consent_withdrawn")
    assert fetches_seen_by_portal(consent) == 1
    assert end_notices.tell_pending() == 1

    seen = overview()
    assert fetches_after_withdrawal(seen, WONING) == 0
    assert [a for a in seen.alerts if a.code == monitoring.FETCH_AFTER_WITHDRAWAL] == []

    # A requester's back office that goes on fetching at the portal after it was told: that stands out.
    assert refused(fetch(consent, requester_oin=WONING), 403, "consent_withdrawn")
    # The bank was told first and fetched anyway.
    assert consents.withdraw(pseudonym(other), bank["toestemming"])
    assert end_notices.tell_pending() == 1
    assert refused(fetch(bank["toestemming"], requester_oin=BANK), 403, "consent_withdrawn")

    seen = overview()
    assert (fetches_after_withdrawal(seen, WONING), fetches_after_withdrawal(seen, BANK)) == (1, 1)
    alerts = [(a.requester, a.count) for a in seen.alerts if a.code == monitoring.FETCH_AFTER_WITHDRAWAL]
    assert sorted(alerts) == sorted([(WONING, 1), (BANK, 1)])


def test_two_refused_fetches_before_any_notice_count_the_second(two):
    (bsn, woning), _ = two
    consent = woning["toestemming"]
    assert consents.withdraw(pseudonym(bsn), consent)
    for _ in range(2):  # the first refusal told it; the notice never arrived (the requester was down)
        assert refused(fetch(consent, requester_oin=WONING), 403, "consent_withdrawn")
    assert fetches_after_withdrawal(overview(), WONING) == 1


# ---------------------------------------------------------------------------------------------
# Hostile input on the new endpoint


def ended_url(slug: str = WONING_SLUG) -> str:
    return f"{api_url(slug)}/{endings.PATH}"


def portal_assertion(audience: str | None = None, key=None, oin: str = PORTAL_OIN) -> str:
    return client_assertion.sign(key or keystore.signing_key(oin), client_id=oin, audience=audience or ended_url())


def tell(consent: str, token: str | None = None, slug: str = WONING_SLUG, **changes) -> httpx.Response:
    body = {
        "toestemming": consent,
        "reden": "ingetrokken",
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": token or portal_assertion(ended_url(slug)),
        **changes,
    }
    return httpx.post(ended_url(slug), json=body, timeout=30)


def test_hostile_notices_are_refused_with_problems_and_change_nothing(two):
    (_, woning), (_, bank) = two
    consent = woning["toestemming"]

    assert is_problem(tell(consent, token="x" * 40), 401)
    assert is_problem(tell(consent, token=portal_assertion(f"{api_url()}/antwoorden")), 401, "aud_mismatch")
    assert is_problem(
        tell(
            consent, token=client_assertion.sign(keystore.signing_key(WONING), client_id=WONING, audience=ended_url())
        ),
        401,
    )  # the requester itself is no app manager
    # Another certified app manager, or a consent this requester does not hold: the same 404.
    stranger = tell(consent, token=portal_assertion(key=another_app_manager(), oin="00000009555666777000"))
    unknown = tell("nergens-bekend")
    theirs = tell(bank["toestemming"])  # the bank's consent, told to the housing corporation
    for response in (stranger, unknown, theirs):
        assert is_problem(response, 404, "unknown_consent")
        assert response.json()["detail"] == unknown.json()["detail"]
    assert is_problem(tell(consent, reden="zomaar"), 400)
    assert is_problem(tell(consent, beeindigdOp="2026-11-30T07:00:00"), 400)  # no time zone
    assert is_problem(tell("../" * 30), 400)
    assert is_problem(tell(consent, token="x" * 100_000), 400)  # one field too long
    # A body past the deployment's limit is refused in front of Django (ASGI), before it is read.
    path = urlsplit(ended_url()).path
    large, read = call(path, [(b"content-length", b"1048576"), (b"content-type", b"application/json")], iter(()))
    assert (large["status"], large["headers"]["Content-Type"], read) == (413, "application/problem+json", 0)
    assert ShareRequest.objects.filter(status="goedgekeurd").count() == 2

    token = portal_assertion()
    assert tell(consent, token=token).status_code == 204
    assert is_problem(tell(consent, token=token), 401, "assertion_replayed")
    assert tell(consent).status_code == 204  # told again with a new assertion: nothing new
    assert state_at(woning["code"]).json()["status"] == "ingetrokken"
    assert state_at(bank["code"], slug=BANK_SLUG, oin=BANK).json()["status"] == "goedgekeurd"
