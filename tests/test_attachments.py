"""An attachment to a correction request passes only when its name, media type and content agree."""

import io

import pytest
from PIL import Image

from blauweknop.attachments import MAX_BYTES, AttachmentRefused, check, safe_name

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "navy").save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "media_type", "data"),
    [
        ("loonstrook.pdf", "application/pdf", PDF),
        ("Scan.PNG", "image/png", image("PNG")),
        ("foto.jpg", "image/jpeg", image("JPEG")),
        ("foto.jpeg", "IMAGE/JPEG", image("JPEG")),
    ],
)
def test_it_takes_a_pdf_png_or_jpeg_that_is_what_it_says(name, media_type, data):
    taken = check(name, media_type, data)
    assert (taken.name, taken.media_type, taken.data) == (name, media_type.lower(), data)


def test_it_takes_4_mib_and_not_a_byte_more():
    padded = PDF[:-6] + b" " * (MAX_BYTES - len(PDF)) + PDF[-6:]
    assert len(check("groot.pdf", "application/pdf", padded).data) == MAX_BYTES
    with pytest.raises(AttachmentRefused) as refused:
        check("groot.pdf", "application/pdf", b" " + padded)
    assert refused.value.code == "attachment_too_large"


@pytest.mark.parametrize(
    ("name", "media_type", "data", "code"),
    [
        ("leeg.pdf", "application/pdf", b"", "attachment_empty"),
        ("plaatje.gif", "image/gif", b"GIF89a", "attachment_type"),
        ("virus.exe", "application/pdf", PDF, "attachment_type"),
        ("loonstrook.png", "application/pdf", PDF, "attachment_type"),  # the name says PNG, the type PDF
        ("zonder-extensie", "application/pdf", PDF, "attachment_type"),
        ("loonstrook.pdf", "application/pdf", image("PNG"), "attachment_mismatch"),
        ("loonstrook.pdf", "application/pdf", PDF[:-7], "attachment_mismatch"),  # no %%EOF at the end
        ("foto.jpg", "image/jpeg", image("PNG"), "attachment_mismatch"),
        ("foto.png", "image/png", image("PNG")[:40], "attachment_mismatch"),  # the signature, then broken
        ("foto.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>", "attachment_mismatch"),
        ("foto.jpg", "image/jpeg", b"\xff\xd8\xff" + b"\x00" * 100, "attachment_mismatch"),
    ],
)
def test_it_refuses_what_is_not_what_it_claims(name, media_type, data, code):
    with pytest.raises(AttachmentRefused) as refused:
        check(name, media_type, data)
    assert refused.value.code == code and refused.value.detail


def test_a_name_loses_its_path_and_control_characters_and_keeps_its_extension():
    assert safe_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert safe_name("C:\\Users\\jan\\scan.png") == "scan.png"
    assert safe_name("bon\x00\n\u202egpj.pdf") == "bongpj.pdf"
    long = safe_name("a" * 300 + ".pdf")
    assert len(long) == 100 and long.endswith(".pdf")
    assert safe_name("../") == "bijlage"
