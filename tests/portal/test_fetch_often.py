"""Standing access is bounded in how often: a requester polling a consent cannot follow the citizen (review A9).

Each standing fetch is a new copy at every holder and a line in the citizen's records; a requester may fetch
at most ``FETCHES_PER_DAY`` times in 24 hours under one consent, also when it sends many at once.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from blauweknop.audit.models import AccessRecord
from blauweknop.display import SHARED
from blauweknop.portal import consents, fetch_api
from blauweknop.portal.models import Consent, ConsentEvent
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


def shared_copies(consent: Consent) -> int:
    """The holders' records of copies issued for shares under ``consent``: each fetch that asked them."""
    return AccessRecord.objects.filter(consent=consent.pk, activity=SHARED).count()


def test_many_fetches_sent_at_once_ask_the_holders_no_more_often_than_they_hand_over(two_standing):
    """Second attack review F3: 30 fetches at once each asked every holder, though only one was handed over."""
    first, _ = two_standing
    before = shared_copies(first)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: fetch(first.pk), range(6)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) <= 2 and set(statuses) <= {200, 429}, statuses
    assert delivered(first) == statuses.count(200)
    assert shared_copies(first) - before == statuses.count(200)  # no copy made for a fetch that was refused
    busy = [a.json()["code"] for a in answers if a.status_code == 429]
    assert set(busy) <= {"fetch_in_progress", "too_many_fetches"}
    assert fetch(first.pk).status_code in (200, 429)  # the slot is free again once the answers are in


def test_a_requester_hammering_a_withdrawn_consent_fills_no_more_than_a_days_share_of_its_record(
    two_standing, two_citizen_bsns
):
    """Second attack review F2: 400 refused fetches were 400 events on the citizen's consent page (190 kB)."""
    first, second = two_standing
    assert consents.withdraw(citizen(two_citizen_bsns[0]).pseudonym, first.pk)
    for _ in range(consents.REFUSALS_RECORDED_PER_DAY + 5):
        assert refused(fetch(first.pk), 403, "consent_withdrawn")
    kinds = [kind for kind, _detail in events(first)]
    assert kinds.count(ConsentEvent.Kind.FETCH_REFUSED) == consents.REFUSALS_RECORDED_PER_DAY
    assert fetch(second.pk).status_code == 200  # another citizen's consent is not held up
