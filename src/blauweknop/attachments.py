"""Checks on a file a citizen attaches to a correction request: its kind, its size, and that it is what it claims.

No Django here: the portal checks an upload with these before it sends it, the holder again when it comes in
(the portal is not trusted to have checked). A file passes only when its name, its media type and its content
agree: a PDF starts with ``%PDF-`` and ends with ``%%EOF``; a PNG or JPEG starts with its signature and, when
Pillow is installed, also parses as that kind of image.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is optional: the signature check still runs
    Image = None

MAX_BYTES = 4 * 1024 * 1024
ALLOWED = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg/.jpeg"}
MAX_NAME = 100
SIGNATURES = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
PDF_END = re.compile(rb"%%EOF\s*\Z")
PDF_TAIL = 1024  # a PDF's last bytes: %%EOF, then at most some line ends


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


def _parses_as(data: bytes, media_type: str) -> bool:
    """Whether Pillow reads ``data`` as an image of ``media_type`` (``True`` when Pillow is not installed)."""
    if Image is None:
        return True
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]]) as image:
            image.verify()
    except Exception:  # Pillow raises many kinds on bad input; each means "not this image"
        return False
    return True


def check(name: str, media_type: str, data: bytes) -> Attachment:
    """The attachment, checked; :class:`AttachmentRefused` with ``attachment_empty``, ``attachment_too_large``,
    ``attachment_type`` or ``attachment_mismatch``."""
    if not data:
        raise AttachmentRefused("attachment_empty", "The attachment is empty.")
    if len(data) > MAX_BYTES:
        raise AttachmentRefused("attachment_too_large", f"The attachment is larger than {MAX_BYTES // 2**20} MiB.")
    clean = safe_name(name)
    media_type = media_type.strip().lower()
    if media_type not in ALLOWED or _extension(clean) not in ALLOWED[media_type].split("/"):
        raise AttachmentRefused("attachment_type", "Attach a PDF, PNG or JPEG file, with a name that ends in its kind.")
    content_fits = data.startswith(SIGNATURES[media_type]) and (
        PDF_END.search(data[-PDF_TAIL:]) is not None
        if media_type == "application/pdf"
        else _parses_as(data, media_type)
    )
    if not content_fits:
        raise AttachmentRefused(
            "attachment_mismatch", f"The content of the attachment is not a {ALLOWED[media_type]} file."
        )
    return Attachment(clean, media_type, data)
