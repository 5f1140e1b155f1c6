"""The citizen's side of a correction: "Klopt dit niet?" on the data page, the form, the confirmation, the list.

The portal sends each request over HTTP to the holder's API on the live server, as in production.
"""

import html
import io
import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import formats, timezone, translation
from PIL import Image

from blauweknop.holder import corrections as holder_corrections
from blauweknop.holder.models import CorrectionRequest, SourceRecord
from blauweknop.portal.models import CorrectionTicket
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.test_attachments import pdf
from tests.test_request_limits import call, must_not_be_read

from .conftest import BELASTING, GEMEENTE, browser, checkbox_paths, log_in

pytestmark = pytest.mark.django_db(transaction=True)

AMOUNT = "vorderingen.openstaandBedragInCenten"
PDF = pdf()  # a real PDF: the attachment check reads it


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


def _debtors_at_both() -> list[str]:
    """The demo citizens with debts at both the tax office and the municipality."""
    debts = SourceRecord.objects.filter(document_type="vorderingen")
    at = {oin: set(debts.filter(holder_oin=oin).values_list("bsn", flat=True)) for oin in (BELASTING, GEMEENTE)}
    both = sorted(at[BELASTING] & at[GEMEENTE])
    assert len(both) >= 2, "the demo has too few citizens with debts at both holders"
    return both


@pytest.fixture
def debtors(demo_world):
    return _debtors_at_both()[:2]


@pytest.fixture
def debtor(client, debtors):
    assert log_in(client, debtors[0]).status_code == 302
    return client


def _press(client, oin):
    response = client.post(f"/organisaties/{oin}/blauwe-knop/")
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def _links(page: str) -> list[tuple[str, str, str]]:
    """Every "Klopt dit niet?" link: (the field's concrete path, the address, the accessible name)."""
    found = re.findall(r'<a [^>]*href="([^"]+)" data-correctie="([^"]+)">(.*?)</a>', page, re.S)
    return [(path, html.unescape(href), re.sub(r"<[^>]+>", "", text).strip()) for href, path, text in found]


def _form_address(client, oin, path=AMOUNT, position=0):
    return f"/organisaties/{oin}/correctie/?soort=vorderingen&veld={path}&positie={position}"


def _token(page: str) -> str:
    return re.search(r'name="formulier" value="([^"]+)"', page).group(1)


def _open_form(client, oin, **kwargs) -> tuple[str, str]:
    address = _form_address(client, oin, **kwargs)
    response = client.get(address)
    assert response.status_code == 200
    return address, response.content.decode()


def _send(client, address, page, **fields):
    form = {"formulier": _token(page), "voorstel": "0", "toelichting": "Ik heb dit op 3 maart betaald.", **fields}
    return client.post(address, form)


def _upload(name, data, content_type):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _dutch(day) -> str:
    """A day as the Dutch pages write it: 30 december 2026."""
    with translation.override("nl"):
        return formats.date_format(day, "j F Y")


def _nothing_stored():
    return not CorrectionRequest.objects.exists() and not CorrectionTicket.objects.exists()


def test_every_field_has_a_link_to_the_form_at_its_own_holder(debtor):
    for oin in (BELASTING, GEMEENTE):
        page = _press(debtor, oin)
        links = _links(page)
        assert sorted(path for path, _, _ in links) == sorted(checkbox_paths(page)), "a field without the link"
        for concrete, href, name in links:
            address = urlsplit(href)
            query = parse_qs(address.query)
            assert address.path == f"/organisaties/{oin}/correctie/", "the link goes to another holder"
            generic = ".".join(part for part in concrete.split(".") if not part.isdigit())
            positions = [part for part in concrete.split(".") if part.isdigit()]
            assert query["veld"] == [generic]
            assert query.get("positie", []) == positions[:1]
            assert name.startswith("Klopt dit niet? ") and len(name) > len("Klopt dit niet? "), "not named"
        amounts = [name for path, _, name in links if path.endswith(".openstaandBedragInCenten")]
        assert len(set(amounts)) == len(amounts), "two debts' amounts have links with the same name"


def test_the_form_shows_the_field_and_its_value_now(debtor):
    page = _press(debtor, BELASTING)
    label, value = re.search(
        r'for="veld-vorderingen-vorderingen\.0\.openstaandBedragInCenten">.*?<span>(.*?): <strong>(.*?)</strong>',
        page,
        re.S,
    ).groups()
    _, form = _open_form(debtor, BELASTING)
    item = re.search(r'id="onderdeel-vorderingen-1" [^>]*>\s*<strong>(.*?)</strong>', page).group(1)
    assert f"<dd>{label} ({item})</dd>" in form
    assert f"<dd data-nu><strong>{value}</strong></dd>" in form
    assert 'enctype="multipart/form-data"' in form


def test_a_valid_request_lands_at_the_holder_and_the_ticket_is_kept(debtor, debtors):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING, position=1)
    response = _send(debtor, address, page, voorstel="€ 0,00", bijlage=_upload("betaald.pdf", PDF, "application/pdf"))
    assert response.status_code == 302
    request = CorrectionRequest.objects.get()
    assert (request.holder.oin, request.document_type, request.path, request.position) == (
        BELASTING,
        "vorderingen",
        AMOUNT,
        1,
    )
    assert request.proposed_value == "€ 0,00" and bytes(request.attachment) == PDF
    ticket = CorrectionTicket.objects.get()
    assert (ticket.subject, ticket.holder_oin, ticket.reference, ticket.email) == (
        pseudonym(debtors[0]),
        BELASTING,
        request.reference,
        "",
    )
    assert response["Location"] == f"/organisaties/{BELASTING}/correctie/{request.reference}/"
    confirmation = debtor.get(response["Location"]).content.decode()
    day = timezone.localtime(request.deadline).strftime("%-d")
    assert request.reference in confirmation
    assert re.search(rf"Zij beslissen uiterlijk op {day} \w+ \d{{4}}\.", confirmation)
    assert "Wij hebben uw verzoek naar Belastingkantoor Voorbeeldland gestuurd." in confirmation


def test_an_attachment_too_large_is_refused_with_what_to_do_and_nothing_is_stored(debtor):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    big = PDF[:-6] + b"\0" * (4 * 1024 * 1024) + b"%%EOF\n"
    response = _send(debtor, address, page, voorstel="€ 1,00", bijlage=_upload("groot.pdf", big, "application/pdf"))
    assert response.status_code == 400
    answer = response.content.decode()
    assert "Het bestand is te groot. Een bestand mag hoogstens 4 MB zijn." in answer
    assert 'value="€ 1,00"' in answer and "Ik heb dit op 3 maart betaald." in answer, "what was typed is gone"
    assert _nothing_stored()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("bewijs.pdf", b"MZ\x90\x00 not a pdf at all %%EOF", "application/pdf"),  # a program named .pdf
        ("foto.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"),  # the signature, no image behind it
        ("foto.png", PDF, "image/png"),  # a PDF that says it is a PNG
    ],
)
def test_an_attachment_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(debtor, name, data, content_type):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    response = _send(debtor, address, page, bijlage=_upload(name, data, content_type))
    assert response.status_code == 400
    assert "Het bestand is niet wat de naam zegt." in response.content.decode()
    assert _nothing_stored()


def test_a_file_of_another_kind_is_refused_and_a_real_png_is_sent(debtor):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    response = _send(debtor, address, page, bijlage=_upload("brief.docx", b"PK\x03\x04", "application/msword"))
    assert response.status_code == 400
    assert "Kies een PDF, PNG of JPEG." in response.content.decode()
    assert _nothing_stored()
    response = _send(debtor, address, response.content.decode(), bijlage=_upload("foto.png", _png(), "image/png"))
    assert response.status_code == 302
    assert CorrectionRequest.objects.get().attachment_type == "image/png"


def test_the_email_is_needed_only_when_asked_for_news(debtor):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    response = _send(debtor, address, page, nieuws="on")
    assert response.status_code == 400
    assert "Vul uw e-mailadres in. Of zet het vinkje bij e-mail uit." in response.content.decode()
    assert _nothing_stored()
    response = _send(debtor, address, response.content.decode(), nieuws="on", email="burger@example.org")
    assert response.status_code == 302
    assert CorrectionTicket.objects.get().email == "burger@example.org"
    # Not ticked: an address typed all the same is not kept.
    address, page = _open_form(debtor, BELASTING, position=1)  # another debt: the first is being decided on
    assert _send(debtor, address, page, email="burger@example.org").status_code == 302
    assert list(CorrectionTicket.objects.order_by("asked_at").values_list("email", flat=True)) == [
        "burger@example.org",
        "",
    ]


def test_the_required_fields_are_said_and_nothing_is_sent(debtor):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    response = _send(debtor, address, page, voorstel="", toelichting=" ")
    assert response.status_code == 400
    answer = response.content.decode()
    assert "Schrijf op wat er volgens u moet staan." in answer and "Leg uit waarom het niet klopt." in answer
    assert _nothing_stored()


def test_the_same_form_sent_twice_makes_one_request(debtors, deployment):
    client = browser(deployment.url, debtors[0])
    csrf = {"X-CSRFToken": client.cookies["csrftoken"]}
    assert client.post(f"/organisaties/{BELASTING}/blauwe-knop/", headers=csrf).status_code == 302
    address = _form_address(client, BELASTING)
    page = client.get(address).text
    form = {
        "formulier": _token(page),
        "voorstel": "0",
        "toelichting": "Al betaald.",
        "csrfmiddlewaretoken": csrf["X-CSRFToken"],
    }
    answers = []

    def click():
        sent = client.post(address, data=form, files={"bijlage": ("b.pdf", PDF, "application/pdf")}, headers=csrf)
        answers.append(sent)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert CorrectionRequest.objects.count() == 1 and CorrectionTicket.objects.count() == 1
    reference = CorrectionRequest.objects.get().reference
    assert [a.status_code for a in answers] == [302, 302]
    assert {a.headers["Location"] for a in answers} == {f"/organisaties/{BELASTING}/correctie/{reference}/"}
    # Sent once more later, as the back button and a reload would: still the one request.
    again = client.post(address, data=form, headers=csrf)
    assert again.status_code == 302 and CorrectionRequest.objects.count() == 1
    assert reference in client.get(again.headers["Location"]).text


def _request_for(client, oin, position, proposed):
    _press(client, oin)
    address, page = _open_form(client, oin, position=position)
    assert _send(client, address, page, voorstel=proposed).status_code == 302
    return CorrectionRequest.objects.get(proposed_value=proposed)


def test_the_list_shows_each_citizens_own_requests_with_state_and_deadline(client, debtors):
    log_in(client, debtors[0])
    waiting = _request_for(client, BELASTING, 0, "€ 1,11")
    rejected = _request_for(client, GEMEENTE, 0, "€ 2,22")
    holder_corrections.reject(rejected, "medewerker", "Wij ontvingen geen betaling op die dag.")
    extended = _request_for(client, BELASTING, 1, "€ 3,33")
    holder_corrections.extend(extended, "medewerker", "Wij wachten op stukken van de bank.", 2)
    extended.refresh_from_db()
    page = client.get("/correctieverzoeken/").content.decode()
    assert "Belastingkantoor Voorbeeldland" in page and "Gemeente Voorbeeldstad" in page
    sections = dict(re.findall(r'data-kenmerk="([^"]+)" data-status="([^"]+)"', page))
    assert sections == {
        waiting.reference: "ontvangen",
        rejected.reference: "afgewezen",
        extended.reference: "ontvangen",
    }
    assert "<strong>Afgewezen</strong>: Wij ontvingen geen betaling op die dag." in page
    assert "<strong>Ontvangen</strong>" in page and "€ 1,11" in page
    first, now = (
        timezone.localtime(d).date() for d in (holder_corrections.deadline_of(extended.received_at), extended.deadline)
    )
    said = re.search(r"<dd data-uiterlijk data-verlengd>(.*?)</dd>", page, re.S).group(1)
    assert re.sub(r"</?strong>", "", said) == (
        f"Eerst: {_dutch(first)}. Nu uiterlijk: {_dutch(now)}. Waarom: Wij wachten op stukken van de bank."
    ), "the first deadline, the new one and why, each once"
    assert timezone.localtime(extended.deadline) - timezone.localtime(waiting.deadline) > timedelta(days=55)
    # Citizen B sees none of A's requests, and asks no holder at all.
    client.logout()
    log_in(client, debtors[1])
    other = client.get("/correctieverzoeken/").content.decode()
    assert not re.findall(r'data-kenmerk="', other)
    assert waiting.reference not in other and "€ 1,11" not in other
    assert "U heeft nog geen gegevens laten verbeteren." in other


def test_after_a_correction_the_list_says_to_fetch_a_new_copy(debtor):
    request = _request_for(debtor, BELASTING, 0, "0")
    holder_corrections.accept(request, "medewerker", "0")
    page = debtor.get("/correctieverzoeken/").content.decode()
    assert "<strong>Aangepast</strong>" in page
    assert "Uw oude kopie geldt niet meer" in page
    assert f'href="/organisaties/{BELASTING}/"' in page


def test_a_holder_that_does_not_answer_is_named_and_the_rest_still_shows(debtor):
    shown = _request_for(debtor, BELASTING, 0, "€ 4,44")
    _request_for(debtor, GEMEENTE, 0, "€ 5,55")
    Organisation.objects.filter(oin=GEMEENTE).update(base_url="http://127.0.0.1:9")
    publication.publish()
    scheme_client.forget()
    page = debtor.get("/correctieverzoeken/").content.decode()
    assert "Uw verzoeken bij Gemeente Voorbeeldstad kunnen we nu niet ophalen. Probeer het later nog eens." in page
    assert shown.reference in page and "€ 4,44" in page and "€ 5,55" not in page


def test_no_bsn_in_any_address_of_the_correction_pages(debtor, debtors):
    page = _press(debtor, BELASTING)
    address, form = _open_form(debtor, BELASTING)
    response = _send(debtor, address, form)
    listing = debtor.get("/correctieverzoeken/").content.decode()
    addresses = [href for href in re.findall(r'(?:href|action)="([^"]+)"', page + form + listing)]
    addresses += [address, response["Location"]]
    assert addresses and not [a for a in addresses if any(bsn in a for bsn in debtors)]


def test_a_link_to_a_field_the_copy_does_not_have_is_not_found(debtor):
    _press(debtor, BELASTING)
    for query in (
        "soort=vorderingen&veld=bestaatNiet",
        "soort=vorderingen&veld=" + AMOUNT + "&positie=x",
        "soort=&veld=",
    ):
        assert debtor.get(f"/organisaties/{BELASTING}/correctie/?{query}").status_code == 404
    # No copy fetched in this session: first to the organisation, to press the button.
    response = debtor.get(_form_address(debtor, GEMEENTE))
    assert response.status_code == 302 and response["Location"] == f"/organisaties/{GEMEENTE}/"


def test_a_confirmation_shows_only_in_the_session_that_sent_it(client, debtors):
    log_in(client, debtors[0])
    request = _request_for(client, BELASTING, 0, "€ 6,66")
    client.logout()
    log_in(client, debtors[1])
    response = client.get(f"/organisaties/{BELASTING}/correctie/{request.reference}/")
    assert (response.status_code, response["Location"]) == (302, "/correctieverzoeken/")
    listing = client.get(response["Location"]).content.decode()
    assert "De bevestiging van een verzoek ziet u alleen direct na het versturen." in listing
    assert request.reference not in listing and "€ 6,66" not in listing


def test_a_holder_that_cannot_be_reached_gets_nothing_and_the_form_keeps_what_was_typed(debtor):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    Organisation.objects.filter(oin=BELASTING).update(base_url="http://127.0.0.1:9")
    publication.publish()
    scheme_client.forget()
    response = _send(debtor, address, page, voorstel="€ 7,77", nieuws="on", email="burger@example.org")
    assert response.status_code == 400
    answer = response.content.decode()
    assert "Belastingkantoor Voorbeeldland is nu niet bereikbaar. Uw verzoek is niet verstuurd." in answer
    assert 'value="€ 7,77"' in answer and 'value="burger@example.org"' in answer and "checked" in answer
    assert _token(answer) != _token(page), "a new try is a new sending"
    assert _nothing_stored()


def test_a_50_mb_upload_is_refused_before_it_is_read_with_a_page_about_the_file():
    address = f"/organisaties/{BELASTING}/correctie/"
    response, read = call(address, [(b"content-length", str(50 * 1024 * 1024).encode())], must_not_be_read())
    assert (response["status"], read) == (413, 0)
    assert "Een bestand mag hoogstens 4 MB zijn. Uw verzoek is niet verstuurd." in response["body"].decode()


def test_hostile_addresses_of_the_form_are_not_found(debtor):
    _press(debtor, BELASTING)
    for query in (f"veld={AMOUNT}&positie={'9' * 5000}", f"veld={AMOUNT}&positie=%00", f"veld={'a.' * 400}a"):
        assert debtor.get(f"/organisaties/{BELASTING}/correctie/?soort=vorderingen&{query}").status_code == 404


def test_the_pages_speak_english_too(debtor):
    request = _request_for(debtor, BELASTING, 0, "€ 8,88")
    debtor.post("/i18n/setlang/", {"language": "en", "next": "/"})
    data = _press(debtor, BELASTING)
    assert "Is this wrong?" in data and "Klopt dit niet?" not in data
    _, form = _open_form(debtor, BELASTING)
    assert "What should it say, in your view?" in form and "Send me an e-mail when there is news" in form
    listing = debtor.get("/correctieverzoeken/").content.decode()
    assert "My correction requests" in listing and "<strong>Received</strong>" in listing
    assert request.reference in listing
