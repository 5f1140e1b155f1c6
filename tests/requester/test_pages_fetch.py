"""Haal nu op on a request's page: a real standing fetch through a stand-in portal (tests/requester/test_fetching)."""

import pytest

from blauweknop.requester.models import ShareRequest
from tests.requester import test_fetching
from tests.requester.test_staff_login import HOUSING, log_in, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
standing = test_fetching.standing  # an approved standing request of the housing corporation, and the portal


def page_after_fetch(client, made: dict) -> str:
    assert log_in(client, "anna", make_staff(HOUSING, "anna"))["Location"] == "/vragers/"
    pk = ShareRequest.objects.get(code=made["code"]).pk
    assert "Haal nu op" in client.get(f"/vragers/verzoeken/{pk}/").content.decode()
    return client.post(f"/vragers/verzoeken/{pk}/ophalen/", follow=True).content.decode()


def test_haal_nu_op_shows_the_fresh_copy(standing, client):
    made, portal, _ = standing
    html = page_after_fetch(client, made)
    assert "Opgehaald: 1 kopie ontvangen." in html
    assert html.count("Inkomen, van Belastingkantoor Voorbeeldland") == 2  # the answer, and the fresh copy
    assert len(portal.received) == 1


def test_haal_nu_op_says_plainly_that_the_citizen_withdrew(standing, client):
    made, portal, _ = standing
    portal.behaviour = "consent_withdrawn"
    html = page_after_fetch(client, made)
    assert "De inwoner heeft de toestemming ingetrokken. U kunt niets meer ophalen." in html
    assert 'id="stand">Toestemming ingetrokken<' in html
    assert "Haal nu op" not in html  # nothing more to fetch
