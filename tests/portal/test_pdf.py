"""The PDF copy: signed by the holder (PAdES), the chosen fields on paper and the credential inside."""

import io
import shutil
import subprocess
import sys

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from blauweknop import pdf
from blauweknop.protocol import scheme_document, sdjwt_vc
from blauweknop.protocol.jwk import thumbprint
from blauweknop.protocol.status_list import StatusListClient
from blauweknop.scheme.client import trust_anchor

from .conftest import BELASTING, download_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def printed(citizen):
    citizen.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    response = citizen.post(
        f"/organisaties/{BELASTING}/downloaden/",
        download_form("inkomen", ["belastingjaar", "verzamelinkomenInCenten"], "pdf"),
    )
    assert response["Content-Disposition"].endswith('.pdf"')
    return response.content


def test_pyhanko_finds_the_signature_intact_and_covering_the_whole_file(printed):
    signature = PdfFileReader(io.BytesIO(printed)).embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[signature.signer_cert]))
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.signer_cert.subject.native["common_name"] == "Belastingkantoor Voorbeeldland"


def test_poppler_validates_the_signature(printed, tmp_path):
    pdfsig = shutil.which("pdfsig")
    assert pdfsig, "poppler-utils (pdfsig) must be installed by the test setup"
    (tmp_path / "kopie.pdf").write_bytes(printed)
    out = subprocess.run([pdfsig, str(tmp_path / "kopie.pdf")], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in out and "Total document signed" in out


def test_the_credential_inside_verifies_and_was_signed_with_the_same_key(printed, deployment):
    credential = pdf.embedded_credential(printed)
    scheme = scheme_document.verify(httpx.get(f"{deployment.url}/stelsel/api/v1/stelseldocument").text, trust_anchor())
    result = sdjwt_vc.verify(
        credential,
        scheme.issuer_keys(),
        status_lists=StatusListClient(lambda u: httpx.get(u).text),
        require_key_binding=False,
    )
    assert set(result.claims) == {"belastingjaar", "verzamelinkomenInCenten"}
    assert pdf.signer_thumbprint(printed) == thumbprint(result.issuer_key.jwk)


def test_the_holder_prints_only_its_own_valid_copies(deployment, printed):
    credential = pdf.embedded_credential(printed)
    other = httpx.post(f"{deployment.url}/boeteninning/api/v1/afdrukken", json={"verklaring": credential})
    assert other.status_code in (400, 401)
    assert other.headers["Content-Type"] == "application/problem+json"
    broken = httpx.post(f"{deployment.url}/belastingkantoor/api/v1/afdrukken", json={"verklaring": credential[:-9]})
    assert broken.status_code in (400, 401) and broken.json()["detail"]


def test_the_command_line_verifies_the_pdf(printed, deployment, tmp_path):
    (tmp_path / "kopie.pdf").write_bytes(printed)
    scheme = f"{deployment.url}/stelsel/api/v1/stelseldocument"
    command = [
        sys.executable,
        "-m",
        "blauweknop",
        "verify",
        str(tmp_path / "kopie.pdf"),
        "--scheme-document",
        scheme,
        "--scheme-jwks",
        str(tmp_path / "stelsel.json"),
        "--json",
    ]
    (tmp_path / "stelsel.json").write_text(httpx.get(f"{deployment.url}/stelsel/api/v1/jwks.json").text)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"belastingjaar"' in result.stdout and "Belastingkantoor Voorbeeldland" in result.stdout
