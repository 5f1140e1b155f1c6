"""A notice the portal refuses for good is dropped with a warning; one it cannot take now is tried again later.

Review finding (issue 12): the portal had no ticket for one request (its answer to the citizen timed out after the
holder stored it, or the portal crashed before keeping the ticket) and answered its notice 404 every time; the
holder stopped at the first refused notice and began again from the oldest request each run, so no later citizen
of that portal was ever told. Now a 404 (and any other 4xx but 429) is final; only no answer, 429 and 5xx are tried
again, each request on its own clock (1, 2, 4 … minutes, at most an hour, for about three days).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from blauweknop import keystore, signing
from blauweknop.conformance.probe import Probe
from blauweknop.holder import corrections, notices
from blauweknop.holder.models import CorrectionRequest
from blauweknop.portal import notices_api
from blauweknop.portal.models import CorrectionTicket
from tests.holder.test_notices import BELASTING, GEMEENTE, INBOX, REASON, asked, citizens, pending


@pytest.fixture
def world(demo_world, settings):
    settings.EMAIL_BACKEND = INBOX
    return demo_world


def decided(holder_oin: str, count: int = 2) -> list[CorrectionRequest]:
    """``count`` rejected requests at ``holder_oin``, oldest first, each with news for the portal."""
    requests = [asked(holder_oin, bsn) for bsn in citizens(holder_oin, count)]
    for request in requests:
        corrections.reject(request, "medewerker", REASON)
    return requests


def stored(request: CorrectionRequest) -> CorrectionRequest:
    return CorrectionRequest.objects.get(pk=request.pk)


def due_now(*requests: CorrectionRequest) -> None:
    """Move these requests' next try to the past, as if their wait were over."""
    CorrectionRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        notice_next_try=timezone.now() - timedelta(seconds=1)
    )


def portal_answers(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    """The portal refuses every notice with ``status`` (after checking the holder's assertion)."""

    def refuse(holder_oin: str) -> None:
        raise notices_api.ApiProblem(status, "refused", "Refused in this test.")

    monkeypatch.setattr(notices_api, "within_limit", refuse)


def test_an_orphan_request_does_not_block_other_citizens_notices(world, caplog):
    orphan, other = decided(BELASTING)
    CorrectionTicket.objects.filter(reference=orphan.reference).delete()  # the portal never kept its ticket

    with caplog.at_level(logging.WARNING, logger="blauweknop.holder.notices"):
        assert notices.tell_pending() == 1

    assert not pending(other), "the other citizen's decision was never told: the orphan's 404 blocks the queue"
    assert not pending(orphan), "a 404 is final: the portal will never know this kenmerk"
    [warning] = [r for r in caplog.records if r.name == "blauweknop.holder.notices"]
    assert warning.levelno == logging.WARNING
    said = warning.getMessage()
    assert orphan.reference in said and BELASTING in said and orphan.app_manager_oin in said and "404" in said
    assert orphan.bsn not in caplog.text and other.bsn not in caplog.text
    assert notices.tell_pending() == 0  # nothing is left: the orphan is not tried again


@pytest.mark.parametrize("status", [400, 410, 422])
def test_any_other_refusal_is_final_too(world, monkeypatch, caplog, status):
    first, second = decided(GEMEENTE)
    portal_answers(monkeypatch, status)
    assert notices.tell_pending() == 0
    assert not pending(first) and not pending(second)  # both were tried: a refusal does not stop the run
    assert stored(first).notice_tries == 0
    assert f"HTTP {status}" in caplog.text and first.reference in caplog.text
    assert first.bsn not in caplog.text


@pytest.mark.parametrize("status", [401, 403, 429, 500, 502, 503])
def test_a_portal_that_cannot_take_a_notice_now_is_asked_again_later_per_request(world, monkeypatch, status):
    first, second = decided(BELASTING)
    started = timezone.now()
    with monkeypatch.context() as patched:
        portal_answers(patched, status)
        assert notices.tell_pending() == 0
        failed = stored(first)
        assert failed.notice_pending and failed.notice_tries == 1
        assert started + timedelta(minutes=1) <= failed.notice_next_try <= timezone.now() + timedelta(minutes=1)
        assert stored(second).notice_tries == 0  # the run stopped for this app manager at the first failure

        assert notices.tell_pending() == 0  # a minute later: the first waits, and does not block the second
        assert stored(first).notice_tries == 1 and stored(second).notice_tries == 1

        due_now(first)
        assert notices.tell_pending() == 0
        again = stored(first)
        assert again.notice_tries == 2
        assert timezone.now() + timedelta(minutes=1) < again.notice_next_try <= timezone.now() + timedelta(minutes=2)

    assert notices.tell_pending() == 0  # the portal is back, but neither is due yet
    due_now(first, second)
    assert notices.tell_pending() == 2
    for request in (first, second):
        told = stored(request)
        assert not told.notice_pending and told.notice_tries == 0 and told.notice_next_try is None


def test_no_answer_at_all_is_asked_again_later(world, monkeypatch):
    [request] = decided(GEMEENTE, 1)

    async def unreachable(self, method, url, what, **kwargs):
        raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(Probe, "_send", unreachable)
    assert notices.tell_pending() == 0
    assert pending(request) and stored(request).notice_tries == 1


def test_the_wait_doubles_up_to_an_hour():
    waits = [notices.backoff(tries) for tries in range(1, 10)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)]
    assert notices.backoff(30000) == timedelta(hours=1)


def test_after_three_days_of_failures_the_notice_is_given_up_with_an_error(world, monkeypatch, caplog):
    last_kept, given_up = decided(BELASTING)
    # 1 + 2 + … + 32 minutes, then hourly: the 78th failure comes three days after the first
    CorrectionRequest.objects.filter(pk=last_kept.pk).update(notice_tries=76)
    CorrectionRequest.objects.filter(pk=given_up.pk).update(notice_tries=77)
    due_now(last_kept, given_up)
    portal_answers(monkeypatch, 503)

    assert notices.tell_pending() == 0
    assert pending(last_kept) and stored(last_kept).notice_tries == 77
    assert stored(given_up).notice_tries == 77  # not tried: the first failure stopped the run
    caplog.clear()
    assert notices.tell_pending() == 0  # the first waits its hour; the second is tried, and given up
    assert not pending(given_up)
    assert pending(last_kept) and stored(last_kept).notice_tries == 77
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "blauweknop.holder.notices"]
    assert given_up.reference in error.getMessage() and BELASTING in error.getMessage()
    assert given_up.bsn not in caplog.text
    assert stored(given_up).notice_tries == 0  # news that comes later starts afresh


def test_a_holder_without_its_key_waits_and_other_holders_are_told(world, monkeypatch):
    [keyless] = decided(BELASTING, 1)
    [other] = decided(GEMEENTE, 1)  # later, to the same portal
    real = signing.key_in

    def no_key_for_the_tax_office(scheme, oin):
        if oin == BELASTING:
            raise keystore.MissingKey(oin, "kid-1")
        return real(scheme, oin)

    with monkeypatch.context() as patched:
        patched.setattr(signing, "key_in", no_key_for_the_tax_office)
        assert notices.tell_pending() == 1
    assert not pending(other)
    assert pending(keyless) and stored(keyless).notice_tries == 1

    due_now(keyless)  # the key is added; its next try comes
    assert notices.tell_pending() == 1
    assert not pending(keyless)
