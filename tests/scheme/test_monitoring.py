"""The operator's monitoring: every app manager's counts read over HTTP, added up per requester, and alerts."""

import asyncio
import threading

import httpx
import pytest
from django.db import connection, connections
from django.utils import timezone

from blauweknop.portal import consents
from blauweknop.protocol import figures
from blauweknop.scheme import monitoring
from blauweknop.scheme.client import scheme_client
from tests.portal.conftest import two_citizen_bsns  # noqa: F401 (a fixture)
from tests.portal.consent_world import SPAARBANK, WONINGCORPORATIE, asked, citizen, given
from tests.portal.test_fetch_api import fetch, refused
from tests.scheme.test_operator_pages import log_in, make_operator

GEMEENTE = "00000001823288444000"


def counts(**given_counts: int) -> dict[str, int]:
    return {**figures.zero(), **given_counts}


def test_a_requester_asking_more_than_three_times_the_median_of_its_peers_stands_out():
    peers = {f"0000000300000000000{i}": counts(verzoekenBeantwoord=10) for i in range(3)}
    busy = "00000003999999999999"
    found = monitoring.alerts({**peers, busy: counts(verzoekenBeantwoord=31, toestemmingen=31)})
    assert [(a.requester, a.code, a.count, a.compared_to) for a in found] == [
        (busy, monitoring.MANY_REQUESTS, 31, 10.0)
    ]
    assert monitoring.alerts({**peers, busy: counts(verzoekenBeantwoord=30, toestemmingen=30)}) == []  # 3x exactly
    small = {"00000003000000000001": counts(verzoekenBeantwoord=1), busy: counts(verzoekenBeantwoord=19)}
    assert monitoring.alerts(small) == []  # far more, but below the minimum of 20


def test_fetches_after_withdrawal_and_a_high_refusal_rate_stand_out():
    found = monitoring.alerts(
        {
            WONINGCORPORATIE: counts(verzoekenBeantwoord=2, toestemmingen=2, ophalingenNaIntrekking=1),
            SPAARBANK: counts(verzoekenBeantwoord=10, toestemmingen=5, weigeringen=5),
            GEMEENTE: counts(verzoekenBeantwoord=10, toestemmingen=6, weigeringen=4),
        }
    )
    assert [(a.requester, a.code) for a in found] == [
        (WONINGCORPORATIE, monitoring.FETCH_AFTER_WITHDRAWAL),
        (SPAARBANK, monitoring.MANY_REFUSALS),
    ]


def test_the_operator_reads_the_app_managers_counts_over_http_and_sees_a_fetch_after_withdrawal(
    demo_world,
    two_citizen_bsns,  # noqa: F811
):
    anna, bram = (citizen(bsn) for bsn in two_citizen_bsns)
    annas, _ = given(anna, WONINGCORPORATIE)
    brams, _ = given(bram, WONINGCORPORATIE)
    consents.refuse(anna, asked(SPAARBANK), requester_name="Spaarbank Voorbeeld", request_object="eyJ.x")
    given(bram, SPAARBANK)
    consents.delivered(annas, {"houders": {}, "velden": {}})  # the answer to the request, as the share page records it
    assert fetch(annas.pk).status_code == 200  # then a standing fetch
    assert consents.withdraw(bram.pseudonym, brams.pk)
    assert refused(fetch(brams.pk), 403, "consent_withdrawn")  # before it could know: not counted
    assert refused(fetch(brams.pk), 403, "consent_withdrawn")  # told by that refusal, it tries again anyway

    scheme = asyncio.run(scheme_client.current())
    start, end = monitoring.period(timezone.localdate())
    seen = monitoring.overview(scheme, start, end)

    assert seen.read_from == list(scheme.app_managers) and seen.unreachable == []
    assert seen.requesters[WONINGCORPORATIE] == counts(
        verzoekenBeantwoord=2,
        toestemmingen=2,
        intrekkingen=1,
        ophalingen=1,
        ophalingenGeweigerd=2,
        ophalingenNaIntrekking=1,
    )
    assert seen.requesters[SPAARBANK] == counts(verzoekenBeantwoord=2, toestemmingen=1, weigeringen=1)
    assert [(a.requester, a.code) for a in seen.alerts] == [(WONINGCORPORATIE, monitoring.FETCH_AFTER_WITHDRAWAL)]


def test_an_app_manager_that_answers_nonsense_is_named_not_trusted(demo_world, monkeypatch):
    scheme = asyncio.run(scheme_client.current())
    start, end = monitoring.period(timezone.localdate())
    original = monitoring.read

    def nonsense(endpoint, start, end):
        original(endpoint, start, end)
        return figures.parse({"appbeheerder": "1" * 20, "vanaf": "2026-01-01", "tot": "2026-01-02", "vragers": []})

    monkeypatch.setattr(monitoring, "read", nonsense)
    seen = monitoring.overview(scheme, start, end)
    assert seen.unreachable == list(scheme.app_managers) and seen.requesters == {}
    with pytest.raises(httpx.HTTPError):
        original("http://127.0.0.1:9/appbeheerder/api/v1", start, end)


MONITORING = "/stelsel/beheer/toezicht/"


def test_the_monitoring_page_shows_each_requester_and_what_stands_out_to_the_operator_only(
    demo_world,
    client,
    two_citizen_bsns,  # noqa: F811
):
    anna, bram = (citizen(bsn) for bsn in two_citizen_bsns)
    consent, _ = given(anna, WONINGCORPORATIE)
    given(bram, SPAARBANK)
    assert consents.withdraw(anna.pseudonym, consent.pk)
    for _ in range(2):  # the second after the first refusal told it
        assert refused(fetch(consent.pk), 403, "consent_withdrawn")
    assert client.get(MONITORING).status_code == 302  # not logged in: the login first
    log_in(client, "olga", make_operator("olga"))
    page = client.get(MONITORING).content.decode()
    assert "Woningcorporatie Thuisbasis" in page and "Spaarbank Voorbeeld" in page
    assert "probeerde 1 keer gegevens op te halen terwijl zij al wist dat de inwoner de toestemming" in page
    assert anna.pseudonym not in page and two_citizen_bsns[0] not in page
    assert client.post(MONITORING).status_code == 405
    client.cookies["django_language"] = "en"
    assert "when it already knew the citizen had withdrawn" in client.get(MONITORING).content.decode()


@pytest.mark.django_db(transaction=True)
def test_reading_an_app_manager_gives_the_database_connection_back_before_it_waits(demo_world):
    """The app manager may be this very process: ten monitoring pages each holding one took the pool (audit)."""
    scheme = asyncio.run(scheme_client.current())
    start, end = monitoring.period(timezone.localdate())
    (endpoint,) = (manager.endpoints["fetch"] for manager in scheme.app_managers.values())
    held: list[bool] = []

    def page() -> None:
        try:
            monitoring.read(endpoint, start, end)  # signs with the operator's key: read from the database
            held.append(connection.connection is not None)
        finally:
            connections.close_all()

    thread = threading.Thread(target=page)
    thread.start()
    thread.join(30)
    assert held == [False]
