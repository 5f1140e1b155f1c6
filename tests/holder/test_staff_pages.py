"""The holder staff's pages: two-factor login for a holder's staff only, each holder sees its own requests only, the
queue by deadline, and the decisions (take up, accept with a confirm step, reject with a reason, extend with a
reason), a decided request refused a second decision, and the attachment only as a download."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from blauweknop.holder import corrections, staff
from blauweknop.holder.models import CorrectionRequest, HolderStaffMember, SourceRecord, Tenant
from blauweknop.scheme.client import SchemeUnavailable
from tests.requester.test_staff_login import HOUSING, code
from tests.requester.test_staff_login import make_staff as make_requester_staff
from tests.scheme.test_operator_pages import make_operator

PASSWORD = "een-lang-demo-wachtwoord"
BELASTING, BELASTING_SLUG = "00000001003214345000", "belastingkantoor"
STUDIE, STUDIE_SLUG = "00000001005165486000", "studiefinanciering"
HOME = "/gegevenshouder/beheer/"
LOGIN = HOME + "inloggen/"
FIELD = "verzamelinkomenInCenten"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


def make_holder_staff(username: str, holder: str) -> TOTPDevice:
    """A member of ``holder``'s staff, made with the management command as a deployment makes one."""
    args = [username, "--holder", holder, "--password", PASSWORD, "--totp"]
    call_command("holder_staff", *args, stdout=io.StringIO())
    return TOTPDevice.objects.get(user__username=username, confirmed=True)


def log_in(client: Client, username: str, device: TOTPDevice | None, *, password: str = PASSWORD):
    """Both steps, as a browser without JavaScript does them; the last response."""
    response = client.post(LOGIN, {"username": username, "password": password})
    if device is None or response.status_code != 302:
        return response
    return client.post(response["Location"], {"token": code(device)})


def logged_in(username: str, holder: str) -> Client:
    client = Client()
    assert log_in(client, username, make_holder_staff(username, holder))["Location"] == HOME
    return client


def tenant(oin: str, slug: str) -> Tenant:
    return Tenant.objects.get_or_create(oin=oin, defaults={"slug": slug, "issuer_url": f"http://x/{slug}"})[0]


def income_record() -> SourceRecord:
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").order_by("pk").first()


def correction(
    reference: str, holder: Tenant, *, days: int = 20, state: str = "ontvangen", **fields
) -> CorrectionRequest:
    """A request as the holder's API stores one: about a demo citizen's income at the tax office, by default."""
    record = income_record()
    now = timezone.now()
    values = {
        "reference": reference,
        "holder": holder,
        "bsn": record.bsn,
        "subject": "pseudoniem-" + reference,
        "app_manager_oin": "00000001234567890000",
        "document_type": "inkomen",
        "path": FIELD,
        "current_value": record.data[FIELD],
        "proposed_value": "12.345,67",
        "explanation": "Mijn inkomen was lager: ik werkte maar een half jaar.",
        "state": state,
        "received_at": now - timedelta(days=3),
        "deadline": now + timedelta(days=days),
        **fields,
    }
    if state in ("aangepast", "afgewezen"):
        values.setdefault("decided_at", now - timedelta(days=1))
    return CorrectionRequest.objects.create(**values)


@pytest.fixture
def two_holders(demo_world):
    """The tax office and the student finance office, each with a staff member logged in and one open request."""
    ours = correction("BK-0001", tenant(BELASTING, BELASTING_SLUG))
    theirs = correction("SF-0001", tenant(STUDIE, STUDIE_SLUG), attachment_name="brief.pdf")
    return {
        "ours": ours,
        "theirs": theirs,
        "belasting": logged_in("anna", BELASTING),
        "studie": logged_in("bert", STUDIE),
    }


def html(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page's words, without tags: what a reader sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


def test_the_password_alone_opens_no_holder_staff_page(demo_world, client):
    device = make_holder_staff("anna", BELASTING)
    response = client.post(LOGIN, {"username": "anna", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN + "tweede-stap/")
    assert client.get(HOME)["Location"].startswith(LOGIN + "tweede-stap/")
    assert client.post(response["Location"], {"token": code(device)})["Location"] == HOME
    page = client.get(HOME)
    assert page.status_code == 200
    assert "Belastingkantoor Voorbeeldland" in text(page)  # the name from the scheme document


def test_citizens_and_other_staff_are_no_holder_staff(demo_world, client):
    """A DigiD login, a requester's staff and the operator's staff, each with both factors, are sent to the login."""
    client.post("/inloggen/", {"bsn": "999993653"})
    assert client.get(HOME)["Location"].startswith(LOGIN + "?next=")

    for username, device, login in (
        ("rita", make_requester_staff(HOUSING, "rita"), "/vragers/inloggen/"),
        ("olga", make_operator("olga"), "/stelsel/beheer/inloggen/"),
    ):
        other = Client()
        step = other.post(login, {"username": username, "password": PASSWORD})["Location"]
        assert other.post(step, {"token": code(device)}).status_code == 302  # logged in where they belong
        assert other.get(HOME)["Location"].startswith(LOGIN + "?next=")
        refused = other.post(LOGIN, {"username": username, "password": PASSWORD})
        assert refused.status_code == 200 and "horen niet bij elkaar" in html(refused)


def test_staff_of_one_holder_never_see_another_holders_requests(two_holders):
    ours, theirs, client = two_holders["ours"], two_holders["theirs"], two_holders["belasting"]
    queue = html(client.get(HOME))
    assert ours.reference in queue and theirs.reference not in queue
    base = f"{HOME}verzoeken/{theirs.reference}/"
    assert client.get(base).status_code == 404
    assert client.get(base + "bijlage/").status_code == 404
    assert client.get(base + "afwijzen/").status_code == 404
    assert client.post(base + "in-behandeling/").status_code == 404
    assert client.post(base + "afwijzen/", {"reason": "Nee.", "confirmed": "ja"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "ontvangen" and theirs.decision_reason == ""
    # and the other way round
    assert two_holders["studie"].get(f"{HOME}verzoeken/{ours.reference}/").status_code == 404
    assert theirs.reference in html(two_holders["studie"].get(HOME))


def test_the_queue_puts_the_nearest_deadline_first_and_says_how_many_days(two_holders):
    holder = tenant(BELASTING, BELASTING_SLUG)
    correction("BK-LATE", holder, days=-3)
    correction("BK-TODAY", holder, days=0)
    correction("BK-DONE", holder, state="afgewezen", decision_reason="Klopt.", days=-40)
    page = two_holders["belasting"].get(HOME)
    words = text(page)
    open_part, decided_part = html(page).split('id="besloten"')
    order = [open_part.index(reference) for reference in ("BK-LATE", "BK-TODAY", "BK-0001")]
    assert order == sorted(order)
    assert "BK-DONE" in decided_part and "BK-DONE" not in open_part
    assert "3 dagen te laat" in words and "vandaag" in words and "nog 20 dagen" in words
    assert "Verzamelinkomen" in words  # the field in the catalogue's words, not its path
    assert FIELD not in words


def test_one_request_shows_the_field_in_words_the_name_from_the_source_and_only_the_bsn_end(two_holders):
    ours = two_holders["ours"]
    page = two_holders["belasting"].get(f"{HOME}verzoeken/{ours.reference}/")
    words = text(page)
    record = income_record()
    name = record.data["naam"]
    assert name["geslachtsnaam"] in words and name["voornamen"] in words
    assert record.bsn not in html(page) and f"eindigt op {record.bsn[-3:]}" in words
    assert "12.345,67" in words and "ik werkte maar een half jaar" in words
    assert FIELD not in words
    assert "€" in words  # the value then, as money
    assert "nog 20 dagen" in words


def test_take_up_needs_no_confirm_step_and_a_csrf_token(two_holders):
    ours, client = two_holders["ours"], two_holders["belasting"]
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.post(f"{HOME}verzoeken/{ours.reference}/in-behandeling/").status_code == 403
    response = client.post(f"{HOME}verzoeken/{ours.reference}/in-behandeling/")
    assert response.status_code == 302
    ours.refresh_from_db()
    assert ours.state == "in_behandeling" and ours.handled_by == "anna"
    assert "In behandeling" in text(client.get(f"{HOME}verzoeken/{ours.reference}/"))


def test_accept_shows_the_new_value_prefilled_then_asks_to_confirm_then_writes_the_source(two_holders):
    ours, client = two_holders["ours"], two_holders["belasting"]
    url = f"{HOME}verzoeken/{ours.reference}/aanpassen/"
    form = html(client.get(url))
    assert 'value="12.345,67"' in form  # the citizen's proposal, to change if needed
    confirm = client.post(url, {"value": "12.345,67"})
    assert confirm.status_code == 200 and "Weet u het zeker?" in text(confirm)
    assert "€ 12.345,67" in text(confirm)  # as it will stand in the source: an amount
    ours.refresh_from_db()
    assert ours.state == "ontvangen"  # nothing yet
    done = client.post(url, {"value": "12.345,67", "confirmed": "ja"})
    assert done.status_code == 302
    ours.refresh_from_db()
    assert ours.state == "aangepast" and ours.notice_pending
    assert income_record().data[FIELD] == 1234567
    assert "De gegevens zijn aangepast" in text(client.get(done["Location"]))


def test_a_value_the_field_cannot_take_is_refused_next_to_the_field_before_the_confirm_step(two_holders):
    ours, client = two_holders["ours"], two_holders["belasting"]
    url = f"{HOME}verzoeken/{ours.reference}/aanpassen/"
    for typed in ("twaalfduizend euro", "1.234.56"):
        response = client.post(url, {"value": typed, "confirmed": "ja"})
        assert response.status_code == 200 and "Weet u het zeker?" not in text(response)
        assert 'id="id_value-fout"' in html(response) and "1.234,56" in text(response)
    assert "De waarde is te lang" in text(client.post(url, {"value": "x" * 501, "confirmed": "ja"}))
    ours.refresh_from_db()
    assert ours.state == "ontvangen" and income_record().data[FIELD] == ours.current_value


def test_reject_needs_a_reason_next_to_the_field_and_in_the_summary(two_holders):
    ours, client = two_holders["ours"], two_holders["belasting"]
    url = f"{HOME}verzoeken/{ours.reference}/afwijzen/"
    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 200
    assert 'id="id_reason-fout"' in html(empty) and 'aria-invalid="true"' in html(empty)
    assert 'href="#id_reason"' in html(empty)  # the summary links to the field
    too_long = client.post(url, {"reason": "x" * 1001})
    assert "te lang" in text(too_long)
    ours.refresh_from_db()
    assert ours.state == "ontvangen"

    reason = "Het inkomen klopt: het komt van uw werkgever.\nU kunt bezwaar maken."
    confirm = client.post(url, {"reason": reason})
    assert "Weet u het zeker?" in text(confirm) and "U kunt bezwaar maken." in text(confirm)
    assert client.post(url, {"reason": reason, "confirmed": "ja"}).status_code == 302
    ours.refresh_from_db()
    assert ours.state == "afgewezen" and ours.decision_reason == reason
    assert income_record().data[FIELD] == ours.current_value  # the source unchanged


def test_extend_moves_the_deadline_shows_the_reason_and_only_once(two_holders):
    ours, client = two_holders["ours"], two_holders["belasting"]
    url = f"{HOME}verzoeken/{ours.reference}/verlengen/"
    missing = client.post(url, {"reason": "Veel verzoeken."})
    assert "Kies 1 of 2 maanden." in text(missing)
    assert 'href="#id_months"' in html(missing) and '<fieldset class="utrecht-form-fieldset__fieldset' in html(missing)
    assert 'id="id_months" aria-describedby="months-fout" aria-invalid="true"' in html(missing)
    before = ours.deadline
    client.post(url, {"months": "2", "reason": "Wij vragen uw werkgever om gegevens."})
    ours.refresh_from_db()
    assert ours.deadline == before and not ours.extension_reason  # the confirm step first
    assert client.post(url, {"months": "2", "reason": "Wij vragen uw werkgever om gegevens.", "confirmed": "ja"})
    ours.refresh_from_db()
    assert ours.deadline > before and ours.extension_reason == "Wij vragen uw werkgever om gegevens."
    page = text(client.get(f"{HOME}verzoeken/{ours.reference}/"))
    assert "Wij vragen uw werkgever om gegevens." in page
    assert timezone.localtime(ours.deadline).strftime("%Y") in page
    again = client.post(url, {"months": "1", "reason": "Nog eens.", "confirmed": "ja"})
    assert again.status_code == 409 and "maar één keer" in text(again)


def test_a_decided_request_cannot_be_decided_again(two_holders):
    holder = tenant(BELASTING, BELASTING_SLUG)
    done = correction("BK-DONE", holder, state="afgewezen", decision_reason="Het klopt.")
    client = two_holders["belasting"]
    before = income_record().data[FIELD]
    for slug, data in (("aanpassen", {"value": "1,00"}), ("afwijzen", {"reason": "Toch niet."})):
        response = client.post(f"{HOME}verzoeken/{done.reference}/{slug}/", {**data, "confirmed": "ja"})
        assert response.status_code == 409
        assert "al besloten" in text(response) and "Er is niets veranderd." in text(response)
    assert client.post(f"{HOME}verzoeken/{done.reference}/in-behandeling/").status_code == 409
    done.refresh_from_db()
    assert done.state == "afgewezen" and done.decision_reason == "Het klopt."
    assert income_record().data[FIELD] == before
    page = text(client.get(f"{HOME}verzoeken/{done.reference}/"))
    assert "Aanpassen" not in page and "Het klopt." in page


def test_the_attachment_is_a_download_only(demo_world):
    ours = correction(
        "BK-PDF",
        tenant(BELASTING, BELASTING_SLUG),
        attachment_name="loonstrook.pdf",
        attachment_type="application/pdf",
        attachment=PDF,
    )
    client = logged_in("anna", BELASTING)
    response = client.get(f"{HOME}verzoeken/{ours.reference}/bijlage/")
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="loonstrook.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert client.get(f"{HOME}verzoeken/BK-0009/bijlage/").status_code == 404


def test_a_deleted_attachment_is_named_without_a_link_to_nothing(demo_world):
    ours = correction(
        "BK-OUD",
        tenant(BELASTING, BELASTING_SLUG),
        attachment_name="loonstrook.pdf",
        attachment_type="application/pdf",
        attachment=PDF,
        state=CorrectionRequest.State.REJECTED,
        decided_at=timezone.now() - timedelta(days=91),
    )
    assert corrections.forget_old_attachments(timezone.now()) == 1
    client = logged_in("anna", BELASTING)
    page = client.get(f"{HOME}verzoeken/{ours.reference}/").content.decode()
    assert "loonstrook.pdf (verwijderd)" in page and f"{ours.reference}/bijlage/" not in page


def test_the_pages_work_with_the_oin_when_the_scheme_document_cannot_be_had(demo_world, monkeypatch):
    ours = correction("BK-0001", tenant(BELASTING, BELASTING_SLUG))
    client = logged_in("anna", BELASTING)

    async def unavailable() -> None:
        raise SchemeUnavailable

    monkeypatch.setattr(staff.scheme_client, "current", unavailable)
    queue = client.get(HOME)
    assert queue.status_code == 200 and BELASTING in text(queue) and FIELD in text(queue)
    page = client.get(f"{HOME}verzoeken/{ours.reference}/")
    assert page.status_code == 200 and "Niet te lezen" in text(page)


def test_the_pages_speak_english(two_holders):
    client = two_holders["belasting"]
    client.cookies["django_language"] = "en"
    words = text(client.get(HOME))
    assert "Correction requests" in words and "20 days left" in words
    page = text(client.get(f"{HOME}verzoeken/{two_holders['ours'].reference}/"))
    assert "Reject" in page and "Extend the deadline" in page


def test_hostile_references_are_not_found(two_holders):
    client = two_holders["belasting"]
    for reference in ("x" * 5000, "BK-0001'--", "%00", "BK-0001%0a"):
        assert client.get(f"{HOME}verzoeken/{reference}/").status_code == 404
    assert client.get(f"{HOME}verzoeken/BK-0001/weggooien/").status_code == 404


def test_the_command_refuses_a_holder_this_deployment_does_not_serve():
    with pytest.raises(CommandError, match="BLAUWEKNOP_HOLDER_OINS"):
        call_command("holder_staff", "anna", "--holder", "00000009999999999000", "--password", PASSWORD)
    assert not HolderStaffMember.objects.exists()


def test_seed_demo_makes_and_prints_a_login_for_two_holders(demo_world):
    out = io.StringIO()
    call_command("seed_demo", citizens=12, stdout=out)
    printed = out.getvalue()
    assert "/gegevenshouder/beheer/inloggen/" in printed
    assert "Belastingkantoor Voorbeeldland: username medewerker," in printed
    assert "Studiefinanciering Voorbeeldland: username medewerker-studiefinanciering," in printed
    members = dict(HolderStaffMember.objects.values_list("user__username", "holder_oin"))
    assert members == {"medewerker": BELASTING, "medewerker-studiefinanciering": STUDIE}


def test_every_page_says_who_is_logged_in_and_offers_to_log_out(demo_world):
    ours = correction("BK-0042", tenant(BELASTING, BELASTING_SLUG))
    client = logged_in("anna", BELASTING)
    for page in (HOME, f"{HOME}verzoeken/{ours.reference}/"):
        shown = client.get(page).content.decode()
        assert "Ingelogd als" in shown and ">anna<" in shown, page
        assert f'action="{HOME}uitloggen/"' in shown, page
