"""The requester's staff log in with a password and a second factor; wrong passwords lock the staff login only."""

import base64

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from blauweknop.requester.models import StaffMember

HOUSING = "00000003271247970000"
BANK = "00000003334469140000"
PASSWORD = "een-lang-demo-wachtwoord"

pytestmark = pytest.mark.django_db


def make_staff(oin: str, username: str, *, totp_now: bool = True) -> TOTPDevice | None:
    """A staff member made as the demo seeding makes one: the management command."""
    args = [oin, username, "--password", PASSWORD] + (["--totp"] if totp_now else [])
    call_command("requester_staff", *args, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return TOTPDevice.objects.filter(user__username=username, confirmed=True).first()


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def log_in(client, username: str, device: TOTPDevice | None, *, password: str = PASSWORD):
    """Both steps, as a browser without JavaScript does them; the last response."""
    response = client.post("/vragers/inloggen/", {"username": username, "password": password})
    if device is None or response.status_code != 302:
        return response
    return client.post(response["Location"], {"token": code(device)})


def test_the_password_alone_opens_no_staff_page(demo_world, client):  # the staff pages read the scheme document
    device = make_staff(HOUSING, "anna")
    response = client.post("/vragers/inloggen/", {"username": "anna", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/vragers/inloggen/tweede-stap/")
    assert client.get("/vragers/").status_code == 302
    assert client.get("/vragers/nieuw/")["Location"].startswith("/vragers/inloggen/tweede-stap/")

    wrong = client.post(response["Location"], {"token": f"{(int(code(device)) + 1) % 10**6:06d}"})
    assert wrong.status_code == 200
    assert "Deze code klopt niet" in wrong.content.decode()
    assert client.get("/vragers/").status_code == 302

    TOTPDevice.objects.update(throttling_failure_timestamp=None)  # as if the second's wait after a wrong code passed
    right = client.post(response["Location"], {"token": code(device)})
    assert right.status_code == 302 and right["Location"] == "/vragers/"
    assert client.get("/vragers/").status_code == 200
    assert client.get("/vragers/inloggen/")["Location"] == "/vragers/"  # logged in already: straight on


def test_a_wrong_password_says_so_and_opens_nothing(client):
    make_staff(HOUSING, "anna")
    response = client.post("/vragers/inloggen/", {"username": "anna", "password": "fout"})
    assert response.status_code == 200
    assert "horen niet bij elkaar" in response.content.decode()
    assert client.get("/vragers/").status_code == 302


def test_a_citizen_is_no_staff_member(client):
    """A DigiD login is not a staff login: the staff pages send a citizen to the staff login."""
    client.post("/inloggen/", {"bsn": "999993653"})
    response = client.get("/vragers/")
    assert response.status_code == 302 and response["Location"].startswith("/vragers/inloggen/?next=")


def test_without_a_device_the_app_is_set_up_first(demo_world, client):  # the staff pages read the scheme document
    make_staff(BANK, "bert", totp_now=False)
    response = client.post("/vragers/inloggen/", {"username": "bert", "password": PASSWORD})
    assert response["Location"].startswith("/vragers/inloggen/instellen/")
    assert client.get("/vragers/")["Location"].startswith("/vragers/inloggen/instellen/")

    page = client.get(response["Location"]).content.decode()
    device = TOTPDevice.objects.get(user__username="bert")
    assert "<svg" in page and 'aria-label="QR-code om uw app in te stellen"' in page
    secret = page.split('id="sleutel">')[1].split("<")[0].replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key

    confirmed = client.post(response["Location"], {"token": code(device)})
    assert confirmed.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/vragers/").status_code == 200


def test_the_code_form_shows_its_error_next_to_the_field(client):
    make_staff(HOUSING, "anna")
    step = client.post("/vragers/inloggen/", {"username": "anna", "password": PASSWORD})["Location"]
    html = client.post(step, {"token": "12ab"}).content.decode()
    assert 'id="id_token-fout"' in html and 'aria-invalid="true"' in html
    assert 'aria-describedby="id_token-uitleg id_token-fout"' in html
    assert '<a class="utrecht-link utrecht-link--html-a" href="#id_token">' in html  # the summary links to it


def test_wrong_passwords_lock_the_staff_login_with_a_clear_page(client, settings):
    device = make_staff(HOUSING, "anna")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/vragers/inloggen/", {"username": "anna", "password": "fout"}).status_code == 200
    locked = client.post("/vragers/inloggen/", {"username": "anna", "password": "fout"})
    assert locked.status_code == 429
    assert "Inloggen is even geblokkeerd" in locked.content.decode()
    # Now even the right password does not open the door.
    again = log_in(client, "anna", device)
    assert again.status_code == 429
    assert client.get("/vragers/").status_code == 302


def test_the_lockout_never_touches_the_digid_login(client, settings):
    """Citizens share the address (in the demo: all on one machine); their login is never counted or locked."""
    make_staff(HOUSING, "anna")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post("/vragers/inloggen/", {"username": "anna", "password": "fout"})
    response = client.post("/inloggen/?next=/", {"bsn": "999993653"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_logging_out_ends_both_factors(client):
    make_staff(HOUSING, "anna")
    device = TOTPDevice.objects.get(user__username="anna")
    assert log_in(client, "anna", device)["Location"] == "/vragers/"
    client.post("/vragers/uitloggen/")
    assert client.get("/vragers/").status_code == 302


def test_the_command_makes_a_staff_member_and_prints_the_secret(capsys):
    call_command("requester_staff", BANK, "carla", "--password", PASSWORD, "--totp")
    out = capsys.readouterr().out
    device = TOTPDevice.objects.get(user__username="carla", confirmed=True)
    printed = out.split("TOTP secret (base32): ")[1].split()[0]
    assert base64.b32decode(printed + "=" * (-len(printed) % 8)) == device.bin_key
    assert StaffMember.objects.get(user__username="carla").requester_id == BANK


def test_the_command_refuses_an_organisation_this_deployment_does_not_ask_for():
    with pytest.raises(CommandError):
        call_command("requester_staff", "00000001003214345000", "dirk", "--password", PASSWORD)
