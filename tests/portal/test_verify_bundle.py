"""The debt bundle's PDF on the verify page: signed by the portal, each part checked as its own upload."""

import io
import re
import zipfile
from html import unescape

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile

from blauweknop.holder.models import SourceRecord

from .hostile_pdfs import signed_pdf
from .test_debt_page import _download, _logged_in, _press, debtors, scheme_document_name  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

COMPILED = "Dit is een overzicht dat De Blauwe Knop heeft samengesteld uit gegevens van verschillende organisaties."
UNCHANGED = "De Blauwe Knop heeft het bestand ondertekend: het is na het maken niet veranderd."
EACH_OWN_PART = "Elke organisatie staat in voor haar eigen deel."


@pytest.fixture
def made(debtors):  # noqa: F811
    """A citizen's bundle, made through the debt page after pressing at two holders: its PDF and parts."""
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    response = _download(client)
    assert response.status_code == 200
    files = zipfile.ZipFile(io.BytesIO(response.content))
    (name,) = [n for n in files.namelist() if n.endswith(".pdf")]
    parts = [files.read(n) for n in files.namelist() if n.endswith(".sdjwt")]
    return client, holders, bsn, files.read(name), parts


def _checked(client, content, name="schuldenoverzicht.pdf"):
    response = client.post("/controleren/", {"bestand": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    return unescape(response.content.decode())


def _part_verdicts(page):
    """Per part on the page: the organisation it names and the kind of verdict."""
    found = re.findall(r'data-part-organisation="([^"]*)" data-part-verdict="([^"]*)"', page)
    return dict(found)


def test_the_bundle_pdf_is_called_a_compiled_overview_and_each_part_is_checked(made):
    client, holders, _bsn, printed, _parts = made
    page = _checked(client, printed)
    assert "Niet geldig" not in page and "Deze kopie komt niet van een organisatie" not in page
    assert COMPILED in page and UNCHANGED in page and EACH_OWN_PART in page
    assert _part_verdicts(page) == {scheme_document_name(oin): "valid" for oin in holders}
    assert page.count("Echt en geldig") == 2


def test_a_part_withdrawn_at_its_holder_since_shows_as_superseded(made):
    client, holders, bsn, printed, _parts = made
    changed, kept = holders
    record = SourceRecord.objects.get(holder_oin=changed, document_type="vorderingen", bsn=bsn)
    debts = record.data["vorderingen"]
    record.data = {**record.data, "vorderingen": [{**debts[0], "omschrijving": "Nu anders"}, *debts[1:]]}
    record.save()
    _press(client, changed)  # the holder withdraws the old copy: its data changed
    verdicts = _part_verdicts(_checked(client, printed))
    assert verdicts == {scheme_document_name(changed): "superseded", scheme_document_name(kept): "valid"}


def test_it_refuses_a_bundle_pdf_changed_after_the_portal_signed_it(made):
    client, _holders, _bsn, printed, _parts = made
    changed = printed.replace(b"Schuldenoverzicht", b"Schuldenoverzichx", 1)
    assert changed != printed
    page = _checked(client, changed)
    assert 'data-verdict="changed"' in page and COMPILED not in page and "data-part-verdict" not in page


def test_it_refuses_a_pdf_with_genuine_parts_signed_by_a_key_outside_the_scheme(made):
    client, _holders, _bsn, _printed, parts = made
    stranger = signed_pdf(ec.generate_private_key(ec.SECP256R1()), attachment=parts[0])
    page = _checked(client, stranger)
    assert 'data-verdict="not_participating"' in page and "Niet geldig" in page
    assert COMPILED not in page and "data-part-verdict" not in page


def test_the_bundle_verdict_speaks_english(made):
    client, holders, _bsn, printed, _parts = made
    client.cookies["django_language"] = "en"
    page = _checked(client, printed)
    assert "Each organisation vouches for its own part." in page and COMPILED not in page
    assert _part_verdicts(page) == {scheme_document_name(oin): "valid" for oin in holders}
