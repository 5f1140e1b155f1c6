"""Regression tests for the attacker review of the portal's correction form (issue 12, review findings 2 and 3).

Before the fix, an answer lost after the holder stored the request told the citizen 'niet verstuurd', kept no
ticket (so Mijn correctieverzoeken did not show it), and sending it again filed a second request.
"""

# ruff: noqa: F401, F811 - debtor and debtors are fixtures, imported to be used as such

import httpx
import pytest

from blauweknop.holder import corrections as holder_corrections
from blauweknop.holder.models import CorrectionRequest
from blauweknop.portal import corrections as portal_corrections
from blauweknop.portal.models import CorrectionTicket
from tests.portal.test_corrections import BELASTING, GEMEENTE, _open_form, _press, _send, _token, debtor, debtors

pytestmark = pytest.mark.django_db(transaction=True)
MAYBE = "Misschien is uw verzoek toch aangekomen"


def _answers(monkeypatch, *fates):
    """Make the portal's calls to the holder meet ``fates`` in turn: ``"lost"`` (the holder stores it, the answer
    does not come), ``"down"`` (it never gets there), ``"500"`` (the holder is not asked; a 500 comes back),
    ``"ok"`` (as it is). The calls made, by their verzoeksleutel."""
    real, fates, keys = portal_corrections._post, list(fates), []

    async def post(client, holder, tail, payload):
        if tail != "correctieverzoeken":
            return await real(client, holder, tail, payload)
        keys.append(payload["verzoeksleutel"])
        fate = fates.pop(0) if fates else "ok"
        if fate == "down":
            raise httpx.ConnectError("refused")
        if fate == "500":
            return portal_corrections.Answer(500, "application/problem+json", {"code": "internal"})
        answer = await real(client, holder, tail, payload)
        if fate == "lost":
            raise httpx.ReadTimeout("the answer did not come in time")
        return answer

    monkeypatch.setattr(portal_corrections, "_post", post)
    return keys


def test_a_lost_answer_is_sent_once_more_under_the_same_key_and_then_is_the_one_request(debtor, monkeypatch):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    keys = _answers(monkeypatch, "lost")
    response = _send(debtor, address, page, voorstel="€ 1,00")
    assert response.status_code == 302
    assert len(keys) == 2 and keys[0] == keys[1] == portal_corrections.request_key(_token(page))
    stored = CorrectionRequest.objects.get()
    ticket = CorrectionTicket.objects.get()
    assert (ticket.reference, ticket.holder_oin) == (stored.reference, BELASTING)
    assert response.headers["Location"].endswith(f"/{stored.reference}/")


def test_two_lost_answers_say_it_may_have_been_sent_and_the_list_finds_it(debtor, monkeypatch):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    keys = _answers(monkeypatch, "lost", "lost")
    response = _send(debtor, address, page, voorstel="€ 1,00", nieuws="on", email="burger@example.org")
    text = response.content.decode()
    assert response.status_code == 503 and MAYBE in text and "Mijn correctieverzoeken" in text
    assert "Uw verzoek is niet verstuurd" not in text
    assert len(keys) == 2 and CorrectionRequest.objects.count() == 1
    # The portal keeps a ticket all the same: the list asks this holder, and names the request.
    ticket = CorrectionTicket.objects.get()
    assert ticket.reference.startswith(portal_corrections.UNSURE) and ticket.email == "burger@example.org"
    listed = debtor.get("/correctieverzoeken/").content.decode()
    stored = CorrectionRequest.objects.get()
    assert stored.reference in listed
    assert CorrectionTicket.objects.get().reference == stored.reference  # notices find it now
    # The form came back with the same token: sent again, it is the same request, with its confirmation.
    assert _token(text) == _token(page)
    again = _send(debtor, address, text, voorstel="€ 1,00")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/{stored.reference}/")
    assert CorrectionRequest.objects.count() == 1 and CorrectionTicket.objects.count() == 1


def test_sent_again_before_the_list_was_looked_at_the_ticket_gets_its_kenmerk(debtor, monkeypatch):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    _answers(monkeypatch, "500", "lost")
    first = _send(debtor, address, page, voorstel="€ 2,00")
    assert first.status_code == 503 and MAYBE in first.content.decode()
    again = _send(debtor, address, first.content.decode(), voorstel="€ 2,00")
    stored = CorrectionRequest.objects.get()
    assert again.status_code == 302 and list(CorrectionTicket.objects.values_list("reference", flat=True)) == [
        stored.reference
    ]


def test_a_holder_that_cannot_be_reached_gets_nothing_and_the_portal_keeps_nothing(debtor, monkeypatch):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    keys = _answers(monkeypatch, "down", "down")
    response = _send(debtor, address, page)
    assert response.status_code == 400 and "Uw verzoek is niet verstuurd" in response.content.decode()
    assert len(keys) == 2 and not CorrectionRequest.objects.exists() and not CorrectionTicket.objects.exists()


def test_past_the_cap_the_form_says_what_to_do_next(debtor, monkeypatch):
    monkeypatch.setattr(holder_corrections, "MAX_OPEN", 1)
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    assert _send(debtor, address, page).status_code == 302
    address, page = _open_form(debtor, BELASTING, position=1)  # another item: not the same request again
    refused = _send(debtor, address, page, voorstel="€ 3,00")
    text = refused.content.decode()
    assert refused.status_code == 400 and "Daarom kunt u nu geen nieuw verzoek sturen" in text
    assert "Wacht tot Belastingkantoor Voorbeeldland over een van uw verzoeken beslist" in text
    assert CorrectionRequest.objects.count() == 1 and CorrectionTicket.objects.count() == 1
    # Another holder still takes one.
    _press(debtor, GEMEENTE)
    address, page = _open_form(debtor, GEMEENTE)
    assert _send(debtor, address, page).status_code == 302
