"""The demo's staff logins: one per demo requester, printed by seed_demo, the same on every run, and they open
the requester portal with the password and a code from the printed TOTP secret."""

import base64
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp

from blauweknop.demo.organisations import demo_requester_oins
from blauweknop.requester.models import StaffMember

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN = re.compile(
    r"^  (?P<name>[^:\n]+): username (?P<username>\S+), password (?P<password>\S+)\n"
    r"    TOTP secret (?P<secret>[A-Z2-7 ]+?)  (?P<url>otpauth://totp/\S+)$",
    flags=re.MULTILINE,
)


def seed() -> dict[str, dict[str, str]]:
    """Run seed_demo; the staff logins it printed, by requester name."""
    out = io.StringIO()
    call_command("seed_demo", citizens=3, stdout=out)
    requesters = out.getvalue().split("The scheme operator's login")[0]  # the operator's own login comes after
    return {found["name"]: found.groupdict() for found in LOGIN.finditer(requesters)}


def code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret``."""
    return f"{totp(base64.b32decode(secret.replace(' ', ''))):06d}"


def test_seed_demo_prints_a_staff_login_per_requester_and_the_same_on_a_second_run():
    first = seed()
    assert set(first) == {
        "Gemeente Voorbeeldstad",
        "Woningcorporatie Thuisbasis",
        "Spaarbank Voorbeeld",
        "Schuldhulp Voorbeeldstad",
    }
    assert len({login["password"] for login in first.values()}) == 4, "every requester has its own password"
    assert all(login["secret"].replace(" ", "") in login["url"] for login in first.values())
    assert seed() == first, "a second run changed the logins"
    members = StaffMember.objects.select_related("user", "requester")
    assert sorted(m.requester.oin for m in members) == sorted(demo_requester_oins())


def test_the_printed_login_opens_the_requester_portal_of_its_own_organisation(deployment):
    # The staff pages read the scheme document (is the organisation suspended?): a real server must publish it.
    login = seed()["Woningcorporatie Thuisbasis"]
    seed()  # a second run keeps the login working
    browser = Client()
    wrong = browser.post("/vragers/inloggen/", {"username": login["username"], "password": "raden-lukt-niet"})
    assert wrong.status_code == 200 and "horen niet bij elkaar" in wrong.content.decode()

    step = browser.post("/vragers/inloggen/", {"username": login["username"], "password": login["password"]})
    assert step.status_code == 302 and "/vragers/inloggen/tweede-stap/" in step["Location"]
    assert browser.get("/vragers/").status_code == 302, "a password alone must not open the staff pages"
    done = browser.post("/vragers/inloggen/tweede-stap/", {"token": code(login["secret"])})
    assert done.status_code == 302 and done["Location"] == "/vragers/"
    assert browser.get("/vragers/").status_code == 200
    member = StaffMember.objects.get(user__username=login["username"])
    assert member.requester.oin == "00000003271247970000"
