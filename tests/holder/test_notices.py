"""A decision at the holder reaches the citizen who asked: the holder's worker tells the portal over HTTP, the portal
marks the ticket and mails "there is news, log in", once, with no personal data; and the address is erased."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from blauweknop.conformance.probe import Probe
from blauweknop.holder import corrections, notices
from blauweknop.holder.models import CorrectionRequest, SourceRecord, Tenant
from blauweknop.portal import notices_api
from blauweknop.portal.corrections import unsure_reference
from blauweknop.portal.models import CorrectionTicket, DemoInboxMessage, UsedClientAssertion
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client
from tests.concurrency import at_once

BELASTING = "00000001003214345000"
GEMEENTE = "00000001823288444000"
INBOX = "blauweknop.portal.inbox.DemoInboxBackend"
PROPOSED = "31.415,92"
REASON = "Het bedrag klopt volgens onze administratie."


@pytest.fixture
def world(demo_world, settings):
    """The demo world, with mail into the demo inbox (pytest-django sets Django's test backend)."""
    settings.EMAIL_BACKEND = INBOX
    return demo_world


def citizens(holder_oin: str, count: int = 2) -> list[str]:
    """``count`` demo citizens that ``holder_oin`` holds data about."""
    found = sorted(set(SourceRecord.objects.filter(holder_oin=holder_oin).values_list("bsn", flat=True)))[:count]
    assert len(found) == count
    return found


def texts(data: object) -> list[str]:
    """Every value in a document, as text (the parts of a name, an address, amounts)."""
    if isinstance(data, dict):
        return [text for value in data.values() for text in texts(value)]
    if isinstance(data, list):
        return [text for value in data for text in texts(value)]
    return [str(data)] if data is not None and len(str(data)) > 2 else []


def asked(holder_oin: str, bsn: str, email: str = "", key: str = "") -> CorrectionRequest:
    """A correction request at ``holder_oin`` about the first field of a document, and the portal's ticket for it.

    With a ``key`` (verzoeksleutel) the portal's answer was lost: its ticket has only the key's temporary reference.
    """
    tenant = Tenant.objects.get_or_create(oin=holder_oin, defaults={"slug": holder_oin, "issuer_url": holder_oin})[0]
    record = SourceRecord.objects.filter(holder_oin=holder_oin, bsn=bsn).order_by("document_type").first()
    path = next(key for key, value in record.data.items() if isinstance(value, str | int))
    now = timezone.now()
    request = corrections._store(
        CorrectionRequest(
            holder=tenant,
            bsn=bsn,
            subject=pseudonym(bsn),
            app_manager_oin=settings.PORTAL_OIN,
            document_type=record.document_type,
            path=path,
            current_value=record.data[path],
            proposed_value=PROPOSED,
            explanation="Mijn gegevens zijn anders.",
            received_at=now,
            deadline=corrections.deadline_of(now),
            request_key=key,
        )
    )
    reference = unsure_reference(key) if key else request.reference
    CorrectionTicket.objects.create(subject=pseudonym(bsn), holder_oin=holder_oin, reference=reference, email=email)
    return request


def deliver_mail() -> None:
    """Run the tasks the portal queued (the mail), as the worker would."""
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO(), stderr=io.StringIO()
    )


def ticket(request: CorrectionRequest) -> CorrectionTicket:
    return CorrectionTicket.objects.get(holder_oin=request.holder_id, reference=request.reference)


def pending(request: CorrectionRequest) -> bool:
    return CorrectionRequest.objects.get(pk=request.pk).notice_pending


def test_a_decision_mails_the_citizen_who_asked_once_without_personal_data(world):
    asker, quiet = citizens(GEMEENTE)  # the municipality holds names and addresses
    theirs = asked(GEMEENTE, asker, email="jan.jansen@example.nl")
    other = asked(GEMEENTE, quiet)
    corrections.reject(theirs, "medewerker", REASON)
    corrections.reject(other, "medewerker", REASON)

    assert notices.tell_app_managers.call() == 2
    deliver_mail()

    assert not pending(theirs) and not pending(other)
    told, not_asked = ticket(theirs), ticket(other)
    assert told.news_at is not None and told.told_at is not None and told.email == ""
    assert not_asked.news_at is not None and not_asked.told_at is None
    [mail] = DemoInboxMessage.objects.all()
    assert mail.to == "jan.jansen@example.nl"
    assert f"{settings.BASE_URL}/correctieverzoeken/" in mail.body
    assert "Er is nieuws over uw verzoek om gegevens te verbeteren." in mail.body
    assert "There is news about your request" in mail.body
    personal = [asker, theirs.reference, theirs.path, PROPOSED, REASON]
    for record in SourceRecord.objects.filter(holder_oin=GEMEENTE, bsn=asker):
        personal += texts(record.data)
    assert len(personal) > 8
    text = mail.subject + mail.body
    assert [value for value in personal if value in text] == []

    assert notices.tell_app_managers.call() == 0  # nothing left to tell
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 1


def test_a_decision_after_a_longer_term_is_mailed_again(world):
    [bsn] = citizens(BELASTING, 1)
    request = asked(BELASTING, bsn, email="an@example.nl")
    corrections.extend(request, "medewerker", "We wachten op een stuk van de werkgever.", 1)
    assert notices.tell_app_managers.call() == 1
    deliver_mail()
    assert ticket(request).email == "an@example.nl"  # kept: the decision is still to come
    corrections.reject(request, "medewerker", REASON)
    assert notices.tell_app_managers.call() == 1
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 2
    assert ticket(request).email == ""


def test_the_app_manager_down_keeps_the_notice_for_the_next_run(world, monkeypatch):
    [bsn] = citizens(GEMEENTE, 1)
    request = asked(GEMEENTE, bsn, email="piet@example.nl")
    corrections.reject(request, "medewerker", REASON)

    def down(holder_oin):
        raise notices_api.ApiProblem(503, "unavailable", "Down for maintenance.")

    with monkeypatch.context() as patched:
        patched.setattr(notices_api, "within_limit", down)
        assert notices.tell_app_managers.call() == 0
    assert pending(request) and ticket(request).news_at is None
    assert notices.tell_app_managers.call() == 0  # it waits a minute before the next try
    CorrectionRequest.objects.filter(pk=request.pk).update(notice_next_try=timezone.now())  # a minute later

    assert notices.tell_app_managers.call() == 1
    deliver_mail()
    assert not pending(request) and ticket(request).email == ""
    assert DemoInboxMessage.objects.count() == 1


def test_an_app_manager_the_scheme_does_not_list_is_not_told_and_the_notice_waits(world, caplog):
    [bsn] = citizens(BELASTING, 1)
    request = asked(BELASTING, bsn)
    CorrectionRequest.objects.filter(pk=request.pk).update(app_manager_oin="00000009999999999000")
    corrections.reject(request, "medewerker", REASON)
    assert notices.tell_app_managers.call() == 0
    assert pending(request)
    assert "is not certified in the scheme" in caplog.text


def test_two_runs_at_once_tell_each_request_once(world, monkeypatch):
    requests = [asked(BELASTING, bsn) for bsn in citizens(BELASTING)]
    for request in requests:
        corrections.reject(request, "medewerker", REASON)
    real = Probe.request

    def slow(self, *args, **kwargs):
        time.sleep(0.3)  # both runs have read the list before either has told anyone
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Probe, "request", slow)
    assert scheme_client.in_hand() is not None  # both runs find it in hand: neither waits on the other's fetch
    results, failures = at_once(notices.tell_pending)
    assert failures == []
    assert sum(results) == 2
    assert UsedClientAssertion.objects.count() == 2  # one notice per request reached the portal
    assert not any(pending(request) for request in requests)


def test_news_that_comes_while_the_portal_is_told_is_told_on_the_next_run(world, monkeypatch):
    [bsn] = citizens(BELASTING, 1)
    request = asked(BELASTING, bsn)
    corrections.extend(request, "medewerker", "We wachten op een stuk.", 2)
    real = Probe.request

    def decided_meanwhile(self, *args, **kwargs):
        answer = real(self, *args, **kwargs)
        CorrectionRequest.objects.filter(pk=request.pk).update(
            state=CorrectionRequest.State.REJECTED, decided_at=timezone.now() + timedelta(seconds=1)
        )
        return answer

    with monkeypatch.context() as patched:
        patched.setattr(Probe, "request", decided_meanwhile)
        notices.tell_pending()
    assert pending(request)
    sent = []
    monkeypatch.setattr(Probe, "request", lambda self, *a, **kw: sent.append(kw["json"]) or real(self, *a, **kw))
    assert notices.tell_pending() == 1
    assert [body["afgerond"] for body in sent] == [True]
    assert json.dumps(sent).count(bsn) == 0
