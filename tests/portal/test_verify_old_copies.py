"""An old copy says it is old on the verify page, however it comes: a .sdjwt file, an old PDF, a printed code.

Superseded: the registry changed the citizen's data after the copy was made (a raw UPDATE in the source
table, then one run of the holder's worker), so the holder marked the copy INVALID in its status list
(code ``revoked``): "Vervangen door nieuwere gegevens", why, and what to do next. Expired: "Verlopen".
Two citizens with copies of the same type at the same holder: only the changed citizen's copies turn old.
"""

import re

import pytest
from django.test import Client

from blauweknop import keystore, pdf
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from tests.requester.world import BELASTING_SLUG, GEMEENTE_SLUG, copy

from .conftest import BELASTING, GEMEENTE, citizens_with_income
from .superseding import change_at_source
from .test_printed_copy import _keep_expired_copy, code_of, download
from .test_verify_verdicts import check, issued_by_the_tax_office

pytestmark = pytest.mark.django_db(transaction=True)

SUPERSEDED = "Vervangen door nieuwere gegevens"
WHY = "De organisatie heeft de gegevens veranderd nadat deze kopie werd gemaakt."
NEXT = "Vraag de persoon om een nieuwe kopie."


@pytest.fixture
def two_citizens(demo_world):
    """Two logged-in citizens, each with income at the tax office, and their BSNs."""
    return citizens_with_income(2)


def _verdict(html: str) -> str | None:
    found = re.search(r'data-verdict="([a-z_]+)"', html)
    return found.group(1) if found else None


def _says_superseded(html: str) -> bool:
    return (
        _verdict(html) == "superseded"
        and f'<h2 class="utrecht-heading-2">{SUPERSEDED}</h2>' in html
        and WHY in html
        and NEXT in html
        and "Echt en geldig" not in html
    )


def _says_valid(html: str) -> bool:
    return "Echt en geldig" in html and SUPERSEDED not in html and _verdict(html) is None


@pytest.mark.parametrize("kind", ["sdjwt", "pdf"])
def test_an_upload_of_a_copy_changed_at_the_source_says_vervangen_and_the_other_citizens_does_not(two_citizens, kind):
    (changed, changed_bsn), (other, _) = two_citizens
    old, others = download(changed, kind), download(other, kind)
    assert _says_valid(check(Client(), old, f"kopie.{kind}").content.decode()), "valid before the change"
    change_at_source(BELASTING, changed_bsn)
    assert _says_superseded(check(Client(), old, f"kopie.{kind}").content.decode())
    assert _says_valid(check(Client(), others, f"kopie.{kind}").content.decode())


def test_a_printed_copys_code_says_vervangen_after_the_source_changed(two_citizens, tmp_path):
    (changed, changed_bsn), (other, _) = two_citizens
    code, others = code_of(download(changed, "pdf"), tmp_path), code_of(download(other, "pdf"), tmp_path)
    change_at_source(BELASTING, changed_bsn)
    reader = Client()
    assert _says_superseded(reader.get(f"/controleren/{code}/").content.decode())
    typed = reader.post("/controleren/met-code/", {"controlecode": code.lower()})  # typed on the verify page
    assert _says_superseded(typed.content.decode())
    assert _says_valid(reader.get(f"/controleren/{others}/").content.decode())


def test_the_english_page_says_replaced_by_newer_data(citizen, citizen_bsn):
    old = download(citizen, "sdjwt")
    change_at_source(BELASTING, citizen_bsn)
    reader = Client()
    reader.cookies["django_language"] = "en"
    html = check(reader, old).content.decode()
    assert _verdict(html) == "superseded"
    assert "Replaced by newer data" in html
    assert "The organisation changed the data after this copy was made." in html
    assert "Ask the person for a new copy." in html


def test_an_expired_sdjwt_says_verlopen(client, demo_world):
    html = check(client, issued_by_the_tax_office(days_ago=3, valid_days=1).encode()).content.decode()
    assert _verdict(html) == "expired" and '<h2 class="utrecht-heading-2">Verlopen</h2>' in html
    assert SUPERSEDED not in html and "Vraag de persoon om een nieuwe kopie." in html


def test_an_expired_pdf_signed_by_its_holder_says_verlopen(client, demo_world):
    copy = issued_by_the_tax_office(days_ago=3, valid_days=1)
    page = pdf.Page("Kopie", [], [("Jaar", "2025")], "Controleer dit.", "https://x.example/", "nl")
    document = pdf.make(
        page, copy, keystore.signing_key(BELASTING), signer_name="Belastingkantoor Voorbeeldland", oin=BELASTING
    )
    html = check(client, document, "kopie.pdf").content.decode()
    assert _verdict(html) == "expired" and '<h2 class="utrecht-heading-2">Verlopen</h2>' in html


def test_an_expired_printed_copys_code_says_verlopen(client, demo_world, citizen_bsn):
    html = client.get(f"/controleren/{_keep_expired_copy(citizen_bsn)}/").content.decode()
    assert _verdict(html) == "expired" and '<h2 class="utrecht-heading-2">Verlopen</h2>' in html


def test_the_english_page_says_expired(client, demo_world):
    client.cookies["django_language"] = "en"
    html = check(client, issued_by_the_tax_office(days_ago=3, valid_days=1).encode()).content.decode()
    assert '<h2 class="utrecht-heading-2">Expired</h2>' in html


def test_two_holders_issue_the_same_type_and_only_the_changed_holders_copy_says_vervangen(demo_world):
    debts = SourceRecord.objects.filter(document_type="vorderingen")
    at_town = set(debts.filter(holder_oin=GEMEENTE).values_list("bsn", flat=True))
    bsn = next(r.bsn for r in debts.filter(holder_oin=BELASTING, bsn__in=at_town) if r.data["vorderingen"])
    wallet = SigningKey(generate_jwk())
    tax = copy(bsn, wallet, "vorderingen", BELASTING_SLUG, BELASTING)
    town = copy(bsn, wallet, "vorderingen", GEMEENTE_SLUG, GEMEENTE)
    change_at_source(BELASTING, bsn, "vorderingen", "vorderingen")
    assert _says_superseded(check(Client(), tax.encode()).content.decode())
    assert _says_valid(check(Client(), town.encode()).content.decode())
