"""An attachment to a correction request passes only when its name, media type and content agree, and the content is
that kind of file through and through: a PDF that parses with nothing active or embedded, an image that decodes with
nothing behind it, no ZIP glued on (the attacker review's polyglots)."""

import io
import time
import zipfile

import pytest
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PdfFileWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from blauweknop.attachments import MAX_BYTES, MAX_PDF_SECONDS, AttachmentRefused, check, safe_name


def pdf(*extra: bytes, catalog: bytes = b"", page: bytes = b"", content: bytes = b"BT ET") -> bytes:
    """A real one-page PDF, written by hand so a test can put anything in it: ``extra`` are objects 5, 6, ..."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " + page + b" >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        *extra,
    ]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_of_size(size: int) -> bytes:
    """A real PDF of exactly ``size`` bytes: its page's content stream is padded with spaces."""
    pad = size - len(pdf(content=b""))
    while len(made := pdf(content=b" " * pad)) != size:
        pad -= len(made) - size
    return made


PDF = pdf()


def image(kind: str, size: tuple[int, int] = (4, 3), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, kind, **options)
    return buffer.getvalue()


def noise_jpeg(size: int) -> bytes:
    """A photo-like JPEG of about ``size`` bytes: noise does not compress."""
    side = int((size / 1.1) ** 0.5)  # noise at quality 95 takes about 1.1 bytes a pixel
    noise = Image.effect_noise((side, side), 120).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def reportlab_pdf(pages: int, picture: bytes = b"") -> bytes:
    """A PDF as a real tool writes it: text on ``pages`` pages, and a picture on the first."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for number in range(pages):
        if picture and number == 0:
            from reportlab.lib.utils import ImageReader

            canvas.drawImage(ImageReader(io.BytesIO(picture)), 50, 300, 400, 400)
        for line in range(40):
            canvas.drawString(50, 800 - 18 * line, f"Pagina {number + 1}, regel {line + 1}: betaald op 3 maart.")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def written_by_pyhanko(*, hidden_script: bool = False, bomb: bool = False, encrypted: bool = False) -> bytes:
    """A PDF with cross-reference and object streams, as pyHanko writes them: what it hides goes in an object
    stream, where no plain-text search of the file sees it."""
    writer = PdfFileWriter()
    pages = writer.root["/Pages"]
    page = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Page"),
            generic.pdf_name("/Parent"): writer.root.raw_get("/Pages"),
            generic.pdf_name("/MediaBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 595, 842))),
        }
    )
    pages["/Kids"].append(writer.add_object(page))
    pages["/Count"] = generic.NumberObject(1)
    hidden = writer.prepare_object_stream()
    if hidden_script:
        action = {"/S": generic.pdf_name("/JavaScript"), "/JS": generic.pdf_string("app.alert(1)")}
        script = generic.DictionaryObject({generic.pdf_name(k): v for k, v in action.items()})
        writer.root["/OpenAction"] = writer.add_object(script, obj_stream=hidden)
    if bomb:  # 20 MiB of zeros: a few kB compressed, too much inflated
        writer.root["/Bomb"] = writer.add_object(generic.ByteStringObject(bytes(20 * 2**20)), obj_stream=hidden)
    if encrypted:
        writer.encrypt("eigenaar", "")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + b"\0" * 200)
    return out.getvalue()


def jpeg_with_comment(comment: bytes) -> bytes:
    """A whole JPEG with ``comment`` in a comment segment (COM) after its start: a valid image that hides a file."""
    whole = image("JPEG")
    return whole[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + whole[2:]


def broken_huffman_table() -> bytes:
    """A JPEG whose structure is whole but whose Huffman table is nonsense: only decoding it finds that."""
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 100).convert("RGB").save(buffer, "JPEG")
    whole = buffer.getvalue()
    at = whole.index(b"\xff\xc4") + 5
    return whole[:at] + b"\xff" * 16 + whole[at + 16 :]


def mpo() -> bytes:
    """A JPEG with a second picture behind it (MPF), as phones store a photo with its gain map."""
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (40, 30), "navy"), Image.new("RGB", (20, 15), "white")
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "media_type", "data"),
    [
        ("loonstrook.pdf", "application/pdf", PDF),
        ("brief.pdf", "application/pdf", reportlab_pdf(3)),
        ("objectstromen.pdf", "application/pdf", written_by_pyhanko()),
        ("Scan.PNG", "image/png", image("PNG")),
        ("foto.jpg", "image/jpeg", image("JPEG")),
        ("foto.jpeg", "IMAGE/JPEG", image("JPEG")),
        ("progressief.jpg", "image/jpeg", image("JPEG", (64, 48), progressive=True)),
        ("telefoon.jpg", "image/jpeg", mpo()),
    ],
)
def test_it_takes_a_pdf_png_or_jpeg_that_is_what_it_says(name, media_type, data):
    taken = check(name, media_type, data)
    assert (taken.name, taken.media_type, taken.data) == (name, media_type.lower(), data)


def test_a_photo_of_almost_4_mib_passes_and_so_does_a_pdf_with_it_and_text():
    photo = noise_jpeg(MAX_BYTES - 64 * 1024)
    letter = reportlab_pdf(20, noise_jpeg(int(MAX_BYTES * 0.78)))  # reportlab stores the photo as ASCII85 text
    assert len(photo) > 3.8 * 2**20 and len(letter) > 3.8 * 2**20
    assert check("foto.jpg", "image/jpeg", photo).data == photo
    assert check("brief.pdf", "application/pdf", letter).data == letter


def test_it_takes_4_mib_and_not_a_byte_more():
    padded = pdf_of_size(MAX_BYTES)
    assert len(check("groot.pdf", "application/pdf", padded).data) == MAX_BYTES
    with pytest.raises(AttachmentRefused) as refused:
        check("groot.pdf", "application/pdf", pdf_of_size(MAX_BYTES + 1))
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


# The attacker review's polyglots: each passed the first bytes plus %%EOF (PDF) or Pillow's verify() (JPEG).
POLYGLOTS = {
    "html_with_script_as_pdf": ("bewijs.pdf", b"%PDF-<html><script>alert(document.domain)</script>%%EOF", "read"),
    "zip_as_pdf": ("bewijs.pdf", b"%PDF-1.7\n" + a_zip() + b"\n%%EOF", "ZIP"),
    "exe_as_pdf": ("bewijs.pdf", b"%PDF-" + b"MZ\x90\x00" + b"\0" * 100 + b"%%EOF", "read"),
    "truncated_jpeg_plus_zip": ("foto.jpg", image("JPEG", (2, 2))[:200] + a_zip(), "ZIP"),
    "whole_jpeg_plus_zip": ("foto.jpg", image("JPEG") + a_zip(), "ZIP"),
    "whole_jpeg_plus_html": ("foto.jpg", image("JPEG") + b"<html><script>alert(1)</script>", "HTML"),
    "whole_png_plus_exe": ("foto.png", image("PNG") + b"MZ\x90\x00" + b"\0" * 100, "Windows program"),
    "zip_in_a_jpeg_comment": ("foto.jpg", jpeg_with_comment(a_zip()), "ZIP"),
    "zip_in_a_pdf_stream": ("bewijs.pdf", pdf(content=a_zip()), "ZIP"),
}


@pytest.mark.parametrize("case", POLYGLOTS)
def test_a_file_that_is_not_really_a_pdf_or_image_is_refused_saying_what_was_found(case):
    name, data, found = POLYGLOTS[case]
    media_type = "application/pdf" if name.endswith(".pdf") else "image/png" if name.endswith(".png") else "image/jpeg"
    with pytest.raises(AttachmentRefused) as refused:
        check(name, media_type, data)
    assert refused.value.code == "attachment_mismatch"
    assert found in refused.value.detail


def _js_in_page_action() -> bytes:
    return pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>", page=b"/AA << /O 5 0 R >>")


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>", catalog=b"/OpenAction 5 0 R"), "JavaScript"),
        (_js_in_page_action(), "JavaScript"),
        (pdf(catalog=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"), "JavaScript"),  # names escaped
        (pdf(b"<< /S /Launch /F (cmd.exe) >>", catalog=b"/OpenAction 5 0 R"), "starts a program"),
        (
            pdf(
                b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
                b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
                catalog=b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>",
            ),
            "embedded file",
        ),
        (pdf(page=b"/Annots [<< /Subtype /FileAttachment /FS << /EF << /F 4 0 R >> >> >>]"), "embedded file"),
        (pdf(catalog=b"/AcroForm << /Fields [] /XFA 4 0 R >>"), "XFA"),
        (written_by_pyhanko(hidden_script=True), "JavaScript"),  # inside an object stream
        (written_by_pyhanko(encrypted=True), "encrypted"),
        (written_by_pyhanko(bomb=True), "cannot be read"),  # an object stream that inflates to 20 MiB
        (pdf(catalog=b"/Pages 5 0 R").replace(b"/Pages 2 0 R ", b""), "cannot be read"),  # a reference to nothing
        (pdf().replace(b"/Count 1", b"/Count 0"), "no pages"),
        (pdf().replace(b"startxref\n", b"startxref\n9"), "cannot be read"),  # the cross-reference is not there
    ],
    ids=[
        "open_action_js",
        "page_action_js",
        "escaped_names_js",
        "launch",
        "embedded_files",
        "file_attachment_annotation",
        "xfa",
        "js_in_object_stream",
        "encrypted",
        "object_stream_bomb",
        "dangling_reference",
        "no_pages",
        "no_xref",
    ],
)
def test_a_pdf_that_does_something_or_carries_something_is_refused(data, found):
    with pytest.raises(AttachmentRefused) as refused:
        check("bewijs.pdf", "application/pdf", data)
    assert refused.value.code == "attachment_mismatch"
    assert found in refused.value.detail


@pytest.mark.parametrize(
    "data",
    [
        pdf(b"[" * 200_000 + b"]" * 200_000, catalog=b"/Deep 5 0 R"),  # deep nesting
        pdf(b"[" + b"0 " * 1_500_000 + b"]", catalog=b"/Wide 5 0 R"),  # more objects than the walk takes
        pdf(b"6 0 R", b"5 0 R", catalog=b"/Loop 5 0 R"),  # references that go round
    ],
    ids=["deep", "wide", "loop"],
)
def test_a_hostile_pdf_is_refused_within_the_time_cap(data):
    started = time.monotonic()
    with pytest.raises(AttachmentRefused) as refused:
        check("bewijs.pdf", "application/pdf", data)
    assert refused.value.code == "attachment_mismatch"
    assert time.monotonic() - started < MAX_PDF_SECONDS + 2


@pytest.mark.parametrize(
    ("name", "media_type", "data", "found"),
    [
        ("foto.jpg", "image/jpeg", image("PNG"), "PNG image"),
        ("foto.png", "image/png", image("JPEG"), "JPEG image"),
        ("foto.jpg", "image/jpeg", image("JPEG")[:-2], "no end-of-image"),  # no EOI
        ("foto.jpg", "image/jpeg", broken_huffman_table(), "cannot be decoded"),
        ("foto.png", "image/png", image("PNG")[:-12], "no end (IEND)"),
        ("groot.png", "image/png", image("PNG", (8000, 6000)), "more than 40 million pixels"),
        ("foto.jpg", "image/jpeg", image("JPEG") * 5, "after the end"),  # more JPEGs than a phone stores
    ],
    ids=["png_as_jpeg", "jpeg_as_png", "jpeg_no_eoi", "jpeg_bad_huffman", "png_no_iend", "48_megapixels", "5_jpegs"],
)
def test_an_image_must_decode_whole_with_nothing_behind_it(name, media_type, data, found):
    with pytest.raises(AttachmentRefused) as refused:
        check(name, media_type, data)
    assert refused.value.code == "attachment_mismatch"
    assert found in refused.value.detail


def test_a_name_loses_its_path_and_control_characters_and_keeps_its_extension():
    assert safe_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert safe_name("C:\\Users\\jan\\scan.png") == "scan.png"
    assert safe_name("bon\x00\n\u202egpj.pdf") == "bongpj.pdf"
    long = safe_name("a" * 300 + ".pdf")
    assert len(long) == 100 and long.endswith(".pdf")
    assert safe_name("../") == "bijlage"
