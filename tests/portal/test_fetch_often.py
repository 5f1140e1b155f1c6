"""Standing access is bounded in how often: a requester polling a consent cannot follow the citizen (review A9).

Each standing fetch is a new copy at every holder and a line in the citizen's records; a requester may fetch
at most ``FETCHES_PER_DAY`` times in 24 hours under one consent, also when it sends many at once.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from blauweknop.portal import fetch_api
from blauweknop.portal.models import ConsentEvent
from tests.portal.consent_world import citizen, given
from tests.portal.test_fetch_api import events, fetch, refused


@pytest.fixture
def two_standing(two_citizen_bsns, monkeypatch):
    """Two citizens' standing consents for the housing corporation, with a limit of two fetches a day."""
    monkeypatch.setattr(fetch_api, "FETCHES_PER_DAY", 2)
    return [given(citizen(bsn))[0] for bsn in two_citizen_bsns]


def delivered(consent) -> int:
    return ConsentEvent.objects.filter(consent=consent, kind=ConsentEvent.Kind.DELIVERED).count()


def test_past_the_daily_limit_a_fetch_is_refused_and_leaves_no_trace(two_standing):
    first, second = two_standing
    assert [fetch(first.pk).status_code for _ in range(2)] == [200, 200]
    before = events(first)
    answer = fetch(first.pk)
    assert refused(answer, 429, "too_many_fetches"), answer.text
    assert "24 hours" in answer.json()["detail"]
    assert events(first) == before  # polling does not grow the citizen's record
    assert fetch(second.pk).status_code == 200  # the other citizen's consent has its own count


def test_a_day_later_the_requester_may_fetch_again(two_standing):
    first, _ = two_standing
    assert [fetch(first.pk).status_code for _ in range(2)] == [200, 200]
    assert fetch(first.pk).status_code == 429
    ConsentEvent.objects.filter(consent=first).update(at=timezone.now() - timedelta(days=1, minutes=1))
    assert fetch(first.pk).status_code == 200


def test_many_fetches_sent_at_once_hand_over_no_more_than_the_limit(two_standing):
    first, _ = two_standing
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(response.status_code for response in pool.map(lambda _: fetch(first.pk), range(6)))
    assert statuses.count(200) <= 2 and set(statuses) <= {200, 429}, statuses
    assert delivered(first) == statuses.count(200)
