"""What a copy says about whom: a receiver can tell that a copy is about someone else (issue 8, item 3)."""

import shutil
import subprocess

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from blauweknop.display import format_value
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import sdjwt_vc
from tests.holder.test_issue_credential import _assertion

from .conftest import BELASTING, download_form

pytestmark = pytest.mark.django_db(transaction=True)
# What the data page ticks by default for income, the subject's name and date of birth included.
SHARED = ["naam.voornamen", "naam.geslachtsnaam", "geboorte.datum", "belastingjaar", "verzamelinkomenInCenten"]


def _income_copy(server, bsn: str, wallet) -> str:
    """The citizen's certified income copy from the tax office, showing the fields of :data:`SHARED`."""
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "documentsoort": "inkomen"}
    response = httpx.post(f"{server.url}/belastingkantoor/api/v1/verklaringen", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return sdjwt_vc.present(response.json()["verklaring"], SHARED)


def _who(bsn: str) -> tuple[str, str, str]:
    """The first names, surname and date of birth (as the verify page writes it) the tax office holds."""
    data = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=bsn).data
    with translation.override("nl"):
        born = format_value("date", data["geboorte"]["datum"])
    return data["naam"]["voornamen"], data["naam"]["geslachtsnaam"], born


def test_someone_elses_income_copy_shows_on_the_verify_page_whom_it_is_about(
    client, demo_world, two_citizen_bsns, wallet
):
    owner, presenter = two_citizen_bsns
    copy = _income_copy(demo_world, owner, wallet)
    # The presenter hands in the owner's file; the receiver checks it on the public page, without logging in.
    page = client.post("/controleren/", {"bestand": SimpleUploadedFile("inkomen.sdjwt", copy.encode())})
    html = page.content.decode()
    assert "Echt en geldig" in html  # the copy is genuine: only whom it names tells it is not the presenter's
    for part in _who(owner):
        assert part in html
    first_names, surname, born = _who(presenter)
    assert first_names not in html or surname not in html
    assert born not in html


def test_the_printed_copy_names_whom_it_is_about(citizen, citizen_bsn, tmp_path):
    citizen.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    printed = citizen.post(f"/organisaties/{BELASTING}/downloaden/", download_form("inkomen", SHARED, "pdf"))
    assert printed["Content-Disposition"].endswith('.pdf"')
    (tmp_path / "kopie.pdf").write_bytes(printed.content)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) must be installed by the test setup"
    done = subprocess.run([pdftotext, str(tmp_path / "kopie.pdf"), "-"], capture_output=True, text=True, check=True)
    text = " ".join(done.stdout.split())
    for part in _who(citizen_bsn):
        assert part in text
    assert citizen_bsn not in text  # not ticked, so not on paper
