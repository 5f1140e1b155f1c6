"""The requester's staff pages: their own requests only, a new one from a preset, one request with its data."""

import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from blauweknop.requester import asking, presets, tenants
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from blauweknop.requester.pages import months_later
from blauweknop.scheme.client import scheme_client
from tests.requester.test_staff_login import BANK, HOUSING, log_in, make_staff

BELASTING = "00000001003214345000"
DEBT_HELP = "00000003512873460000"


@pytest.fixture
def housing_staff(client):
    """A staff member of the housing corporation, logged in with both factors."""
    assert log_in(client, "anna", make_staff(HOUSING, "anna"))["Location"] == "/vragers/"
    return client


def made(oin: str, preset_id: str, *, reference: str = "") -> ShareRequest:
    """A request of ``oin`` made from a preset, as the staff page makes it."""
    tenant = tenants.of_oin(async_to_sync(scheme_client.current)(), oin)
    preset = presets.current().get(preset_id)
    until = timezone.localdate() + timedelta(days=180) if preset.standing else None
    return asking.create(
        tenant,
        purpose=preset.purpose,
        legal_basis="toestemming",
        retention_days=preset.retention_days,
        access=preset.access,
        access_until=until,
        asked=list(preset.asked),
        reference=reference,
    )


@pytest.mark.django_db
def test_no_staff_page_opens_without_logging_in(client):
    for url in ("/vragers/", "/vragers/nieuw/", "/vragers/verzoeken/1/", "/vragers/beveiliging/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/vragers/inloggen/?next="), url
    assert client.post("/vragers/verzoeken/1/ophalen/")["Location"].startswith("/vragers/inloggen/")


def test_a_new_request_from_a_preset_shows_how_the_citizen_opens_it(demo_world, housing_staff):
    response = housing_staff.post("/vragers/nieuw/", {"preset": "huur", "reference": "dossier 2026-17"})
    assert response.status_code == 302
    share_request = ShareRequest.objects.get(reference="dossier 2026-17")
    assert share_request.requester_id == HOUSING and share_request.access == "eenmalig"
    assert response["Location"] == f"/vragers/verzoeken/{share_request.pk}/"

    html = housing_staff.get(response["Location"]).content.decode()
    code = f"{share_request.code[:4]}-{share_request.code[4:]}"
    assert f'id="code">{code}<' in html
    link = re.search(r'id="link">([^<]+)<', html).group(1).replace("&amp;", "&")
    assert link.startswith(demo_world.url + "/delen/?client_id=" + HOUSING)
    assert "<svg" in html and "QR-code met de link naar dit verzoek" in html
    assert "Toetsingsinkomen" in html and "Postcode" in html  # catalogue labels, not paths
    assert "toetsingsinkomenInCenten" not in html
    assert "Wacht op de inwoner" in html
    listing = housing_staff.get("/vragers/").content.decode()
    assert "dossier 2026-17" in listing


def test_staff_see_only_their_own_organisations_requests(demo_world, client):
    theirs = made(BANK, "lening", reference="bank-dossier-9")
    assert log_in(client, "anna", make_staff(HOUSING, "anna"))["Location"] == "/vragers/"
    assert client.get(f"/vragers/verzoeken/{theirs.pk}/").status_code == 404
    assert client.post(f"/vragers/verzoeken/{theirs.pk}/ophalen/").status_code == 404
    assert "bank-dossier-9" not in client.get("/vragers/").content.decode()


def test_the_pages_speak_dutch_and_english(demo_world, housing_staff, settings):
    share_request = made(HOUSING, "huur")
    pages = ("/vragers/", "/vragers/nieuw/", f"/vragers/verzoeken/{share_request.pk}/", "/vragers/beveiliging/")
    for url in pages:
        html = housing_staff.get(url).content.decode()
        assert '<html lang="nl"' in html and "Nieuw verzoek" in html, url
    housing_staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for url in pages:
        html = housing_staff.get(url).content.decode()
        assert '<html lang="en"' in html and "New request" in html, url
    html = housing_staff.get(f"/vragers/verzoeken/{share_request.pk}/").content.decode()
    assert "Assessment income" in html and "Waiting for the citizen" in html


def test_the_form_says_what_is_wrong_next_to_the_field(demo_world, housing_staff):
    html = housing_staff.post("/vragers/nieuw/", {"preset": "huur", "access_until": "31-12-2026"}).content.decode()
    assert 'id="id_access_until-fout">Dit verzoek is eenmalig. Laat dit veld leeg.<' in html
    assert 'href="#id_access_until"' in html  # the summary at the top links to the field
    html = housing_staff.post("/vragers/nieuw/", {"retention_days": "0"}).content.decode()
    assert 'id="preset-fout">Kies wat u wilt vragen.<' in html
    assert 'id="id_retention_days-fout"' in html
    assert not ShareRequest.objects.exists()


def test_received_data_is_shown_in_plain_words_with_its_deletion_day(demo_world, housing_staff):
    share_request = made(HOUSING, "huur")
    ShareRequest.objects.filter(pk=share_request.pk).update(status="goedgekeurd", answered_at=timezone.now())
    ReceivedCredential.objects.create(
        request=share_request,
        requester_id=HOUSING,
        via="antwoord",
        query_id="inkomen",
        issuer_oin=BELASTING,
        vct="https://stelsel.blauweknop.example/vct/inkomen/2",
        claims={"naam": {"geslachtsnaam": "Jansen"}, "belastingjaar": 2025, "toetsingsinkomenInCenten": 3412300},
        delete_after=timezone.make_aware(timezone.datetime(2030, 3, 1, 12)),
    )
    html = housing_staff.get(f"/vragers/verzoeken/{share_request.pk}/").content.decode()
    assert "Inkomen, van Belastingkantoor Voorbeeldland" in html
    assert "€ 34.123,00" in html and "Jansen" in html
    assert "Wordt verwijderd op 1 maart 2030" in html
    assert "Gegevens ontvangen" in html
    assert "Haal nu op" not in html  # one-time: nothing to fetch again


def test_haal_nu_op_says_plainly_when_the_consent_has_ended(demo_world, housing_staff):
    share_request = made(HOUSING, "schuldhulp")
    ShareRequest.objects.filter(pk=share_request.pk).update(
        status="goedgekeurd", consent="toestemming-1", approved_until=timezone.localdate() - timedelta(days=1)
    )
    assert "Haal nu op" in housing_staff.get(f"/vragers/verzoeken/{share_request.pk}/").content.decode()
    response = housing_staff.post(f"/vragers/verzoeken/{share_request.pk}/ophalen/", follow=True)
    html = response.content.decode()
    assert "De toestemming is verlopen. U kunt niets meer ophalen." in html
    assert "Haal nu op" not in html


def test_an_organisation_this_deployment_no_longer_serves_gets_a_plain_page(demo_world, housing_staff, settings):
    settings.REQUESTER_OINS = [BANK]
    response = housing_staff.get("/vragers/nieuw/")
    assert response.status_code == 503
    assert "Dit kan nu niet" in response.content.decode()


def test_the_debt_counselling_preset_asks_every_holder_for_six_months(demo_world, client):
    assert log_in(client, "dirk", make_staff(DEBT_HELP, "dirk"))["Location"] == "/vragers/"
    housing_staff = client  # the debt counsellor's staff: only they see this preset
    response = housing_staff.post("/vragers/nieuw/", {"preset": "schuldhulp", "retention_days": "200"})
    share_request = ShareRequest.objects.get()
    assert response["Location"] == f"/vragers/verzoeken/{share_request.pk}/"
    assert share_request.access == "doorlopend" and share_request.retention_days == 200
    assert share_request.access_until == months_later(timezone.localdate(), 6)
    html = housing_staff.get(response["Location"]).content.decode()
    assert "Openstaande betalingen \N{EN DASH} van elke organisatie die het heeft" in html
    assert "Doorlopend, tot en met" in html
