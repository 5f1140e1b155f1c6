"""The newcomer's review of the staff pages (/vragers/), as a staff member meets each fix."""

import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from blauweknop.requester import asking, tenants
from blauweknop.requester.asking import Asked
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.requester.test_pages import BELASTING, made
from tests.requester.test_staff_login import HOUSING, PASSWORD, code, log_in, make_staff

MUNICIPALITY = "00000001823288444000"
INCOME_VCT = "https://stelsel.blauweknop.example/vct/inkomen/2"


@pytest.fixture
def staff(demo_world, client):
    """A staff member of the housing corporation, logged in with both factors."""
    assert log_in(client, "anna", make_staff(HOUSING, "anna"))["Location"] == "/vragers/"
    return client


def page(client, share_request: ShareRequest, language: str = "nl") -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(f"/vragers/verzoeken/{share_request.pk}/").content.decode()


def copy(share_request: ShareRequest, at, year: int) -> None:
    ReceivedCredential.objects.create(
        request=share_request,
        requester_id=HOUSING,
        via="ophaling",
        query_id="inkomen",
        issuer_oin=BELASTING,
        vct=INCOME_VCT,
        claims={"naam": {"geslachtsnaam": "Jansen"}, "belastingjaar": year, "toetsingsinkomenInCenten": 3412300},
        received_at=at,
        delete_after=at + timedelta(days=90),
    )


def test_14_the_list_shows_each_requests_code_and_what_was_asked(staff):
    from_preset = made(HOUSING, "huur", reference="dossier-7")
    tenant = tenants.of_oin(async_to_sync(scheme_client.current)(), HOUSING)
    own = asking.create(
        tenant,
        purpose={"nl": "Wij kijken naar uw inkomen.", "en": "We look at your income."},
        legal_basis="toestemming",
        retention_days=30,
        access="eenmalig",
        access_until=None,
        asked=[Asked("inkomen", required=True, multiple=False, fields=(("belastingjaar", True),))],
    )
    html = staff.get("/vragers/").content.decode()
    assert "zonder kenmerk" not in html
    rows = html.split('<tr class="utrecht-table__row">')[2:]
    texts = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in rows]
    assert asking.display_code(own.code) in texts[0] and "Inkomen" in texts[0]  # newest first, types in words
    assert asking.display_code(from_preset.code) in texts[1]
    assert "Woningcorporatie: inkomen voor een huurwoning" in texts[1] and "dossier-7" in texts[1]
    assert texts[0].index(asking.display_code(own.code)) < texts[0].index("Inkomen")  # the code first


def test_15_ended_access_is_said_plainly_and_staff_hear_of_a_withdrawal_without_fetching(staff):
    share_request = made(HOUSING, "schuldhulp")
    ShareRequest.objects.filter(pk=share_request.pk).update(
        status="goedgekeurd", answered_at=timezone.now(), consent="t-1", approved_until=timezone.localdate()
    )
    html = page(staff, share_request)
    assert "Haal nu op" in html
    assert "Dan hoort u dat binnen een paar minuten. Het staat dan hier. U hoeft daarvoor niet op te halen." in html

    ShareRequest.objects.filter(pk=share_request.pk).update(status="ingetrokken")
    html = page(staff, share_request)
    assert "De inwoner heeft de toestemming ingetrokken. U kunt niets meer ophalen." in html
    assert "Haal nu op" not in html

    day = timezone.localdate() - timedelta(days=1)
    ShareRequest.objects.filter(pk=share_request.pk).update(status="verlopen", approved_until=day)
    html = page(staff, share_request)
    assert f"Dit verzoek is verlopen op {day.day} " in html and "Haal nu op" not in html


def test_16_a_refused_request_says_the_citizen_did_not_want_to_share(staff):
    share_request = made(HOUSING, "huur")
    ShareRequest.objects.filter(pk=share_request.pk).update(status="geweigerd", answered_at=timezone.now())
    html = page(staff, share_request)
    assert "De inwoner wilde niet delen. U krijgt geen gegevens. Wilt u het toch vragen? Bel de inwoner" in html
    assert "Er zijn (nog) geen gegevens ontvangen." not in html
    assert "The citizen did not want to share. You will not receive data." in page(staff, share_request, "en")


def test_17_the_newest_fetch_comes_first_older_ones_are_folded_away_with_unique_names(staff):
    share_request = made(HOUSING, "huur")
    ShareRequest.objects.filter(pk=share_request.pk).update(status="goedgekeurd", answered_at=timezone.now())
    first = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    for hours, year in ((0, 2023), (1, 2024), (2, 2025)):
        copy(share_request, first + timedelta(hours=hours), year)
    html = page(staff, share_request)
    newest = timezone.localtime(first + timedelta(hours=2)).strftime("%H:%M:%S")
    received = html.split("Ontvangen gegevens")[1]
    assert "Nieuwste: opgehaald op" in received.split("<details")[0] and newest in received.split("<details")[0]
    assert "2025" in received.split("<details")[0] and "2023" not in received.split("<details")[0]
    assert received.count("<details") == 2 and " open" not in re.findall(r"<details[^>]*>", received)[0]
    names = re.findall(r'<section aria-labelledby="([^"]+)"', html)
    assert len(names) == 3 and len(set(names)) == 3
    for name in names:  # every id named is on the page
        assert all(f'id="{part}"' in html for part in name.split())


def test_18a_the_legal_basis_is_the_citizens_consent_not_your_consent(staff):
    share_request = made(HOUSING, "huur")
    html = page(staff, share_request)
    assert "Toestemming van de inwoner" in html and "Uw toestemming" not in html
    assert "The citizen&#x27;s consent" in page(staff, share_request, "en")


def test_18b_each_organisation_sees_the_presets_that_fit_it(staff, client):
    html = staff.get("/vragers/nieuw/").content.decode()
    assert 'value="huur"' in html and 'value="lening"' not in html and 'value="schuldhulp"' not in html
    refused = staff.post("/vragers/nieuw/", {"preset": "lening"})
    assert refused.status_code == 200 and "Kies wat u wilt vragen." in refused.content.decode()
    assert not ShareRequest.objects.exists()

    staff.post("/vragers/uitloggen/")
    assert log_in(client, "gijs", make_staff(MUNICIPALITY, "gijs"))["Location"] == "/vragers/"
    html = client.get("/vragers/nieuw/").content.decode()
    assert 'type="radio" name="preset"' not in html
    assert "Voor uw organisatie is nog niet ingesteld wat u de inwoner kunt vragen." in html


def test_18c_staff_may_ask_standing_access_on_the_housing_preset(staff):
    until = timezone.localdate() + timedelta(days=200)
    too_far = timezone.localdate() + timedelta(days=400)
    html = staff.post(
        "/vragers/nieuw/", {"preset": "huur", "access": "doorlopend", "access_until": too_far.strftime("%d-%m-%Y")}
    ).content.decode()
    assert "Kies een datum na vandaag en hooguit een jaar vooruit." in html and not ShareRequest.objects.exists()
    staff.post(
        "/vragers/nieuw/", {"preset": "huur", "access": "doorlopend", "access_until": until.strftime("%d-%m-%Y")}
    )
    share_request = ShareRequest.objects.get()
    assert share_request.access == "doorlopend" and share_request.access_until == until
    assert "Doorlopend, tot en met" in page(staff, share_request)
    staff.post("/vragers/nieuw/", {"preset": "huur", "reference": "standaard"})
    assert ShareRequest.objects.get(reference="standaard").access == "eenmalig"  # the preset's own choice


def test_18d_the_debt_help_purpose_does_not_promise_six_months(demo_world, client):
    assert log_in(client, "dirk", make_staff("00000003512873460000", "dirk"))["Location"] == "/vragers/"
    html = client.get("/vragers/nieuw/").content.decode()
    assert "Wij helpen u met uw schulden. Daarvoor halen we steeds het nieuwste overzicht van uw schulden op." in html
    assert "zes maanden lang" not in html.lower() and "Zes maanden" not in html


@pytest.mark.parametrize("days", ["abc", "0", "4000"])
def test_18e_a_wrong_number_of_days_says_what_to_fill_in(staff, days):
    html = staff.post("/vragers/nieuw/", {"preset": "huur", "retention_days": days}).content.decode()
    assert 'id="id_retention_days-fout">Vul een aantal dagen in, van 1 tot 3650. Bijvoorbeeld 90.<' in html
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = staff.post("/vragers/nieuw/", {"preset": "huur", "retention_days": days}).content.decode()
    assert "Fill in a number of days, from 1 to 3650. For example 90." in html


def test_18f_a_code_used_already_says_to_wait_for_the_next(demo_world, client):
    device = make_staff(HOUSING, "anna")
    assert log_in(client, "anna", device)["Location"] == "/vragers/"
    client.post("/vragers/uitloggen/")
    step = client.post("/vragers/inloggen/", {"username": "anna", "password": PASSWORD})["Location"]
    device = TOTPDevice.objects.get(pk=device.pk)
    html = client.post(step, {"token": code(device)}).content.decode()
    assert "Deze code is al gebruikt. Wacht op de volgende code in uw app." in html
    assert "Deze code klopt niet" not in html
    TOTPDevice.objects.update(throttling_failure_timestamp=None)
    wrong = client.post(step, {"token": f"{(int(code(device)) + 1) % 10**6:06d}"}).content.decode()
    assert "Deze code klopt niet" in wrong  # a wrong code still says so


def test_18g_a_suspended_organisations_staff_see_a_banner_on_every_page(staff):
    assert 'id="opgeschort"' not in staff.get("/vragers/").content.decode()
    Organisation.objects.filter(oin=HOUSING).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    scheme_client.forget()
    for url in ("/vragers/", "/vragers/beveiliging/", "/vragers/nieuw/"):
        html = staff.get(url).content.decode()
        assert 'id="opgeschort"' in html, url
        assert "Uw organisatie is geschorst door de beheerder van de Blauwe Knop." in html, url
        assert "Neem contact op met de beheerder van het stelsel (" in html, url
