"""Checks on a file a citizen attaches to a correction request: its kind, its size, and that it is what it claims.

No Django here: the portal checks an upload with these before it sends it, the holder again when it comes in
(the portal is not trusted to have checked). A file passes only when its name, its media type and its content
agree, and the content is that kind of file through and through, with nothing else inside or behind it:

- a PDF is read with pyHanko's parser (cross-reference table, trailer, every object reachable from the trailer,
  within caps on objects, pages and inflated bytes, in a child process killed after a few seconds); refused when
  it is encrypted or holds JavaScript, a launch action, an embedded file, an XFA form, rich media or a form action
  that sends or loads data;
- a PNG or JPEG is walked chunk by chunk or marker by marker to its end (IEND, EOI) with no byte after it (a JPEG
  may be followed only by more whole JPEGs: the gain map or second picture phones store as MPF), and fully
  decoded by Pillow, at most :data:`MAX_PIXELS` pixels;
- no file may end in a ZIP archive's directory: a ZIP glued to a PDF or image opens as an archive in unzip tools.
"""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.connection
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader

MAX_BYTES = 4 * 1024 * 1024
ALLOWED = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg/.jpeg"}
MAX_NAME = 100
SIGNATURES = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
PILLOW_FORMATS = {"image/png": {"PNG"}, "image/jpeg": {"JPEG", "MPO"}}  # Pillow calls a JPEG with MPF "MPO"
PDF_END = re.compile(rb"%%EOF\s*\Z")
PDF_TAIL = 1024  # a PDF's last bytes: %%EOF, then at most some line ends
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; decoded it takes 120 MB, so more is refused before decoding
MAX_JPEGS = 4  # a photo, its gain map, maybe a depth map: MPF files hold a few
MAX_PAGES = 1000
MAX_PDF_NODES = 500_000  # dictionaries, arrays, names, numbers... reachable from the trailer (streams not inflated)
MAX_PDF_SECONDS = 5.0  # a 4 MiB PDF as tools write it takes well under a second (docs/corrections.md)
TOO_SLOW = f"The PDF takes more than {MAX_PDF_SECONDS:.0f} seconds to read: it is too complex to check."
# Only cross-reference and object streams are inflated while reading (page content, fonts and images are not);
# 4 MiB of those stay far below these caps, a zip bomb does not.
PDF_DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_output_size=16 * 2**20),
    document_budget=DocumentDecodeBudget(base_allowance=32 * 2**20, max_ratio=8),
)
# Names that make a PDF do something or carry something besides pages, and what they are in words.
PDF_REFUSED_NAMES = {
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/Launch": "an action that starts a program",
    "/EmbeddedFiles": "an embedded file",
    "/EmbeddedFile": "an embedded file",
    "/EF": "an embedded file",
    "/GoToE": "a link into an embedded file",
    "/XFA": "an XFA form",
    "/RichMedia": "embedded media",
    "/SubmitForm": "a form action that sends data",
    "/ImportData": "a form action that loads data",
}
# What a file is, by its first bytes: said in a refusal so the citizen's helpdesk knows what was sent.
KINDS = [
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"<", "an HTML or XML page"),
]


class AttachmentRefused(Exception):
    """An attachment that is refused: a stable code and a plain sentence."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Attachment:
    """A checked attachment: a safe file name, its media type and its content."""

    name: str
    media_type: str
    data: bytes


def safe_name(name: str) -> str:
    """``name`` without a path, control or format characters, at most :data:`MAX_NAME` characters, extension kept."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] not in "CZ" or c == " ").strip(" .")
    if len(base) > MAX_NAME:
        _, dot, extension = base.rpartition(".")
        extension = dot + extension if dot and len(extension) <= 10 else ""
        base = base[: MAX_NAME - len(extension)] + extension
    return base or "bijlage"


def _extension(name: str) -> str:
    return "." + name.rpartition(".")[2].lower() if "." in name else ""


def _mismatch(detail: str) -> AttachmentRefused:
    return AttachmentRefused("attachment_mismatch", detail)


def _kind(data: bytes) -> str:
    """What ``data`` is by its first bytes, in words."""
    head = data[:16].lstrip()
    return next((kind for magic, kind in KINDS if head.startswith(magic)), "a file of another kind")


def _check_pdf(data: bytes) -> None:
    """Refuse unless ``data`` parses as a PDF with pages and nothing active or embedded.

    pyHanko's parser is pure Python: 4 MiB of ``[0 0 0 ...`` alone keeps it busy for half a minute, in one call
    that no loop of ours can interrupt. So the PDF is read in a forked child that is killed after
    :data:`MAX_PDF_SECONDS`: a hostile PDF costs at most that, wherever this runs (a request thread too).
    """
    if not PDF_END.search(data[-PDF_TAIL:]):
        raise _mismatch("The PDF does not end with %%EOF: it is cut off, or something follows it.")
    # A fork: the child has the data and the imports already (~10 ms; a fork server re-imports the main module
    # for each child, over a second here). A child forked from a threaded server could hang on a lock another
    # thread held; then it is killed at the deadline like a slow PDF, and the file is refused, never waited on.
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_pdf_verdict, args=(data, sending))
    child.start()
    sending.close()
    try:
        verdict = receiving.recv() if receiving.poll(MAX_PDF_SECONDS) else TOO_SLOW
    except EOFError:  # the child died without a word, e.g. out of memory
        verdict = "The PDF cannot be read: reading it failed."
    finally:
        child.kill()
        child.join()
        receiving.close()
    if verdict:
        raise _mismatch(verdict)


def _pdf_verdict(data: bytes, sending: multiprocessing.connection.Connection) -> None:
    """In the child: send why the PDF is refused, or ``""`` when it passes."""
    try:
        _read_pdf(data)
    except AttachmentRefused as refused:
        sending.send(refused.detail)
    else:
        sending.send("")


def _read_pdf(data: bytes) -> None:
    """Parse ``data`` and walk it: :class:`AttachmentRefused` when it is not a PDF with pages and nothing else."""
    try:
        reader = PdfFileReader(io.BytesIO(data), decode_limits=PDF_DECODE_LIMITS)
        if reader.encrypted:
            raise _mismatch("The PDF is encrypted, so what it holds cannot be checked.")
        pages = reader.root["/Pages"]["/Count"]
        if not isinstance(pages, int) or not 0 < pages <= MAX_PAGES:
            raise _mismatch(f"The PDF has no pages, or more than {MAX_PAGES}.")
        _walk_pdf(reader.trailer_view)
    except AttachmentRefused:
        raise
    except Exception as exc:  # a PDF can be broken in more ways than pyHanko has exception types (and recursion)
        raise _mismatch(f"The PDF cannot be read: {type(exc).__name__}.") from exc


def _walk_pdf(trailer: generic.DictionaryObject) -> None:
    """Visit every object reachable from the trailer (each indirect object once; streams are not inflated) and
    refuse on a name of :data:`PDF_REFUSED_NAMES`, as a key or a value, or when there are too many objects."""
    seen: set[tuple[int, int]] = set()
    todo: list[generic.PdfObject] = [trailer]
    for _ in range(MAX_PDF_NODES):
        if not todo:
            return
        node = todo.pop()
        if isinstance(node, generic.IndirectObject):
            if (node.idnum, node.generation) not in seen:
                seen.add((node.idnum, node.generation))
                todo.append(node.get_object())
        elif isinstance(node, generic.DictionaryObject):  # a stream too: its dictionary, not its data
            todo.extend(dict.keys(node))
            todo.extend(dict.values(node))
        elif isinstance(node, generic.ArrayObject):
            todo.extend(node.iterate())  # entries as they are, not followed
        elif isinstance(node, generic.NameObject) and node in PDF_REFUSED_NAMES:
            raise _mismatch(f"The PDF holds {PDF_REFUSED_NAMES[node]} ({node}).")
    raise _mismatch("The PDF has too many objects to check.")


def _png_end(data: bytes) -> int:
    """Where the PNG in ``data`` ends: just after its IEND chunk."""
    at = len(SIGNATURES["image/png"])
    while at + 12 <= len(data):
        length, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        at += 12 + length  # length, type, data, CRC
        if kind == b"IEND" and at <= len(data):
            return at
    raise _mismatch("The PNG image is cut off: it has no end (IEND).")


def _jpeg_end(data: bytes, at: int) -> int:
    """Where the JPEG that starts at ``at`` in ``data`` ends: just after its end-of-image marker (EOI)."""
    at += 2  # start of image: the caller saw it
    while at + 2 <= len(data):
        if data[at] != 0xFF:
            raise _mismatch("The JPEG image is broken: a segment does not start where the one before ended.")
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte before a marker
            at += 1
            continue
        at += 2
        if marker == 0xD9:
            return at
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            continue
        length = int.from_bytes(data[at : at + 2], "big")
        if length < 2 or at + length > len(data):
            raise _mismatch("The JPEG image is cut off inside a segment.")
        at += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker that is not a stuffed byte
            while (at := data.find(b"\xff", at)) != -1 and at + 1 < len(data):
                following = data[at + 1]
                if following != 0x00 and not 0xD0 <= following <= 0xD7 and following != 0xFF:
                    break
                at += 1 if following == 0xFF else 2
            else:
                break
    raise _mismatch("The JPEG image is cut off: it has no end-of-image marker (EOI).")


def _images(data: bytes, media_type: str) -> list[bytes]:
    """The whole images ``data`` consists of, or :class:`AttachmentRefused` when any byte is left over."""
    if media_type == "image/png":
        parts = [data[: _png_end(data)]]
    else:
        parts, at = [], 0
        while at < len(data) and len(parts) < MAX_JPEGS and data.startswith(SIGNATURES[media_type], at):
            end = _jpeg_end(data, at)
            parts.append(data[at:end])
            at = end
    left = len(data) - sum(map(len, parts))
    if left:
        raise _mismatch(f"There are {left} bytes after the end of the image: {_kind(data[-left:])}.")
    return parts


def _check_image(data: bytes, media_type: str) -> None:
    """Refuse unless ``data`` is wholly one image of ``media_type`` (JPEG: or a few whole ones) that decodes."""
    pixels = 0
    for part in _images(data, media_type):
        try:
            with Image.open(io.BytesIO(part)) as image:
                if image.format not in PILLOW_FORMATS[media_type]:
                    raise _mismatch(f"The content is a {image.format} image.")
                pixels += image.width * image.height
                if pixels > MAX_PIXELS:
                    raise _mismatch(f"The image has more than {MAX_PIXELS // 1_000_000} million pixels.")
                image.load()
        except AttachmentRefused:
            raise
        except Exception as exc:  # Pillow raises many kinds on bad input; each means "not this image"
            raise _mismatch(f"The image cannot be decoded: {type(exc).__name__}.") from exc


def check(name: str, media_type: str, data: bytes) -> Attachment:
    """The attachment, checked; :class:`AttachmentRefused` with ``attachment_empty``, ``attachment_too_large``,
    ``attachment_type`` or ``attachment_mismatch`` (the detail says what was found)."""
    if not data:
        raise AttachmentRefused("attachment_empty", "The attachment is empty.")
    if len(data) > MAX_BYTES:
        raise AttachmentRefused("attachment_too_large", f"The attachment is larger than {MAX_BYTES // 2**20} MiB.")
    clean = safe_name(name)
    media_type = media_type.strip().lower()
    if media_type not in ALLOWED or _extension(clean) not in ALLOWED[media_type].split("/"):
        raise AttachmentRefused("attachment_type", "Attach a PDF, PNG or JPEG file, with a name that ends in its kind.")
    if not data.startswith(SIGNATURES[media_type]):
        raise _mismatch(f"The attachment is called a {ALLOWED[media_type]} file but it is {_kind(data)}.")
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise _mismatch("The attachment ends in a ZIP archive.")
    if media_type == "application/pdf":
        _check_pdf(data)
    else:
        _check_image(data, media_type)
    return Attachment(clean, media_type, data)
