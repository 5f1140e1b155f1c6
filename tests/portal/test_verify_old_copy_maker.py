"""An old copy on the verify page says who made it and when, so that a reader knows which organisation to ask.

A superseded or expired copy whose signature and issuer check out shows "Van: <organisation> · Gemaakt op <date>"
(and 'Geldig tot' when it expired), and tells a citizen checking their own old copy to fetch a new one. A forged
copy shows none of it: not even when only its PDF's signer is wrong and the copy inside is a genuine expired one.
"""

from datetime import datetime, timedelta

import lxml.html
import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from blauweknop import keystore, pdf

from .conftest import BELASTING, GEMEENTE
from .superseding import change_at_source
from .test_printed_copy import _keep_expired_copy, code_of, download
from .test_verify_old_copies import two_citizens  # noqa: F401 (a fixture)
from .test_verify_verdicts import check, issued_by_the_tax_office

pytestmark = pytest.mark.django_db(transaction=True)

TAX_OFFICE = "Belastingkantoor Voorbeeldland"
OWN_COPY = "Is dit uw eigen kopie? Haal een nieuwe op met de Blauwe Knop."


def _said(html: str) -> tuple[str | None, str | None, str | None, str]:
    """The verdict, the 'Van' line, the 'Geldig tot' line and the next step, as read on the page."""
    page = lxml.html.fromstring(html)

    def text(xpath: str) -> str | None:
        found = page.xpath(xpath)
        return " ".join(found[0].text_content().split()) if found else None

    verdicts = page.xpath("//@data-verdict")

    return (
        str(verdicts[0]) if verdicts else None,
        text("//*[@data-made-by]"),
        text("//*[@data-valid-until]"),
        text("//*[@data-next-step]") or "",
    )


def _day(moment: datetime) -> str:
    with translation.override("nl"):
        return date_format(timezone.localtime(moment), "j F Y")


def _expired_pdf(signer_oin: str, signer_name: str) -> bytes:
    """A PDF around a tax office copy signed three days ago and valid for one, the PDF signed by ``signer_oin``."""
    page = pdf.Page("Kopie", [], [("Jaar", "2025")], "Controleer dit.", "https://x.example/", "nl")
    inside = issued_by_the_tax_office(days_ago=3, valid_days=1)
    return pdf.make(page, inside, keystore.signing_key(signer_oin), signer_name=signer_name, oin=signer_oin)


@pytest.mark.parametrize("kind", ["sdjwt", "pdf"])
def test_a_superseded_upload_says_who_made_it_and_when(two_citizens, kind):  # noqa: F811
    (changed, changed_bsn), (other, _) = two_citizens
    old, others = download(changed, kind), download(other, kind)
    change_at_source(BELASTING, changed_bsn)
    assert _said(check(Client(), others, f"kopie.{kind}").content.decode())[:3] == (None, None, None)
    verdict, made_by, valid_until, next_step = _said(check(Client(), old, f"kopie.{kind}").content.decode())
    assert verdict == "superseded"
    assert made_by is not None and made_by.startswith(f"Van: {TAX_OFFICE} · Gemaakt op {_day(timezone.now())}, ")
    assert valid_until is None, "a superseded copy's end date would only confuse"
    assert next_step.endswith(OWN_COPY)


def test_a_superseded_printed_copys_code_says_who_made_it(two_citizens, tmp_path):  # noqa: F811
    (changed, changed_bsn), _ = two_citizens
    code = code_of(download(changed, "pdf"), tmp_path)
    change_at_source(BELASTING, changed_bsn)
    verdict, made_by, _, next_step = _said(Client().get(f"/controleren/{code}/").content.decode())
    assert verdict == "superseded" and made_by is not None and made_by.startswith(f"Van: {TAX_OFFICE} · Gemaakt op ")
    assert next_step.endswith(OWN_COPY)


def test_an_expired_sdjwt_says_who_made_it_when_and_until_when(client, demo_world):
    html = check(client, issued_by_the_tax_office(days_ago=3, valid_days=1).encode()).content.decode()
    verdict, made_by, valid_until, next_step = _said(html)
    assert verdict == "expired"
    assert made_by is not None and made_by.startswith(
        f"Van: {TAX_OFFICE} · Gemaakt op {_day(timezone.now() - timedelta(days=3))}, "
    )
    assert valid_until == f"Geldig tot: {_day(timezone.now() - timedelta(days=2))}"
    assert next_step == f"Wat kunt u doen? Vraag de persoon om een nieuwe kopie. {OWN_COPY}"


def test_an_expired_pdf_and_printed_code_say_who_made_them(client, demo_world, citizen_bsn):
    for html in (
        check(client, _expired_pdf(BELASTING, TAX_OFFICE), "kopie.pdf").content.decode(),
        client.get(f"/controleren/{_keep_expired_copy(citizen_bsn)}/").content.decode(),
    ):
        verdict, made_by, valid_until, _ = _said(html)
        assert verdict == "expired" and made_by is not None and made_by.startswith(f"Van: {TAX_OFFICE} · ")
        assert valid_until is not None


def test_the_english_page_says_from_and_made_on(client, demo_world):
    client.cookies["django_language"] = "en"
    html = check(client, issued_by_the_tax_office(days_ago=3, valid_days=1).encode()).content.decode()
    verdict, made_by, valid_until, next_step = _said(html)
    assert verdict == "expired" and made_by is not None and made_by.startswith("From: ") and "· Made on " in made_by
    assert valid_until is not None and valid_until.startswith("Valid until: ")
    assert next_step.endswith("Is this your own copy? Get a new one with the Blue Button.")


def test_an_expired_copy_in_a_pdf_signed_by_another_organisation_shows_no_maker(client, demo_world):
    """The copy inside is genuine, but the town hall signed the PDF: a forgery, whatever the copy's age."""
    html = check(client, _expired_pdf(GEMEENTE, "Gemeente Voorbeeldstad"), "kopie.pdf").content.decode()
    verdict, made_by, valid_until, _ = _said(html)
    assert verdict == "expired", "the full check stops at the copy's end, before it compares the signers"
    assert made_by is None and valid_until is None
    assert TAX_OFFICE not in html and "Gemeente Voorbeeldstad" not in html


def test_a_forged_old_copy_shows_no_maker(citizen, citizen_bsn):
    old = download(citizen, "pdf")
    change_at_source(BELASTING, citizen_bsn)
    forged = bytearray(old)
    at = forged.index(b"/Producer")  # one byte inside the signed range
    forged[at + 2] ^= 0x01
    html = check(Client(), bytes(forged), "kopie.pdf").content.decode()
    verdict, made_by, valid_until, next_step = _said(html)
    assert verdict == "changed" and made_by is None and valid_until is None and OWN_COPY not in next_step
    assert TAX_OFFICE not in html
