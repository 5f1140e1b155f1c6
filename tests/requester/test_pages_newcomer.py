"""The newcomer's browser review of the staff pages (/vragers/), wave 2: R2, R4, R6, R8, R9, R14."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format

from blauweknop.demo.organisations import ORGANISATIONS
from blauweknop.requester import presets
from blauweknop.requester.models import ReceivedCredential, ShareRequest
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.requester.test_pages import BANK, DEBT_HELP, made
from tests.requester.test_pages_review import MUNICIPALITY, copy, page
from tests.requester.test_staff_login import HOUSING, log_in, make_staff

SUSPENDED_NL = (
    "Uw organisatie is geschorst door de beheerder van de Blauwe Knop. U kunt nu geen nieuwe verzoeken maken en "
    "niets ophalen. Wat u al kreeg, ziet u nog wel bij uw verzoeken."
)


@pytest.fixture
def staff(demo_world, client):
    """A staff member of the housing corporation, logged in with both factors."""
    assert log_in(client, "anna", make_staff(HOUSING, "anna"))["Location"] == "/vragers/"
    return client


def answered(share_request: ShareRequest, *, approved_until=None) -> ShareRequest:
    """``share_request`` answered by the citizen with one income copy (standing access when ``approved_until``)."""
    now = timezone.now()
    changes = {"status": "goedgekeurd", "consent": "toestemming-1", "answered_at": now}
    if approved_until:
        changes |= {"access": "doorlopend", "access_until": now.date() + timedelta(days=180)}
        changes["approved_until"] = approved_until
    ShareRequest.objects.filter(pk=share_request.pk).update(**changes)
    copy(share_request, now, 2025)
    return ShareRequest.objects.get(pk=share_request.pk)


def suspend(oin: str) -> None:
    Organisation.objects.filter(oin=oin).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    scheme_client.forget()


def test_r2_suspended_staff_read_their_requests_and_data_but_cannot_ask_or_fetch(staff):
    received = answered(made(HOUSING, "huur"), approved_until=timezone.localdate() + timedelta(days=60))
    still_open = made(HOUSING, "huur", reference="open-dossier")
    assert "Haal nu op" in page(staff, received)
    suspend(HOUSING)

    response = staff.get(f"/vragers/verzoeken/{received.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert SUSPENDED_NL in html and "Neem contact op met de beheerder van het stelsel (" in html
    assert "Gegevens ontvangen" in html and "Jansen" in html and "Wordt verwijderd op" in html
    assert "Haal nu op" not in html and "Dit kan nu niet" not in html
    assert "Your organisation has been suspended" in page(staff, received, "en")
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"

    # An open request can no longer be handed out: no link, QR code or code.
    html = page(staff, still_open)
    assert 'id="code"' not in html and 'id="link"' not in html and "<svg" not in html

    # Nothing new is asked and nothing fetched: 403, with the same words.
    before = ReceivedCredential.objects.count()
    for response in (
        staff.get("/vragers/nieuw/"),
        staff.post("/vragers/nieuw/", {"preset": "huur", "reference": "tijdens-schorsing"}),
        staff.post(f"/vragers/verzoeken/{received.pk}/ophalen/"),
    ):
        html = response.content.decode()
        assert response.status_code == 403
        assert SUSPENDED_NL in html and "Er is geen nieuw verzoek gemaakt en niets opgehaald." in html
    assert not ShareRequest.objects.filter(reference="tijdens-schorsing").exists()
    assert ReceivedCredential.objects.count() == before


def preset_file(tmp_path, monkeypatch, content) -> None:
    path = tmp_path / "vragen.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    monkeypatch.setenv(presets.ENVIRONMENT, str(path))


SHORT_RENT = {
    "id": "huur-kort",
    "name": {"nl": "Alleen het inkomen", "en": "Only the income"},
    "purpose": {"nl": "Wij kijken naar uw inkomen.", "en": "We look at your income."},
    "asked": [{"type": "inkomen", "required": True, "fields": {"naam.geslachtsnaam": True, "belastingjaar": True}}],
    "retention_days": 14,
}


def test_r4_what_a_requester_asks_comes_from_the_deployments_file(staff, client, tmp_path, monkeypatch):
    preset_file(tmp_path, monkeypatch, {"presets": [SHORT_RENT], "requesters": {HOUSING: ["huur-kort"]}})
    html = staff.get("/vragers/nieuw/").content.decode()
    assert 'value="huur-kort"' in html and 'value="huur"' not in html
    assert "Laat het leeg voor 14 dagen." in html
    staff.post("/vragers/nieuw/", {"preset": "huur-kort", "reference": "uit-bestand"})
    share_request = ShareRequest.objects.get(reference="uit-bestand")
    assert share_request.retention_days == 14 and share_request.purpose["nl"] == "Wij kijken naar uw inkomen."
    assert [claim["path"] for claim in share_request.asked["credentials"][0]["claims"]] == [
        ["naam", "geslachtsnaam"],
        ["belastingjaar"],
    ]
    assert "Alleen het inkomen" in staff.get("/vragers/").content.decode()

    # A requester the file does not name has none, and the page says what its technical admin must do.
    staff.post("/vragers/uitloggen/")
    assert log_in(client, "bert", make_staff(BANK, "bert"))["Location"] == "/vragers/"
    html = client.get("/vragers/nieuw/").content.decode()
    assert 'type="radio" name="preset"' not in html
    assert "Voor uw organisatie is nog niet ingesteld wat u de inwoner kunt vragen." in html
    assert "<code>docs/plus.md</code>" in html and "Setting what a requester asks" in html
    assert client.post("/vragers/nieuw/", {"preset": "lening"}).status_code == 200
    assert not ShareRequest.objects.filter(requester_id=BANK).exists()


def test_r4_a_preset_the_catalogue_cannot_give_is_not_offered(staff, tmp_path, monkeypatch):
    unknown = {**SHORT_RENT, "id": "fout", "name": {"nl": "Met een onbekend veld", "en": "With an unknown field"}}
    unknown["asked"] = [{"type": "inkomen", "required": True, "fields": {"schoenmaat": True}}]
    preset_file(
        tmp_path, monkeypatch, {"presets": [SHORT_RENT, unknown], "requesters": {HOUSING: ["huur-kort", "fout"]}}
    )
    html = staff.get("/vragers/nieuw/").content.decode()
    assert 'value="huur-kort"' in html and 'value="fout"' not in html
    assert "Dit kunt u nu niet vragen: Met een onbekend veld." in html
    assert staff.post("/vragers/nieuw/", {"preset": "fout"}).status_code == 200
    assert not ShareRequest.objects.exists()


def test_r4_a_wrong_file_is_named_by_manage_py_check_and_the_page_offers_nothing(staff, tmp_path, monkeypatch):
    preset_file(tmp_path, monkeypatch, {"presets": [{**SHORT_RENT, "retention_days": 0}], "requesters": {}})
    [error] = presets.check_file()
    assert error.id == "blauweknop.E101" and "presets[0].retention_days: must be a whole number from 1" in error.msg
    html = staff.get("/vragers/nieuw/").content.decode()
    assert "Wat uw organisatie kan vragen, is niet goed ingesteld." in html and 'name="preset"' not in html
    preset_file(tmp_path, monkeypatch, "{not json")
    assert "is not JSON" in presets.check_file()[0].msg


def test_r4_the_demo_uses_the_packaged_file_and_check_passes(settings, monkeypatch, tmp_path):
    monkeypatch.delenv(presets.ENVIRONMENT, raising=False)
    settings.DATA_DIR = tmp_path
    assert presets.file() == presets.DEMO_FILE and presets.check_file() == []
    assert [p.id for p in presets.current().for_requester(DEBT_HELP)] == ["schuldhulp"]
    assert presets.current().for_requester(MUNICIPALITY) == ()
    settings.DEMO = False
    assert presets.file() is None and presets.current().for_requester(HOUSING) == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"presets": "x"}, "presets: must be a list"),
        ({"presets": [{**SHORT_RENT, "colour": 1}]}, "presets[0]: unknown key 'colour'"),
        ({"presets": [{**SHORT_RENT, "name": {"nl": "x"}}]}, "presets[0].name: give it in Dutch and English"),
        ({"presets": [{**SHORT_RENT, "access": "altijd"}]}, "presets[0].access: is 'eenmalig' or 'doorlopend'"),
        ({"presets": [SHORT_RENT, SHORT_RENT]}, "presets: the id 'huur-kort' is used twice"),
        ({"presets": [{**SHORT_RENT, "asked": []}]}, "presets[0].asked: must list 1 to"),
        ({"requesters": {"123": ["huur-kort"]}}, "requesters: '123' is not an OIN"),
        ({"requesters": {HOUSING: ["lening"]}}, f"requesters.{HOUSING}: names 'lening', which is not a preset"),
    ],
)
def test_r4_each_mistake_in_the_file_is_named_with_its_place(change, message):
    with pytest.raises(presets.PresetsInvalid, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        presets.parse({"presets": [SHORT_RENT], "requesters": {}} | change)


def test_r4_the_municipality_is_told_it_fetches_on_a_legal_basis_through_the_api(demo_world, client):
    assert log_in(client, "gijs", make_staff(MUNICIPALITY, "gijs"))["Location"] == "/vragers/"
    html = client.get("/vragers/nieuw/").content.decode()
    assert "Uw organisatie haalt gegevens op grond van de wet op: Participatiewet, artikel 64." in html
    assert "via de API (koppeling) van uw eigen systeem" in html and "deel 5" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/vragers/nieuw/").content.decode()
    assert "Your organisation fetches data on a legal basis: Participation Act, article 64." in html


def test_r6_the_citizens_end_date_comes_first_and_a_left_out_part_is_said(staff):
    share_request = made(HOUSING, "huur")
    assert "De inwoner deelde dit niet." not in page(staff, share_request)  # not answered yet
    until = timezone.localdate() + timedelta(days=60)
    share_request = answered(share_request, approved_until=until)
    html = page(staff, share_request)
    with translation.override("nl"):
        day, asked = date_format(until, "j F Y"), date_format(share_request.access_until, "j F Y")
    assert f"Doorlopend, tot en met {day} (u vroeg tot en met {asked})" in html
    assert html.count("De inwoner deelde dit niet.") == 1
    assert 'data-weggelaten="persoonsgegevens"' in html
    assert "The citizen did not share this." in page(staff, share_request, "en")
    assert "(you asked up to and including" in page(staff, share_request, "en")


def test_r8_each_preset_says_what_it_asks_and_its_defaults_in_numbers(staff, client):
    html = staff.get("/vragers/nieuw/").content.decode()
    assert "Inkomen (nodig): voornamen, " in html
    assert "Persoonsgegevens (mag de inwoner weglaten): straat, huisnummer, postcode, woonplaats" in html
    assert "Bewaren: 90 dagen. Eenmalig: de inwoner deelt één keer." in html
    assert "Laat het leeg voor 90 dagen." in html and "Zoals het verzoek voorstelt: eenmalig" in html
    staff.post("/vragers/uitloggen/")
    assert log_in(client, "dirk", make_staff(DEBT_HELP, "dirk"))["Location"] == "/vragers/"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/vragers/nieuw/").content.decode()
    assert "Keep: 365 days. Standing: you may fetch the latest data for 6 months." in html
    assert "Leave it empty for 6 months: up to and including" in html


def test_r9_the_debt_counsellors_description_does_not_mention_income():
    debt_help = next(org for org in ORGANISATIONS if org["oin"] == DEBT_HELP)
    assert "inkomen" not in debt_help["description"]["nl"] and "income" not in debt_help["description"]["en"]


def test_r14_staff_are_told_where_the_citizen_types_the_code_kept_on_one_line(staff):
    html = page(staff, made(HOUSING, "huur"))
    assert 'De inwoner gaat naar <a class="utrecht-link utrecht-link--html-a" href="' in html
    assert '/delen/">' in html and 'vult bij "Code" de code in' in html
    assert '<strong class="blauweknop-code" id="code">' in html and "blauweknop/requester.css" in html


def test_r6_the_day_the_citizen_withdrew_is_on_the_request_page_and_the_list(staff):
    share_request = answered(made(HOUSING, "huur", reference="ingetrokken-dossier"))
    withdrawn_at = timezone.now() - timedelta(days=3)
    ShareRequest.objects.filter(pk=share_request.pk).update(status="ingetrokken", ended_at=withdrawn_at)
    with translation.override("nl"):
        said = f"De inwoner trok de toestemming in op {date_format(timezone.localtime(withdrawn_at), 'j F Y')}."
    assert said in page(staff, share_request)
    assert said in staff.get("/vragers/").content.decode()
    assert "The citizen withdrew the consent on " in page(staff, share_request, "en")
