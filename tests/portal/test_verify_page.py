"""The public verify page: genuine, superseded, tampered and garbage uploads, in plain words."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from blauweknop.holder.models import SourceRecord

from .conftest import BELASTING, download_form

pytestmark = pytest.mark.django_db(transaction=True)


def _copy(client, fields=("belastingjaar",)):
    client.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    response = client.post(f"/organisaties/{BELASTING}/downloaden/", download_form("inkomen", list(fields), "sdjwt"))
    return response.content


def _check(client, content, name="kopie.sdjwt"):
    return client.post("/controleren/", {"bestand": SimpleUploadedFile(name, content)})


def test_a_genuine_copy_is_echt_en_geldig_with_its_fields(citizen):
    page = _check(citizen, _copy(citizen, ["belastingjaar", "vastgesteldOp"])).content.decode()
    assert "Echt en geldig" in page and "Belastingkantoor Voorbeeldland" in page
    assert page.count('data-path="') == 2


def test_it_refuses_to_call_a_genuine_copy_complete(citizen):
    # Whether fields were left out cannot be told (hidden ones look like decoys): it is always said.
    page = _check(citizen, _copy(citizen, ["belastingjaar"])).content.decode()
    assert "Echt en geldig" in page
    assert "De persoon koos zelf welke gegevens in deze kopie staan. Er kunnen gegevens zijn weggelaten." in page


def test_a_copy_whose_data_changed_is_superseded(citizen, citizen_bsn):
    # Right away: the press just now kept the list that still says "valid", the verify page asks anew (R8).
    old = _copy(citizen)
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn)
    record.data = {**record.data, "toetsingsinkomenInCenten": record.data["toetsingsinkomenInCenten"] + 1}
    record.save()
    _copy(citizen)
    page = _check(citizen, old).content.decode()
    assert "Vervangen door nieuwere gegevens" in page and "Echt en geldig" not in page


@pytest.mark.parametrize(
    ("content", "status", "explanation"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", 400, "Dit bestand kunnen we niet controleren."),
        (b"hallo", 400, "Dit bestand kunnen we niet controleren."),
        (b"", 400, "Het verstuurde bestand is leeg."),
    ],
    ids=["picture", "text", "empty"],
)
def test_anything_else_gets_a_clear_error(client, demo_world, content, status, explanation):
    response = _check(client, content)
    page = response.content.decode()
    assert response.status_code == status
    assert explanation in page
    assert "Echt en geldig" not in page


def test_it_asks_to_choose_a_file_when_the_upload_is_empty(client, demo_world):
    response = client.post("/controleren/", {})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Kies eerst een bestand." in page and "Dit veld is verplicht" not in page


def test_the_page_needs_no_login_and_works_in_english(client, demo_world):
    dutch = client.get("/controleren/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Een gewaarmerkte kopie controleren" in dutch  # Dutch first, whatever the browser prefers
    client.post("/i18n/setlang/", {"language": "en", "next": "/controleren/"})
    page = client.get("/controleren/").content.decode()
    assert "Check a certified copy" in page and 'lang="en"' in page


def _pdf(client, fields=("belastingjaar", "verzamelinkomenInCenten")):
    client.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    response = client.post(f"/organisaties/{BELASTING}/downloaden/", download_form("inkomen", list(fields), "pdf"))
    assert response["Content-Type"] == "application/pdf"
    return response.content


def test_a_signed_pdf_is_checked_too(citizen):
    page = _check(citizen, _pdf(citizen), name="kopie.pdf").content.decode()
    assert "Echt en geldig" in page and page.count('data-path="') == 2
