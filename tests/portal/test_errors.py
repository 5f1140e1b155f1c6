"""Bad addresses and stale pages get a clear way forward, never a technical error page."""

import pytest
from django.test import Client

from .conftest import BELASTING, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unknown_page_says_so_in_plain_words(client, demo_world):
    response = client.get("/bestaat-niet/ook-niet/")
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in response.content.decode()


def test_an_unknown_api_address_answers_with_a_problem(client, demo_world):
    response = client.get("/belastingkantoor/api/v1/bestaat-niet")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_coming_back_from_login_to_a_button_leads_to_the_button_again(client, citizen_bsn):
    response = client.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    assert response.status_code == 302 and response["Location"].startswith("/inloggen/")
    back = log_in(client, citizen_bsn, next_url=f"/organisaties/{BELASTING}/blauwe-knop/")
    assert client.get(back["Location"])["Location"] == f"/organisaties/{BELASTING}/"
    assert client.get(f"/organisaties/{BELASTING}/downloaden/")["Location"] == f"/organisaties/{BELASTING}/gegevens/"


def test_a_page_left_open_too_long_explains_what_to_do(demo_world):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/controleren/", {})
    assert response.status_code == 403
    assert "Probeer het opnieuw" in response.content.decode()
