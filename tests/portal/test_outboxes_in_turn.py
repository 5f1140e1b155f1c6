"""The portal's outboxes reach every receiver in turn, and a short distrust is not the end (attack review 2, F5, F7).

F5: a run of the worker has a time limit and a hanging receiver uses a whole answer's time. Before, receivers were
told in OIN order, and once the run was used up every receiver still queued was charged a failed try without
being asked: a few hanging holders (or requesters) starved the healthy ones after them in every run, until their
notices were given up after three days. Now an item not asked is no failure, a receiver that failed goes behind
the others, and each receiver gets a share of the run. F7: a 401 or 403 from the receiver (the portal suspended
for an hour, a scheme document or clock a little behind) was final; now it is tried again, within the same
three days. Deadlines are scaled down (1 s for an answer instead of 10 s) so the tests stay short.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from blauweknop.api import ApiProblem
from blauweknop.holder import refused_fetches
from blauweknop.portal import consents, end_notices, notices, refusal_notices
from blauweknop.portal.models import EndNotice, RefusalNotice
from blauweknop.pseudonyms import pseudonym
from blauweknop.requester import endings
from tests.portal.test_fetch_api import refused
from tests.portal.test_refused_fetch_records import counsellor_fetches, delivered_by, withdrawn  # noqa: F401
from tests.requester.test_ended_consents import two  # noqa: F401
from tests.requester.world import BANK, WONING

pytestmark = pytest.mark.django_db(transaction=True)

HANG = 3.0  # seconds a hanging receiver keeps the connection open: longer than the scaled answer deadline


@pytest.fixture
def released() -> Iterator[threading.Event]:
    """Set at the end of the test: the live server's hanging threads then stop waiting."""
    event = threading.Event()
    yield event
    event.set()


def due_again(model: type[RefusalNotice] | type[EndNotice]) -> None:
    """Every waiting item of ``model`` is due now, as if its wait were over."""
    model.objects.filter(done_at__isnull=True).update(next_try=timezone.now() - timedelta(seconds=1))


def test_hanging_holders_do_not_starve_the_others(withdrawn, monkeypatch, released):  # noqa: F811
    (_, consent), _ = withdrawn
    holders = delivered_by(consent)
    assert len(holders) >= 5
    hanging = set(holders[:3])  # the lowest OINs, which the old code told first in every run
    record, asked = refused_fetches.record, []

    def tarpit(holder, *args):
        asked.append(holder.oin)
        if holder.oin in hanging:
            released.wait(HANG)  # a holder behind a firewall that drops packets: the whole answer deadline
        return record(holder, *args)

    monkeypatch.setattr(refused_fetches, "record", tarpit)
    monkeypatch.setattr(notices, "ANSWER_DEADLINE", 1.0)
    monkeypatch.setattr(notices, "RUN_DEADLINE", 2.5)
    assert refused(counsellor_fetches(consent), 403, "consent_withdrawn")

    def tries() -> dict[str, int]:
        return dict(RefusalNotice.objects.filter(consent=consent).values_list("holder_oin", "tries"))

    refusal_notices.tell_pending()
    assert all(tries()[oin] == 0 for oin in holders if oin not in asked), "not asked, yet charged a failed try"
    for _ in range(2):  # the hanging ones are due again at once: they are told after the others now
        due_again(RefusalNotice)
        refusal_notices.tell_pending()
    healthy = [oin for oin in holders if oin not in hanging]
    told = RefusalNotice.objects.filter(consent=consent, done_at__isnull=False)
    assert sorted(told.values_list("holder_oin", flat=True)) == healthy
    assert all(tries()[oin] == 0 for oin in healthy)
    assert all(tries()[oin] >= 1 for oin in hanging if oin in asked)


def test_a_hanging_requester_does_not_starve_the_other(two, monkeypatch, released):  # noqa: F811
    (first, woning), (second, bank) = two
    record, asked = endings.record, []

    def tarpit(tenant, *args, **kwargs):
        asked.append(tenant.oin)
        if tenant.oin == WONING:
            released.wait(HANG)
        return record(tenant, *args, **kwargs)

    monkeypatch.setattr(endings, "record", tarpit)
    monkeypatch.setattr(notices, "ANSWER_DEADLINE", 1.0)
    monkeypatch.setattr(notices, "RUN_DEADLINE", 1.5)  # room for one hanging answer, not two
    assert consents.withdraw(pseudonym(first), woning["toestemming"])  # queued first: told first on the first run
    assert consents.withdraw(pseudonym(second), bank["toestemming"])

    assert end_notices.tell_pending() == 0
    assert asked == [WONING]
    assert EndNotice.objects.get(requester_oin=BANK).tries == 0  # not asked: no failed try
    due_again(EndNotice)
    assert end_notices.tell_pending() == 1  # the bank first now
    assert asked[1] == BANK
    assert EndNotice.objects.get(requester_oin=BANK).told_at is not None
    assert EndNotice.objects.get(requester_oin=WONING).done_at is None


@pytest.mark.parametrize(
    ("status", "code"), [(403, "not_certified"), (401, "assertion_replayed"), (401, "invalid_client")]
)
def test_a_holder_that_distrusts_the_portal_for_a_moment_is_told_later(withdrawn, monkeypatch, status, code):  # noqa: F811
    (_, consent), _ = withdrawn
    holders = delivered_by(consent)
    distrusting, record = holders[0], refused_fetches.record

    def for_a_moment(holder, *args):
        if holder.oin == distrusting:
            raise ApiProblem(status, code, "Not trusted for a moment in this test.")
        return record(holder, *args)

    monkeypatch.setattr(refused_fetches, "record", for_a_moment)
    assert refused(counsellor_fetches(consent), 403, "consent_withdrawn")
    assert refusal_notices.tell_pending() == len(holders) - 1
    waiting = RefusalNotice.objects.get(holder_oin=distrusting)
    assert waiting.done_at is None and waiting.tries == 1  # not dropped: tried again within the three days

    monkeypatch.setattr(refused_fetches, "record", record)
    due_again(RefusalNotice)
    assert refusal_notices.tell_pending() == 1


@pytest.mark.parametrize(("status", "code"), [(403, "not_certified"), (401, "expired")])
def test_a_requester_that_distrusts_the_portal_for_a_moment_is_told_later(two, monkeypatch, status, code):  # noqa: F811
    (first, woning), _ = two
    record = endings.record

    def for_a_moment(*args, **kwargs):
        raise ApiProblem(status, code, "Not trusted for a moment in this test.")

    monkeypatch.setattr(endings, "record", for_a_moment)
    assert consents.withdraw(pseudonym(first), woning["toestemming"])
    assert end_notices.tell_pending() == 0
    waiting = EndNotice.objects.get()
    assert waiting.done_at is None and waiting.tries == 1

    monkeypatch.setattr(endings, "record", record)
    due_again(EndNotice)
    assert end_notices.tell_pending() == 1


def test_a_final_refusal_is_still_final(two, monkeypatch):  # noqa: F811
    (first, woning), _ = two

    def unknown(*args, **kwargs):
        raise endings.UNKNOWN

    monkeypatch.setattr(endings, "record", unknown)
    assert consents.withdraw(pseudonym(first), woning["toestemming"])
    assert end_notices.tell_pending() == 0
    dropped = EndNotice.objects.get()
    assert dropped.done_at is not None and dropped.told_at is None and dropped.tries == 0
