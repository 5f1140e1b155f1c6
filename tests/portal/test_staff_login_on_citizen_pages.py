"""A requester's staff member logged in to the same site has no BSN: no citizen's page opens for them.

The requester role's staff log in with a password and a second factor on the same Django site as the
citizen's DigiD login. ``login_required`` alone let such a login through to pages that need a citizen.
"""

import pytest
from django.contrib.auth import get_user_model

from tests.portal.conftest import BELASTING

CITIZEN_PAGES = [
    "/overzicht/",
    "/overzicht/schulden/",
    "/kluis/",
    "/mijn-inzage/",
    "/toestemmingen/",
    "/delen/",
    f"/organisaties/{BELASTING}/gegevens/",
]


@pytest.fixture
def staff_client(client, demo_world):
    staff = get_user_model().objects.create_user("vrager-medewerker", password="een lang wachtwoord 2026")
    client.force_login(staff)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", CITIZEN_PAGES)
def test_a_staff_login_is_sent_to_the_digid_login_not_into_a_citizens_page(staff_client, page):
    response = staff_client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/inloggen/?next=")


@pytest.mark.django_db(transaction=True)
def test_a_staff_login_cannot_press_the_blauwe_knop(staff_client):
    response = staff_client.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    assert response.status_code == 302
    assert response["Location"].startswith("/inloggen/?next=")
