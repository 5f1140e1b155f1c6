"""Checks on a file a citizen attaches to a correction request: its kind, its size, and that it is what it claims.

No Django here: the portal checks an upload with these before it sends it, the holder again when it comes in.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 4 * 1024 * 1024
ALLOWED = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg/.jpeg"}


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


def check(name: str, media_type: str, data: bytes) -> Attachment:
    """The attachment, checked; :class:`AttachmentRefused` with ``attachment_empty``, ``attachment_too_large``,
    ``attachment_type`` or ``attachment_mismatch``."""
    raise NotImplementedError
