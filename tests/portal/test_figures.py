"""Facts and figures: the app manager's counts per requester, and the public page /cijfers/ (counts of 10 or more)."""

import asyncio
import dataclasses
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from blauweknop import keystore
from blauweknop.portal import consents, figures, figures_api
from blauweknop.portal.models import CitizenEvent, ConsentEvent
from blauweknop.protocol import client_assertion
from blauweknop.protocol import figures as counts
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from tests.portal.consent_world import SPAARBANK, WONINGCORPORATIE, asked, citizen, given

BSN, OTHER_BSN = "123456782", "111222333"
BELASTING = "00000001003214345000"  # a national body (rijk)
GEMEENTE = "00000001823288444000"  # a municipality


def period() -> tuple:
    today = timezone.localdate()
    return today - timedelta(days=29), today + timedelta(days=1)


def test_a_count_below_ten_is_hidden_and_ten_is_shown():
    assert figures.cell(9).hidden and figures.cell(9).shown is None
    assert not figures.cell(10).hidden and figures.cell(10).shown == 10
    assert figures.cell(0).hidden


def test_a_total_that_would_give_away_a_small_hidden_count_is_hidden_too():
    assert figures.total([figures.cell(12), figures.cell(3)]).hidden  # 15 - 12 would show the 3
    assert not figures.total([figures.cell(12), figures.cell(10)]).hidden
    assert not figures.total([figures.cell(12), figures.cell(6), figures.cell(5)]).hidden  # 11 hidden: a group
    assert figures.total([figures.cell(4), figures.cell(5)]).hidden  # 9 in all


@pytest.mark.django_db(transaction=True)
def test_the_app_manager_counts_per_requester_what_two_citizens_decided_and_what_was_fetched():
    anna, bram = citizen(BSN), citizen(OTHER_BSN)
    annas, _ = given(anna, WONINGCORPORATIE)
    brams, _ = given(bram, WONINGCORPORATIE)
    consents.refuse(bram, asked(SPAARBANK), requester_name="Spaarbank Voorbeeld", request_object="eyJ.x")
    given(anna, SPAARBANK)
    detail = {"houders": {"inkomen": [BELASTING]}, "velden": {"inkomen": ["belastingjaar"]}}
    consents.delivered(annas, detail)  # the answer
    consents.delivered(annas, detail)  # a standing fetch
    consents.delivered(brams, detail)  # the answer
    consents.fetch_refused(brams, "holders_unavailable")  # refused before any withdrawal
    assert consents.withdraw(bram.pseudonym, brams.pk)
    consents.fetch_refused(brams, "consent_withdrawn")  # before it could know: its notice had not reached it
    consents.fetch_refused(brams, "consent_withdrawn")  # after that refusal told it: this one counts

    found = figures.requester_figures(*period())

    assert found.requesters[WONINGCORPORATIE] == {
        counts.ANSWERED: 2,
        counts.APPROVALS: 2,
        counts.REFUSALS: 0,
        counts.WITHDRAWALS: 1,
        counts.FETCHES: 1,
        counts.FETCHES_REFUSED: 3,
        counts.FETCHES_AFTER_WITHDRAWAL: 1,
    }
    assert found.requesters[SPAARBANK][counts.ANSWERED] == 2 and found.requesters[SPAARBANK][counts.REFUSALS] == 1
    start, _end = period()
    earlier = figures.requester_figures(start - timedelta(days=30), start)
    assert earlier.requesters == {}  # nothing happened before the period


COUNTS = "/appbeheerder/api/v1/cijfers"


def signed_by(key, client_id: str = client_assertion.OPERATOR, audience: str | None = None) -> dict:
    """The header of a request to the counts API with an assertion of ``client_id`` signed with ``key``."""
    scheme = asyncio.run(scheme_client.current())
    token = client_assertion.sign(key, client_id=client_id, audience=audience or figures_api.audience(scheme))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def problem(response, status: int, code: str) -> bool:
    return (
        response.status_code == status
        and response["Content-Type"].startswith("application/problem+json")
        and response.json()["code"] == code
    )


@pytest.mark.usefixtures("demo_world")
def test_the_counts_api_answers_the_operator_only_counts_only_and_refuses_a_bad_period(client):
    given(citizen(BSN), WONINGCORPORATIE)
    operator = publication.operator_key()
    assert problem(client.get(COUNTS), 401, "invalid_client")  # anyone: not even the counts of today
    assert problem(client.get(COUNTS, HTTP_AUTHORIZATION="Bearer eyJ.nonsense.x"), 401, "invalid_client")
    requester = keystore.signing_key(WONINGCORPORATIE)  # a participant's genuine assertion is no operator's
    assert problem(client.get(COUNTS, **signed_by(requester, WONINGCORPORATIE)), 401, "invalid_client")
    stranger = SigningKey(generate_jwk())  # calls itself the operator, without its key
    assert problem(client.get(COUNTS, **signed_by(stranger)), 401, "invalid_client")
    elsewhere = signed_by(operator, audience="https://elders.example/appbeheerder/api/v1/cijfers")
    assert problem(client.get(COUNTS, **elsewhere), 401, "aud_mismatch")

    headers = signed_by(operator)
    response = client.get(COUNTS, **headers)
    assert response.status_code == 200 and response["API-Version"]
    parsed = counts.parse(response.json())
    assert parsed.requesters[WONINGCORPORATIE][counts.APPROVALS] == 1
    assert (parsed.end - parsed.start).days == 30
    text = response.content.decode()
    assert BSN not in text and citizen(BSN).pseudonym not in text  # no personal data, no pseudonyms
    assert problem(client.get(COUNTS, **headers), 401, "assertion_replayed")
    for query in ("?vanaf=2026-02-01&tot=2026-01-01", "?vanaf=2020-01-01&tot=2026-01-01", "?vanaf=gisteren"):
        refused = client.get(COUNTS + query, **signed_by(operator))
        assert refused.status_code == 400 and refused["Content-Type"].startswith("application/problem+json")


@pytest.mark.usefixtures("demo_world")
def test_the_operator_asks_at_most_so_often_an_hour(client, monkeypatch):
    monkeypatch.setattr(figures_api, "MAX_PER_HOUR", 2)
    operator = publication.operator_key()
    assert [client.get(COUNTS, **signed_by(operator)).status_code for _ in range(2)] == [200, 200]
    assert problem(client.get(COUNTS, **signed_by(operator)), 429, "too_many_requests")


@pytest.mark.django_db(transaction=True)
def test_counting_again_within_minutes_comes_from_the_cache():
    start, end = period()
    cache.clear()
    figures.cached_requester_figures(start, end)
    given(citizen(BSN), WONINGCORPORATIE)
    assert figures.cached_requester_figures(start, end).requesters == {}  # counted a moment ago: not again
    cache.clear()
    assert figures.cached_requester_figures(start, end).requesters[WONINGCORPORATIE][counts.APPROVALS] == 1


def last_month() -> datetime:
    """A moment in the last whole month: inside the public page's period."""
    _start, end = figures.public_period(timezone.localdate())
    return figures.day_start(end - timedelta(days=10))


def downloads(holder_oin: str, n: int, at: datetime | None = None) -> None:
    CitizenEvent.objects.bulk_create(
        CitizenEvent(
            citizen=f"p{i}",
            holder_oin=holder_oin,
            document_type="inkomen",
            activity="gedownload",
            format="json",
            at=at or last_month(),
        )
        for i in range(n)
    )


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (date(2026, 11, 30), (date(2025, 11, 1), date(2026, 11, 1))),
        (date(2026, 11, 1), (date(2025, 11, 1), date(2026, 11, 1))),
        (date(2026, 1, 15), (date(2025, 1, 1), date(2026, 1, 1))),
        (date(2026, 12, 31), (date(2025, 12, 1), date(2026, 12, 1))),
    ],
)
def test_the_public_period_is_the_last_twelve_whole_months(today, period):
    assert figures.public_period(today) == period


@pytest.mark.usefixtures("demo_world")
def test_the_public_page_shows_ten_and_says_fewer_than_ten_for_nine(client):
    downloads(BELASTING, 10)  # a national body: there are many
    downloads(WONINGCORPORATIE, 9)  # the only housing corporation: under "Andere organisaties"
    for bsn in (BSN, OTHER_BSN):
        given(citizen(bsn), WONINGCORPORATIE)  # Plus, at the housing corporation
    ConsentEvent.objects.update(at=last_month())
    page = client.get("/cijfers/").content.decode()
    rijk = page[page.index("Rijksoverheid") :]
    assert 'data-label="Basis: Kopieën gedownload">10</td>' in rijk.split("</tr>")[0]
    assert "Woningcorporaties" not in page and "Banken" not in page  # one organisation each: no row of their own
    other = page[page.index("Andere organisaties</th>") :].split("</tr>")[0]
    assert 'data-label="Basis: Kopieën gedownload">minder dan 10</td>' in other
    assert 'data-label="Plus: Gegevens gedeeld met toestemming">minder dan 10</td>' in other
    totals = page[page.index("Alle organisaties samen") :].split("</tr>")[0]
    assert ">minder dan 10</td>" in totals and ">19<" not in totals  # 19 - 10 would give the 9 away
    assert "minder dan 3 organisaties" in page and "hele maanden" in page
    client.cookies["django_language"] = "en"
    english = client.get("/cijfers/").content.decode()
    assert "fewer than 10" in english and "Other organisations" in english


@pytest.mark.usefixtures("demo_world")
def test_a_visit_after_one_more_use_today_shows_the_same_numbers():
    scheme = asyncio.run(scheme_client.current())
    today = timezone.localdate()
    downloads(BELASTING, 10)
    before = figures.public_table(scheme, today)
    downloads(BELASTING, 1, at=timezone.now())  # this month: not in a closed period yet
    cache.clear()
    assert figures.public_table(scheme, today) == before
    assert before.totals[0].shown == 10


@pytest.mark.usefixtures("demo_world")
def test_a_kind_with_fewer_than_three_organisations_counts_under_other_and_a_small_other_is_left_out():
    scheme = asyncio.run(scheme_client.current())
    grouped = figures.groups(scheme)
    assert grouped[BELASTING] == "rijk" and grouped[WONINGCORPORATIE] == grouped[SPAARBANK] == "overig"
    counted = {"downloads": Counter({BELASTING: 10, WONINGCORPORATIE: 12}), "shares": Counter({SPAARBANK: 11})}
    found = figures.table(counted, scheme)
    assert [kind for kind, _cells in found.rows] == ["rijk", "overig"]
    assert [c.shown for c in found.totals] == [22, None, None, 11]
    rijk = {oin: p for oin, p in scheme.organisations.items() if grouped[oin] == "rijk"}
    only_one_other = dataclasses.replace(scheme, organisations={**rijk, SPAARBANK: scheme.organisations[SPAARBANK]})
    found = figures.table(counted, only_one_other)  # the bank alone is "overig": its row would be the bank
    assert [kind for kind, _cells in found.rows] == ["rijk"]
    assert [c.shown for c in found.totals] == [10, None, None, None]  # nor does it hide in the totals


@pytest.mark.usefixtures("demo_world")
def test_the_home_page_links_to_the_figures(client):
    assert 'href="/cijfers/"' in client.get("/").content.decode()


@pytest.mark.usefixtures("demo_world")
def test_the_public_page_counts_nothing_on_a_get_it_writes_nothing_of_its_own(client):
    before = ConsentEvent.objects.count(), CitizenEvent.objects.count()
    assert client.post("/cijfers/").status_code == 405
    assert client.get("/cijfers/").status_code == 200
    assert (ConsentEvent.objects.count(), CitizenEvent.objects.count()) == before
