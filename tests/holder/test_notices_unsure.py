"""A decision reaches the citizen also when the portal lost the holder's answer to the request: the portal kept its
ticket under a temporary reference made from the verzoeksleutel, and the holder's notice names the request by that key
too, so the ticket gets its kenmerk and the citizen one mail, without ever opening Mijn correctieverzoeken."""

from __future__ import annotations

import json

import pytest

from blauweknop.conformance.probe import Probe
from blauweknop.holder import corrections, notices
from blauweknop.portal.corrections import request_key, unsure_reference
from blauweknop.portal.models import CorrectionTicket, DemoInboxMessage
from tests.holder.test_notices import BELASTING, GEMEENTE, INBOX, REASON, asked, citizens, deliver_mail, pending


@pytest.fixture
def world(demo_world, settings):
    settings.EMAIL_BACKEND = INBOX
    return demo_world


def test_a_decision_names_the_ticket_kept_without_kenmerk_and_mails_once(world, monkeypatch):
    [at_tax_office] = citizens(BELASTING, 1)
    [at_municipality] = citizens(GEMEENTE, 1)
    keys = request_key("formulier-een"), request_key("formulier-twee")
    lost = [
        asked(BELASTING, at_tax_office, email="an@example.nl", key=keys[0]),
        asked(GEMEENTE, at_municipality, email="bo@example.nl", key=keys[1]),
    ]
    for request in lost:
        corrections.reject(request, "medewerker", REASON)
    sent = []
    real = Probe.request
    monkeypatch.setattr(Probe, "request", lambda self, *a, **kw: sent.append(kw["json"]) or real(self, *a, **kw))

    assert notices.tell_app_managers.call() == 2  # without the key in the notice: 0, each a final 404
    deliver_mail()

    assert sorted(body["verzoeksleutel"] for body in sent) == sorted(keys)
    for request, key in zip(lost, keys, strict=True):
        assert not pending(request)
        ticket = CorrectionTicket.objects.get(holder_oin=request.holder_id, reference=request.reference)
        assert ticket.news_at is not None and ticket.told_at is not None and ticket.email == ""
        assert not CorrectionTicket.objects.filter(reference=unsure_reference(key)).exists()
    assert sorted(DemoInboxMessage.objects.values_list("to", flat=True)) == ["an@example.nl", "bo@example.nl"]

    assert notices.tell_app_managers.call() == 0
    deliver_mail()
    assert DemoInboxMessage.objects.count() == 2


def test_a_holder_cannot_name_another_holders_ticket_by_its_key(world):
    [at_tax_office] = citizens(BELASTING, 1)
    [at_municipality] = citizens(GEMEENTE, 1)
    key = request_key("formulier")
    theirs = asked(BELASTING, at_tax_office, email="an@example.nl", key=key)
    same_key = asked(GEMEENTE, at_municipality, key=key)
    CorrectionTicket.objects.filter(holder_oin=GEMEENTE).delete()  # this portal kept no ticket for it
    corrections.reject(same_key, "medewerker", REASON)

    assert notices.tell_app_managers.call() == 0  # 404: final
    assert not pending(same_key)
    assert CorrectionTicket.objects.get(holder_oin=BELASTING).reference == unsure_reference(key)
    assert not CorrectionTicket.objects.filter(reference=same_key.reference).exists()

    corrections.reject(theirs, "medewerker", REASON)
    assert notices.tell_app_managers.call() == 1
    deliver_mail()
    assert CorrectionTicket.objects.get(holder_oin=BELASTING).reference == theirs.reference
    assert DemoInboxMessage.objects.count() == 1


def test_a_request_without_a_key_is_told_by_its_kenmerk_only(world, monkeypatch):
    [bsn] = citizens(BELASTING, 1)
    request = asked(BELASTING, bsn)
    corrections.reject(request, "medewerker", REASON)
    sent = []
    real = Probe.request
    monkeypatch.setattr(Probe, "request", lambda self, *a, **kw: sent.append(kw["json"]) or real(self, *a, **kw))
    assert notices.tell_app_managers.call() == 1
    assert "verzoeksleutel" not in json.dumps(sent)
