"""The operator's pages: two-factor login for the operator's staff only, each certification step with a reason and
a confirm step, a wrong step refused in words, and the audit trail with the state of its chain."""

from __future__ import annotations

import importlib
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from blauweknop.demo.management.commands.seed_demo import OPERATOR, OPERATOR_USERNAME, staff_login
from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import generate_jwk, public_jwk
from blauweknop.scheme import audit, keys, lifecycle, publication
from blauweknop.scheme.client import trust_anchor
from blauweknop.scheme.models import Application, AuditEntry, Organisation
from tests.requester.test_staff_login import HOUSING
from tests.requester.test_staff_login import make_staff as make_requester_staff

TRIGGERS = importlib.import_module("blauweknop.scheme.migrations.0002_operator")
PASSWORD = "een-lang-demo-wachtwoord"
APPLICANT = "00000009876543210000"
OTHER_APPLICANT = "00000009876543211000"
HOME = "/stelsel/beheer/"
LOGIN = "/stelsel/beheer/inloggen/"

pytestmark = pytest.mark.django_db


def make_operator(username: str, *, totp_now: bool = True) -> TOTPDevice | None:
    """A member of the operator's staff, made with the management command as a deployment makes one."""
    args = [username, "--password", PASSWORD] + (["--totp"] if totp_now else [])
    call_command("operator_staff", *args, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return TOTPDevice.objects.filter(user__username=username, confirmed=True).first()


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def log_in(client, username: str, device: TOTPDevice | None, *, password: str = PASSWORD):
    """Both steps, as a browser without JavaScript does them; the last response."""
    response = client.post(LOGIN, {"username": username, "password": password})
    if device is None or response.status_code != 302:
        return response
    return client.post(response["Location"], {"token": code(device)})


def apply(oin: str, name: str, **fields) -> Application:
    """An application as the application API leaves one: waiting with its one key, in the trail."""
    jwk = public_jwk(generate_jwk())
    asked = {"name": name, "slug": f"deelnemer-{oin[-6:]}", "is_holder": True, "document_types": ["vorderingen"]}
    asked.update(fields)
    stored = Application.objects.create(
        oin=oin, name=name, slug=asked["slug"], fields=asked, kid=jwk["kid"], public_jwk=jwk
    )
    audit.record(actor="aanvrager", action="applied", subject=oin, details={"aanmelding": stored.pk})
    return stored


def admitted(oin: str, name: str, certification: str = "certified") -> Organisation:
    """A participant in ``certification``, certified from its application first."""
    lifecycle.certify(apply(oin, name).pk, actor="olga", reason="Goed.")
    Organisation.objects.filter(oin=oin).update(certification=certification)
    return Organisation.objects.get(oin=oin)


def page_of(stored: Application) -> str:
    return f"/stelsel/beheer/aanmeldingen/{stored.pk}/"


@pytest.fixture
def operator(client):
    """A client logged in as the operator's staff member ``olga`` with both factors."""
    device = make_operator("olga")
    assert log_in(client, "olga", device)["Location"] == HOME
    return client


def in_force() -> scheme_document.SchemeDocument:
    return scheme_document.verify(publication.in_force().token, trust_anchor())


def test_no_operator_page_opens_without_both_factors(client):
    device = make_operator("olga")
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    pages = [
        HOME,
        "/stelsel/beheer/deelnemers/",
        page_of(stored),
        "/stelsel/beheer/logboek/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next=")
    step = client.post(f"{page_of(stored)}certificeren/", {"reason": "x", "confirmed": "ja"})
    assert step.status_code == 302 and step["Location"].startswith(LOGIN)

    response = client.post(LOGIN, {"username": "olga", "password": PASSWORD})
    assert response["Location"].startswith("/stelsel/beheer/inloggen/tweede-stap/")
    for url in pages:
        assert client.get(url)["Location"].startswith("/stelsel/beheer/inloggen/tweede-stap/")
    assert client.post(response["Location"], {"token": code(device)})["Location"] == HOME
    for url in pages:
        assert client.get(url).status_code == 200
    assert Application.objects.get(oin=APPLICANT).state == "waiting" and not Organisation.objects.exists()


def test_after_logging_in_the_page_asked_for_opens(client):
    device = make_operator("olga")
    asked = client.get("/stelsel/beheer/logboek/")["Location"]
    response = client.post(asked, {"username": "olga", "password": PASSWORD})
    assert client.post(response["Location"], {"token": code(device)})["Location"] == "/stelsel/beheer/logboek/"


def test_without_a_device_the_app_is_set_up_first(client):
    make_operator("otto", totp_now=False)
    response = client.post(LOGIN, {"username": "otto", "password": PASSWORD})
    assert response["Location"].startswith("/stelsel/beheer/inloggen/instellen/")
    assert client.get(HOME)["Location"].startswith("/stelsel/beheer/inloggen/instellen/")
    page = client.get(response["Location"]).content.decode()
    assert 'aria-label="QR-code om uw app in te stellen"' in page
    device = TOTPDevice.objects.get(user__username="otto")
    assert client.post(response["Location"], {"token": code(device)})["Location"] == HOME
    assert client.get(HOME).status_code == 200


def test_wrong_passwords_lock_the_operator_login(client, settings):
    device = make_operator("olga")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post(LOGIN, {"username": "olga", "password": "fout"})
        assert wrong.status_code == 200 and "horen niet bij elkaar" in wrong.content.decode()
    locked = client.post(LOGIN, {"username": "olga", "password": "fout"})
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Inloggen is even geblokkeerd" in html and "Beheer van het stelsel" in html  # in the operator's look
    assert log_in(client, "olga", device).status_code == 429  # now even the right password does not open it
    assert client.get(HOME).status_code == 302


def test_the_lockout_of_one_login_leaves_the_citizens_login(client, settings):
    make_operator("olga")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(LOGIN, {"username": "olga", "password": "fout"})
    response = client.post("/inloggen/?next=/", {"bsn": "999993653"})
    assert response.status_code == 302


def test_a_citizen_and_a_requesters_staff_are_no_operator(client):
    client.post("/inloggen/", {"bsn": "999993653"})
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next=")
    client.post("/uitloggen/")

    # A requester's staff member, logged in there with both factors, is still nobody here.
    device = make_requester_staff(HOUSING, "anna")
    client.post("/vragers/inloggen/", {"username": "anna", "password": PASSWORD})
    client.post("/vragers/inloggen/tweede-stap/?next=/vragers/", {"token": code(device)})
    assert client.get(HOME)["Location"].startswith(f"{LOGIN}?next=")
    refused = client.post(LOGIN, {"username": "anna", "password": PASSWORD})
    assert refused.status_code == 200 and "horen niet bij elkaar" in refused.content.decode()


def test_the_home_page_shows_applications_waiting_and_participants_by_state(operator):
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    apply(OTHER_APPLICANT, "Tweede Aanmelder")
    html = operator.get(HOME).content.decode()
    assert "Waterschap Aanmelding" in html and "Tweede Aanmelder" in html
    assert f'href="{page_of(stored)}"' in html
    listing = operator.get("/stelsel/beheer/deelnemers/").content.decode()
    assert 'id="applied"' in listing and "Aangemeld (2)" in listing and "Gecertificeerd (0)" in listing


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_certifying_takes_a_reason_and_a_confirmation(operator, lang):
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    apply(OTHER_APPLICANT, "Tweede Aanmelder")
    if lang == "en":
        operator.cookies["django_language"] = "en"
    url = f"{page_of(stored)}certificeren/"
    page = operator.get(url).content.decode()
    assert 'name="reason"' in page

    without = operator.post(url, {"reason": "   "})
    assert without.status_code == 200
    assert ("Schrijf een reden op" if lang == "nl" else "Write down a reason") in without.content.decode()
    too_long = operator.post(url, {"reason": "x" * 1001})
    assert "1000" in too_long.content.decode()

    confirm = operator.post(url, {"reason": "Conformiteitstoets geslaagd"})
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert ("Weet u het zeker?" if lang == "nl" else "Are you sure?") in html
    assert 'name="confirmed" value="ja"' in html and 'value="Conformiteitstoets geslaagd"' in html
    assert not Organisation.objects.exists()  # nothing happened yet

    done = operator.post(url, {"reason": "Conformiteitstoets geslaagd", "confirmed": "ja"})
    assert done.status_code == 302 and done["Location"] == f"/stelsel/beheer/deelnemers/{APPLICANT}/"
    assert Organisation.objects.get(oin=APPLICANT).certification == "certified"
    assert Application.objects.get(oin=OTHER_APPLICANT).state == "waiting"
    newest = AuditEntry.objects.order_by("-pk").first()
    assert (newest.actor, newest.action, newest.subject, newest.reason) == (
        "olga",
        "certified",
        APPLICANT,
        "Conformiteitstoets geslaagd",
    )
    published = in_force().organisations
    assert published[APPLICANT].certification == "certified" and OTHER_APPLICANT not in published
    participant = operator.get(done["Location"]).content.decode()
    assert "Conformiteitstoets geslaagd" in participant and "olga" in participant


@pytest.mark.parametrize(
    ("start", "slug", "end", "action"),
    [
        ("certified", "schorsen", "suspended", "suspended"),
        ("suspended", "herstellen", "certified", "restored"),
        ("certified", "intrekken", "revoked", "revoked"),
        ("suspended", "intrekken", "revoked", "revoked"),
    ],
)
def test_every_step_needs_a_reason_then_happens(operator, start, slug, end, action):
    admitted(APPLICANT, "Waterschap Aanmelding", start)
    url = f"/stelsel/beheer/deelnemers/{APPLICANT}/{slug}/"
    without = operator.post(url, {"reason": "", "confirmed": "ja"})
    assert without.status_code == 200 and "Schrijf een reden op" in without.content.decode()
    assert Organisation.objects.get(oin=APPLICANT).certification == start
    assert operator.post(url, {"reason": "Klacht van een inwoner"}).status_code == 200  # the confirm step
    assert Organisation.objects.get(oin=APPLICANT).certification == start
    done = operator.post(url, {"reason": "Klacht van een inwoner", "confirmed": "ja"})
    assert done.status_code == 302
    assert Organisation.objects.get(oin=APPLICANT).certification == end
    assert AuditEntry.objects.order_by("-pk").values_list("action", "actor").first() == (action, "olga")


@pytest.mark.parametrize(
    ("start", "slug"), [("certified", "weigeren"), ("certified", "certificeren"), ("revoked", "herstellen")]
)
def test_a_wrong_step_is_refused_in_words(operator, start, slug):
    admitted(APPLICANT, "Waterschap Aanmelding", start)
    entries = AuditEntry.objects.count()
    url = f"/stelsel/beheer/deelnemers/{APPLICANT}/{slug}/"
    for response in (operator.get(url), operator.post(url, {"reason": "Waarom niet", "confirmed": "ja"})):
        assert response.status_code == 409
        html = response.content.decode()
        label = Organisation.Certification(start).label
        assert f"Dat kan niet. De deelnemer is nu {label}." in html and "Er is niets veranderd" in html
    assert Organisation.objects.get(oin=APPLICANT).certification == start
    assert AuditEntry.objects.count() == entries


def test_a_step_another_operator_took_first_is_refused_in_words(operator):
    """Two operators on the same applicant: the second's confirmation finds it certified already."""
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    url = f"{page_of(stored)}weigeren/"
    assert operator.post(url, {"reason": "Onvolledig"}).status_code == 200
    lifecycle.certify(stored.pk, actor="otto", reason="Goed.")
    response = operator.post(url, {"reason": "Onvolledig", "confirmed": "ja"})
    assert response.status_code == 409 and "al besloten: gecertificeerd" in response.content.decode()
    assert not AuditEntry.objects.filter(action="refused").exists()


@pytest.mark.parametrize(
    "url",
    [
        f"/stelsel/beheer/deelnemers/{APPLICANT}/opheffen/",
        "/stelsel/beheer/deelnemers/99999999999999999999/",
        "/stelsel/beheer/deelnemers/99999999999999999999/certificeren/",
        "/stelsel/beheer/deelnemers/" + "9" * 5000 + "/",
        "/stelsel/beheer/aanmeldingen/404/",
        "/stelsel/beheer/aanmeldingen/404/certificeren/",
        "/stelsel/beheer/aanmeldingen/" + "9" * 5000 + "/",
    ],
)
def test_hostile_addresses_are_not_found(operator, url):
    apply(APPLICANT, "Waterschap Aanmelding")
    assert operator.get(url).status_code == 404


def test_the_participant_page_shows_its_data_keys_and_history(operator):
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    html = operator.get(page_of(stored)).content.decode()
    assert APPLICANT in html and "gegevenshouder" in html and "Openstaande betalingen" in html
    assert stored.kid in html and 'id="stand">Aangemeld<' in html
    assert "Aangemeld" in html and "aanvrager" in html  # the history, from the audit trail
    assert 'href="certificeren/"' in html and 'href="weigeren/"' in html
    assert "schorsen/" not in html and 'id="concurrentie"' not in html


def test_the_audit_trail_pages_newest_first_and_says_the_chain_is_whole(operator, settings):
    for number in range(60):
        audit.record(actor="systeem", action="document_published", subject="stelsel", details={"n": number})
    audit.record(actor="olga", action="key_revoked", subject=HOUSING, reason="Gelekt")
    first = operator.get("/stelsel/beheer/logboek/").content.decode()
    assert 'id="keten"' in first and "Het logboek is compleet" in first
    assert first.index("Sleutel ingetrokken") < first.index("Stelseldocument gepubliceerd")  # newest first
    assert "Pagina 1 van 2" in first and "?pagina=2" in first
    second = operator.get("/stelsel/beheer/logboek/?pagina=2").content.decode()
    assert "Pagina 2 van 2" in second
    assert operator.get("/stelsel/beheer/logboek/?pagina=" + "9" * 500).status_code == 200  # the last page


def test_the_audit_trail_says_when_the_chain_is_broken(operator):
    audit.record(actor="olga", action="certified", subject=APPLICANT, reason="Goed")
    second = audit.record(actor="olga", action="suspended", subject=APPLICANT, reason="Klacht")
    with connection.cursor() as cursor:  # an intruder with database access, the triggers taken away: remove a line
        for statement in TRIGGERS.DROP.get(connection.vendor, []):
            cursor.execute(statement)
        cursor.execute("DELETE FROM scheme_auditentry WHERE id = %s", [second.pk - 1])
        for statement in TRIGGERS.APPEND_ONLY.get(connection.vendor, []):
            cursor.execute(statement)
    html = operator.get("/stelsel/beheer/logboek/").content.decode()
    assert f"Het logboek klopt niet meer vanaf regel {second.pk}" in html


def test_the_audit_trail_says_when_its_newest_lines_are_gone(operator):
    lifecycle.certify(apply(APPLICANT, "Waterschap Aanmelding").pk, actor="olga", reason="Goed")
    certified = AuditEntry.objects.order_by("-pk").first()
    assert "Het logboek is compleet" in operator.get("/stelsel/beheer/logboek/").content.decode()
    with connection.cursor() as cursor:  # an intruder with database access, the triggers taken away
        for statement in TRIGGERS.DROP.get(connection.vendor, []):
            cursor.execute(statement)
        cursor.execute("DELETE FROM scheme_auditentry WHERE id = %s", [certified.pk])
        for statement in TRIGGERS.APPEND_ONLY.get(connection.vendor, []):
            cursor.execute(statement)
    html = operator.get("/stelsel/beheer/logboek/").content.decode()
    version = publication.in_force().version
    assert "Het logboek is compleet" not in html
    assert f"Stelseldocument versie {version} noemde meer of andere regels" in html


@pytest.mark.parametrize("reason", ["Goed\u202eteg", "Goed \x1b[2J"], ids=["bidi", "escape"])
def test_a_reason_with_a_direction_or_control_character_is_refused_on_the_form(operator, reason):
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    url = f"{page_of(stored)}certificeren/"
    for data in ({"reason": reason}, {"reason": reason, "confirmed": "ja"}):
        refused = operator.post(url, data)
        assert refused.status_code == 200 and "leesrichting omdraait" in refused.content.decode()
    assert not Organisation.objects.exists()
    assert not AuditEntry.objects.filter(action="certified").exists()


def test_logging_out_ends_both_factors(operator):
    assert operator.post("/stelsel/beheer/uitloggen/")["Location"] == LOGIN
    assert operator.get(HOME).status_code == 302


def test_seed_demo_prints_an_operator_login_that_works(demo_world, client, settings):
    """The demo's operator login: printed by seed_demo, the same on a second run, and it opens the pages."""
    out = io.StringIO()
    call_command("seed_demo", citizens=12, stdout=out)
    printed = out.getvalue().split("The scheme operator's login, at /stelsel/beheer/inloggen/:")[1]
    password, totp_key = staff_login(settings.SECRET_KEY, OPERATOR)
    assert f"username {OPERATOR_USERNAME}, password {password}" in printed
    device = TOTPDevice.objects.get(user__username=OPERATOR_USERNAME)
    assert device.key == totp_key and device.confirmed
    assert log_in(client, OPERATOR_USERNAME, device, password=password)["Location"] == HOME


def _participant_page(client, oin: str) -> str:
    return client.get(f"/stelsel/beheer/deelnemers/{oin}/").content.decode()


def test_the_review_page_shows_the_facts_then_a_checklist_then_the_steps(operator, settings):
    """N9: the decision buttons came before the addresses and keys, and nothing said how to review."""
    applicant = apply(APPLICANT, "Waterschap Aanmelding")
    html = operator.get(page_of(applicant)).content.decode()
    issuer = f"{settings.BASE_URL.rstrip('/')}/{applicant.slug}"
    order = [">Adressen</h2>", ">Sleutels</h2>", "Controleer dit eerst", "blauweknop conformance", "Wat kunt u doen?"]
    places = [html.index(words) for words in order]
    assert places == sorted(places), places
    assert html.index("Wat kunt u doen?") < html.index('href="certificeren/"')
    assert f"blauweknop conformance --holder {issuer} " in html
    assert "acceptatieomgeving" in html and "adressen hierboven antwoorden" in html and "Controleer het contact" in html
    lifecycle.certify(applicant.pk, actor="olga", reason="Goed.")
    certified = _participant_page(operator, APPLICANT)
    assert "Controleer dit eerst" not in certified and "Schorsen" in certified  # the checklist is for an applicant


def test_the_conformance_command_names_the_applicants_own_issuer_and_requester_addresses(operator, settings):
    holder = apply(APPLICANT, "Waterschap Aanmelding")
    both = apply(OTHER_APPLICANT, "Gemeente Aanmelding", is_requester=True, base_url="https://gemeente.example")
    html = operator.get(page_of(holder)).content.decode()
    assert f"--holder {settings.BASE_URL.rstrip('/')}/{holder.slug} " in html and "--requester " not in html
    other = operator.get(page_of(both)).content.decode()
    slug = both.slug
    assert f"--holder https://gemeente.example/{slug} " in other
    assert f"--requester https://gemeente.example/vragers/{slug}/api/v1 " in other


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_participant_page_names_addresses_and_document_types_in_words(operator, lang):
    """N10: "api", "issuer" as labels and the type id "vorderingen" instead of the catalogue's name."""
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    if lang == "en":
        operator.cookies["django_language"] = "en"
    html = operator.get(page_of(stored)).content.decode()
    words = {
        "nl": ["API-adres", "Adres van de uitgever", "Openstaande betalingen"],
        "en": ["API address", "Address of the issuer", "Outstanding payments"],
    }[lang]
    for expected in words:
        assert expected in html, expected
    data = html.split("</dl>", 1)[0]
    assert "vorderingen" not in data  # the name, not the id


def test_the_catalogue_labels_the_vct_and_offers_each_version_as_a_file_to_start_from(operator):
    """N10, N22: a column "vct" without words, and no way to get the current definition to start a new version."""
    html = operator.get("/stelsel/beheer/catalogus/").content.decode()
    assert "Type-adres (vct)" in html and ">vct<" not in html
    link = "/stelsel/beheer/catalogus/persoonsgegevens/1.json"
    assert f'href="{link}"' in html and "Download versie 1 (JSON)" in html
    response = operator.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="persoonsgegevens-1.json"'
    definition = json.loads(response.content)
    assert (definition["id"], definition["version"]) == ("persoonsgegevens", 1)
    # It is a start for the next version: raised to version 2, the new-version page takes it.
    definition["version"], definition["vct"] = 2, definition["vct"].rsplit("/", 1)[0] + "/2"
    confirm = operator.post("/stelsel/beheer/catalogus/nieuwe-versie/", {"definitie": json.dumps(definition)})
    assert confirm.status_code == 200 and "Weet u het zeker?" in confirm.content.decode()
    for unknown in ("persoonsgegevens/9.json", "onbekend/1.json", "persoonsgegevens/1", "../1.json"):
        assert operator.get(f"/stelsel/beheer/catalogus/{unknown}").status_code == 404


def test_nobody_else_downloads_a_catalogue_file(client):
    assert client.get("/stelsel/beheer/catalogus/persoonsgegevens/1.json").status_code == 302


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_audit_trail_names_organisations_and_who_else_acted_in_the_pages_language(operator, lang):
    """N23: the trail showed an OIN only, and the actors "aanvrager", "systeem", "deelnemer" on English pages."""
    stored = apply(APPLICANT, "Waterschap Aanmelding")
    audit.record(actor=keys.SYSTEM, action="key_promoted", subject=OTHER_APPLICANT)
    audit.record(actor=keys.PARTICIPANT, action="key_added", subject=APPLICANT)
    if lang == "en":
        operator.cookies["django_language"] = "en"
    html = operator.get("/stelsel/beheer/logboek/").content.decode()
    assert f"Waterschap Aanmelding</a> ({APPLICANT})" in html
    assert OTHER_APPLICANT in html  # not a participant: its OIN alone
    words = {
        "nl": ["de aanvrager zelf", "het systeem", "de deelnemer zelf"],
        "en": ["the applicant", "the system", "the participant"],
    }[lang]
    for expected in words:
        assert expected in html, expected
    if lang == "en":
        cells = html.split('data-label="By">')[1:]
        assert not any(cell.startswith(("aanvrager", "systeem", "deelnemer")) for cell in cells)
    assert f'href="{page_of(stored)}"' in html  # an application's entries lead to its page
    history = operator.get(page_of(stored)).content.decode()
    assert words[0] in history


def test_the_login_help_names_whom_to_ask_on_each_portal(client):
    """N11: the operator's login said "Vraag de beheerder in uw organisatie", its footer "een collega die het
    stelsel beheert"; a requester's staff do ask their own organisation's administrator."""
    operator_login = client.get(LOGIN).content.decode()
    assert "Vraag een collega die het stelsel beheert om een nieuw wachtwoord" in operator_login
    assert "beheerder in uw organisatie" not in operator_login
    requester_login = client.get("/vragers/inloggen/").content.decode()
    assert "Vraag de beheerder in uw organisatie om een nieuw wachtwoord" in requester_login
    device = make_operator("piet")
    assert client.post(LOGIN, {"username": "piet", "password": PASSWORD}).status_code == 302
    second = client.get("/stelsel/beheer/inloggen/tweede-stap/").content.decode()
    assert "Vraag een collega die het stelsel beheert om uw app opnieuw in te stellen" in second
    assert "beheerder in uw organisatie" not in second and device is not None


def test_locked_out_operator_staff_are_told_whom_to_ask(client, settings):
    make_operator("piet")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(LOGIN, {"username": "piet", "password": "fout"})
    html = response.content.decode()
    assert response.status_code == 429 and "Meld het dan ook aan een collega die het stelsel beheert" in html


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_wrong_code_says_how_many_seconds_to_wait(client, lang):
    """N21: after one wrong code, the right one was refused with "te veel verkeerde codes. Wacht even"."""
    device = make_operator("piet")
    if lang == "en":
        client.cookies["django_language"] = "en"
    second = client.post(LOGIN, {"username": "piet", "password": PASSWORD})["Location"]
    wrong = client.post(second, {"token": "000000" if code(device) != "000000" else "111111"}).content.decode()
    at_once = client.post(second, {"token": code(device)}).content.decode()
    if lang == "nl":
        assert "Deze code klopt niet. Wacht 1 seconde en typ dan de code die de app nu laat zien." in wrong
        assert "Wacht nog 1 seconde" in at_once and "Elke verkeerde code maakt het wachten langer" in at_once
    else:
        assert "This code is not right. Wait 1 second, then type the code the app shows now." in wrong
        assert "Wait 1 more second" in at_once and "Each wrong code makes the wait longer" in at_once
    assert "te veel" not in at_once and "too many" not in at_once
    device.refresh_from_db()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=4)  # four wrong codes: 8 seconds
    again = client.post(second, {"token": code(device)}).content.decode()
    assert ("Wacht nog 8 seconden" if lang == "nl" else "Wait 8 more seconds") in again


def test_seed_demo_records_each_demo_organisations_certification_once(demo_world, operator):
    """N14: the demo organisations were "certified since" a date, with nothing in their history."""
    call_command("seed_demo", citizens=12, stdout=io.StringIO())  # a re-seed adds nothing
    entries = AuditEntry.objects.filter(action="certified")
    assert entries.count() == Organisation.objects.count() == 17
    assert set(entries.values_list("actor", "reason")) == {("systeem", "Demo")}
    assert audit.verify_chain() is None and audit.missing_since() is None
    html = _participant_page(operator, "00000001003214345000")
    assert "Gecertificeerd" in html and "door het systeem" in html and "Reden: Demo" in html


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_applications_that_compete_for_an_oin_are_shown_side_by_side_and_warned_about(operator, lang):
    """Attack review A11: anyone may apply under any OIN; the operator sees who else applied with it."""
    real = apply(APPLICANT, "Waterschap Aanmelding")
    impostor = apply(APPLICANT, "Waterschap Aanmelding", base_url="https://evil.example")
    if lang == "en":
        operator.cookies["django_language"] = "en"
    home = operator.get(HOME).content.decode()
    assert f'href="{page_of(real)}"' in home and f'href="{page_of(impostor)}"' in home
    html = operator.get(page_of(real)).content.decode()
    warning = html.split('id="concurrentie"')[1].split("</div>")[0]
    words = {"nl": ("Ook aangemeld", "bewijst niet dat het OIN"), "en": ("Also applied", "does not prove that the OIN")}
    assert all(word in warning for word in words[lang]) and f'href="{page_of(impostor)}"' in warning
    assert impostor.kid in warning
    # Once the real one is certified, the other can only be refused: its page says why.
    lifecycle.certify(real.pk, actor="olga", reason="Gebeld via het OIN-register.")
    other = operator.get(page_of(impostor)).content.decode()
    said = {"nl": "Dit OIN is al van deelnemer Waterschap Aanmelding", "en": "This OIN belongs to participant"}
    assert said[lang] in other
    refused = operator.post(f"{page_of(impostor)}certificeren/", {"reason": "Per ongeluk", "confirmed": "ja"})
    assert refused.status_code == 409
    done = operator.post(f"{page_of(impostor)}weigeren/", {"reason": "Niet de echte organisatie", "confirmed": "ja"})
    assert done.status_code == 302 and done["Location"] == page_of(impostor)
    state = {"nl": 'id="stand">Geweigerd<', "en": 'id="stand">Refused<'}
    assert state[lang] in operator.get(page_of(impostor)).content.decode()
    assert Organisation.objects.get(oin=APPLICANT).base_url == ""  # the real one's, not the impostor's
