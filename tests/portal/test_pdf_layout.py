"""What a paper reader gets from the PDF: the check on page 1, page numbers, and a mark that covers no text."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from blauweknop import pdf
from blauweknop.protocol.jwk import SigningKey, generate_jwk

CODE = "Controlecode: 7KQ2-M9XD-4TRB"
# Long values, so that a value reaches the right edge of the table on every page.
ROWS = [(f"{n}. Openstaand bedrag", "Een lange omschrijving van deze vordering " * 3) for n in range(1, 41)]


@pytest.fixture
def document(tmp_path: Path) -> Path:
    """A signed PDF with a check code and enough rows for more than one page."""
    page = pdf.Page(
        title="Gewaarmerkte kopie: Vorderingen",
        lines=["Van: Belastingkantoor Voorbeeldland", "Geldig tot: 1 januari 2027"],
        rows=ROWS,
        check_text="Is dit echt? Scan de QR-code.",
        verify_url="https://blauweknop.example/controleren/7KQ2-M9XD-4TRB/",
        language="nl",
        code_text=CODE,
        page_text="pagina %(page)d van %(pages)d",
    )
    made = pdf.make(page, "a.b.c~", SigningKey(generate_jwk("ES256")), signer_name="Voorbeeld", oin="0" * 20)
    (tmp_path / "kopie.pdf").write_bytes(made)
    return tmp_path / "kopie.pdf"


def _poppler(tool: str, *args: str) -> str:
    found = shutil.which(tool)
    assert found, f"poppler-utils ({tool}) must be installed by the test setup"
    return subprocess.run([found, *args], capture_output=True, text=True, check=True).stdout


def _page_text(document: Path, number: int) -> str:
    return " ".join(_poppler("pdftotext", "-f", str(number), "-l", str(number), str(document), "-").split())


def _pages(document: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", _poppler("pdfinfo", str(document))).group(1))


def test_it_puts_the_check_code_validity_and_qr_code_on_the_first_page(document):
    pages = _pages(document)
    assert pages >= 2
    first = _page_text(document, 1)
    assert CODE in first and "Geldig tot: 1 januari 2027" in first and "/controleren/7KQ2-M9XD-4TRB/" in first
    images = _poppler("pdfimages", "-f", "1", "-l", "1", "-list", str(document)).splitlines()[2:]
    assert len(images) >= 1, "the QR code is not on page 1"


def test_it_numbers_every_page_and_repeats_the_code_there(document):
    pages = _pages(document)
    for number in range(1, pages + 1):
        text = _page_text(document, number)
        assert f"pagina {number} van {pages}" in text and CODE in text


def test_it_never_puts_the_mark_over_text(document):
    width, _ = A4
    # The mark's box, in points from the top left corner as pdftotext -bbox gives them.
    left, right = width - 20 * mm - pdf.MARK_SIZE, width - 20 * mm
    top, bottom = pdf.MARK_TOP, pdf.MARK_TOP + pdf.MARK_SIZE
    boxes = _poppler("pdftotext", "-bbox", str(document), "-")
    words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', boxes)
    assert len(words) > 100
    covered = [
        word
        for x0, y0, x1, y1, word in words
        if float(x0) < right and float(x1) > left and float(y0) < bottom and float(y1) > top
    ]
    assert covered == []
