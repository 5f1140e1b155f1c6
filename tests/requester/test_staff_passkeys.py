"""Passkeys are a second factor for staff only: never instead of the password, never for a citizen."""

import json

import pytest

from tests.requester.test_staff_login import HOUSING, PASSWORD, log_in, make_staff

pytestmark = pytest.mark.django_db

BEGIN_REGISTRATION = "/vragers/passkeys/registreren/begin/"
BEGIN_LOGIN = "/vragers/passkeys/inloggen/begin/"


def test_a_citizen_can_neither_add_nor_use_a_passkey_here(client):
    client.post("/inloggen/", {"bsn": "999993653"})
    assert client.post(BEGIN_REGISTRATION, content_type="application/json").status_code in (401, 403)
    assert client.post(BEGIN_LOGIN, content_type="application/json").status_code in (401, 403)


def test_no_passkey_login_without_the_password_first(client):
    make_staff(HOUSING, "anna")
    response = client.post(BEGIN_LOGIN, content_type="application/json")
    assert response.status_code in (401, 403)


def test_after_the_password_a_passkey_may_be_the_second_step_but_not_be_added(client):
    make_staff(HOUSING, "anna")
    client.post("/vragers/inloggen/", {"username": "anna", "password": PASSWORD})
    begun = client.post(BEGIN_LOGIN, content_type="application/json")
    assert begun.status_code == 200 and json.loads(begun.content)["challenge"]
    # Adding a passkey with the password alone would skip the second factor.
    assert client.post(BEGIN_REGISTRATION, content_type="application/json").status_code == 403


def test_a_verified_staff_member_can_add_a_passkey_for_this_site(demo_world, client, settings):  # pages read the scheme
    assert log_in(client, "anna", make_staff(HOUSING, "anna"))["Location"] == "/vragers/"
    begun = client.post(BEGIN_REGISTRATION, content_type="application/json")
    assert begun.status_code == 200
    options = json.loads(begun.content)
    assert options["rp"]["id"] == settings.OTP_WEBAUTHN_RP_ID
    page = client.get("/vragers/beveiliging/").content.decode()
    assert 'id="otp_webauthn_config"' in page and BEGIN_REGISTRATION in page
    assert "<noscript>" in page  # without JavaScript the page says a passkey needs it
