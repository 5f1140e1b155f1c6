"""The newcomer review of the correction pages (issue 12, findings 3, 5, 6, 7, 8, 9, 12, 13, citizen side).

The form's errors are listed first, each a link to its field; the file line only when a file was sent; an extended
deadline shows the first and the new date once each, and why; whom to ask has a phone number and a website on the
form and with each request; a holder's 'already asked' and its words for a list item are shown.
"""

# ruff: noqa: F401, F811 - debtor and debtors are fixtures, imported to be used as such

import re
from datetime import UTC, date, datetime

import pytest

from blauweknop.holder import corrections as holder_corrections
from blauweknop.holder.models import CorrectionRequest
from blauweknop.portal import corrections as portal_corrections
from blauweknop.portal.models import CorrectionTicket
from tests.portal.test_corrections import (
    BELASTING,
    GEMEENTE,
    _dutch,
    _nothing_stored,
    _open_form,
    _png,
    _press,
    _request_for,
    _send,
    _upload,
    debtor,
    debtors,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _summary(page: str) -> str:
    return re.search(r'<div class="blauweknop-error-summary[^"]*"[^>]*>(.*?)</ul>', page, re.S).group(0)


def test_the_error_summary_comes_first_and_links_each_error_to_its_field(debtor):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    response = _send(debtor, address, page, voorstel="", toelichting=" ", nieuws="on")
    assert response.status_code == 400
    answer = response.content.decode()
    summary = _summary(answer)
    assert answer.index("blauweknop-error-summary") < answer.index("<h1"), "the summary is not first in the page"
    assert 'tabindex="-1"' in summary and 'role="alert"' in summary
    assert re.search(r"<h2 [^>]*>Uw verzoek is niet verstuurd</h2>", summary)
    links = dict(re.findall(r'<a [^>]*href="#([^"]+)">(.*?)</a>', summary))
    assert links == {
        "id_voorstel": "Schrijf op wat er volgens u moet staan.",
        "id_toelichting": "Leg uit waarom het niet klopt.",
        "id_email": "Vul uw e-mailadres in. Of zet het vinkje bij e-mail uit.",
    }
    for target in links:
        assert f'id="{target}"' in answer, f"a link to #{target}, which is not in the page"
    assert "in rood" not in answer, "the page refers to colour"
    assert "data-bestand-opnieuw" not in answer, "no file was chosen, yet it says to choose it again"
    assert _nothing_stored()


def test_choose_the_file_again_only_when_one_was_sent_and_not_refused(debtor):
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    answer = _send(debtor, address, page, voorstel="", bijlage=_upload("foto.png", _png(), "image/png"))
    assert "U koos een bestand. Wilt u het meesturen? Kies het dan opnieuw." in answer.content.decode()
    refused = _send(debtor, address, page, bijlage=_upload("brief.docx", b"PK\x03\x04", "application/msword"))
    page = refused.content.decode()
    assert "Kies een PDF, PNG of JPEG." in page and "data-bestand-opnieuw" not in page
    assert '<a class="utrecht-link utrecht-link--html-a" href="#id_bijlage">' in _summary(page)
    assert _nothing_stored()


def test_a_form_without_its_token_says_so_once_without_a_link_to_nowhere(debtor):
    _press(debtor, BELASTING)
    address, _page = _open_form(debtor, BELASTING)
    response = debtor.post(address, {"voorstel": "0", "toelichting": "Al betaald."})
    assert response.status_code == 400
    summary = _summary(response.content.decode())
    assert summary.count("Het formulier was niet compleet. Stuur het opnieuw.") == 1
    assert "#id_formulier" not in summary
    assert _nothing_stored()


def _holder_says(monkeypatch, tail: str, change, *, ask: bool = True) -> None:
    """Let ``change`` rewrite the holder's real answer to ``tail``; ``ask=False``: the holder is not asked, and
    ``change(None)`` is its answer."""
    real = portal_corrections._post

    async def post(client, holder, path, payload):
        if path != tail:
            return await real(client, holder, path, payload)
        return change(await real(client, holder, path, payload) if ask else None)

    monkeypatch.setattr(portal_corrections, "_post", post)


def test_already_asked_at_the_holder_says_which_request_and_stores_nothing(debtor, monkeypatch):
    asked = {"type": "about:blank", "status": 409, "code": "already_asked", "kenmerk": "CV-2026-ABCD"}
    refusal = portal_corrections.Answer(409, "application/problem+json", asked)
    _holder_says(monkeypatch, "correctieverzoeken", lambda _none: refusal, ask=False)
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING)
    response = _send(debtor, address, page)
    assert response.status_code == 409
    answer = response.content.decode()
    assert (
        "U vroeg al om verbetering van dit gegeven (kenmerk CV-2026-ABCD). Belastingkantoor Voorbeeldland beslist "
        "daar nog over. U ziet het in Mijn correctieverzoeken." in answer
    )
    assert 'href="/correctieverzoeken/">Naar Mijn correctieverzoeken</a>' in answer
    assert not CorrectionTicket.objects.exists()
    # A kenmerk that is not one is not repeated.
    asked["kenmerk"] = "<script>"
    answer = _send(debtor, address, page).content.decode()
    assert "U vroeg al om verbetering van dit gegeven. Belastingkantoor" in answer and "&lt;script" not in answer


def test_asking_again_about_the_same_field_names_the_open_request_and_makes_no_second(debtor):
    first = _request_for(debtor, BELASTING, 0, "€ 1,00")
    address, page = _open_form(debtor, BELASTING, position=0)
    response = _send(debtor, address, page, voorstel="€ 2,00")
    assert response.status_code == 409
    assert f"U vroeg al om verbetering van dit gegeven (kenmerk {first.reference})." in response.content.decode()
    assert CorrectionRequest.objects.count() == 1 and CorrectionTicket.objects.count() == 1


def _with(field: str, value) -> callable:
    def change(answer):
        for entry in answer.body["correctieverzoeken"]:
            entry[field] = value
        return answer

    return change


def test_the_list_names_a_list_item_in_the_holders_words_and_its_number_when_it_gives_none(debtor, monkeypatch):
    _request_for(debtor, BELASTING, 1, "€ 1,11")
    heading = r"<h2 [^>]*>Belastingkantoor Voorbeeldland: Nog te betalen \((.*?)\)</h2>"
    named = re.search(heading, debtor.get("/correctieverzoeken/").content.decode()).group(1)
    assert re.fullmatch(r"Inkomstenbelasting, BEL-[\w-]+, € [\d.]+,\d\d", named), named
    debtor.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = debtor.get("/correctieverzoeken/").content.decode()
    in_english = re.search(r"<h2 [^>]*>Belastingkantoor Voorbeeldland: [^<]*\(([^)]*)\)</h2>", english).group(1)
    assert in_english != named and "Inkomstenbelasting" not in in_english, "the holder's words not in English"
    debtor.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    _holder_says(monkeypatch, "correctieverzoeken/opvragen", _with("onderdeel", None))
    assert re.search(heading, debtor.get("/correctieverzoeken/").content.decode()).group(1) == "onderdeel 2"


def test_an_extended_deadline_shows_the_first_date_the_new_one_and_why(debtor, monkeypatch):
    request = _request_for(debtor, BELASTING, 0, "€ 2,22")
    holder_corrections.extend(request, "medewerker", "Wij moeten stukken opvragen bij uw bank.", 2)
    request.refresh_from_db()
    page = debtor.get("/correctieverzoeken/").content.decode()
    first = holder_corrections.deadline_of(request.received_at)
    said = re.sub(r"</?strong>", "", re.search(r"<dd data-uiterlijk data-verlengd>(.*?)</dd>", page, re.S).group(1))
    assert said == (
        f"Eerst: {_dutch(first)}. Nu uiterlijk: {_dutch(request.deadline)}. "
        "Waarom: Wij moeten stukken opvragen bij uw bank."
    )
    # A holder that says its first deadline itself is believed.
    _holder_says(monkeypatch, "correctieverzoeken/opvragen", _with("eersteBeslisdatum", "2026-12-30"))
    assert "Eerst: 30 december 2026." in debtor.get("/correctieverzoeken/").content.decode()


@pytest.mark.parametrize(
    ("received", "first"),
    [
        (datetime(2026, 1, 31, 12, tzinfo=UTC), date(2026, 2, 28)),
        (datetime(2028, 1, 31, 12, tzinfo=UTC), date(2028, 2, 29)),
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), date(2027, 1, 1)),  # 1 December in Amsterdam
        (datetime(2026, 12, 15, 9, tzinfo=UTC), date(2027, 1, 15)),
    ],
)
def test_the_first_deadline_is_counted_as_the_holder_counts_it(received, first):
    assert portal_corrections.first_deadline(received) == first
    assert holder_corrections.deadline_of(received).date() == first


def test_whom_to_ask_has_a_phone_number_and_website_on_the_form_and_with_each_request(debtor):
    _press(debtor, BELASTING)
    _address, form = _open_form(debtor, BELASTING)
    contact = re.search(r"<p [^>]*data-contact>(.*?)</p>", form, re.S).group(1)
    assert 'href="tel:08000000002">0800 000 0002</a>' in contact
    assert 'href="https://belastingkantoor.example/hulp"' in contact
    _request_for(debtor, BELASTING, 0, "€ 3,33")
    _request_for(debtor, GEMEENTE, 0, "€ 4,44")
    listing = debtor.get("/correctieverzoeken/").content.decode()
    sections = re.findall(r"<section .*?</section>", listing, re.S)
    phones = {re.search(r"<h2 [^>]*>([^:]+):", s).group(1): re.findall(r'href="tel:(\d+)"', s) for s in sections}
    assert phones == {"Belastingkantoor Voorbeeldland": ["08000000002"], "Gemeente Voorbeeldstad": ["08000000001"]}
    assert "Neem contact op met de organisatie" not in listing


def test_the_new_words_in_english(debtor):
    request = _request_for(debtor, BELASTING, 0, "€ 5,55")
    holder_corrections.extend(request, "medewerker", "We need papers from your bank.", 1)
    debtor.post("/i18n/setlang/", {"language": "en", "next": "/"})
    listing = debtor.get("/correctieverzoeken/").content.decode()
    assert "<dt>Decision by</dt>" in listing and "First: " in listing and "Now by: " in listing
    assert "Here you see which corrections you asked for, and how they stand." in listing
    _press(debtor, BELASTING)
    address, page = _open_form(debtor, BELASTING, position=1)
    errors = _send(debtor, address, page, voorstel="").content.decode()
    assert "Your request has not been sent" in errors and "Correct this and send it again:" in errors
