"""What a download is called, how its CSV reads (for a Dutch spreadsheet program), and one download per click."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from datetime import date
from typing import Any

from django.core.cache import cache
from django.http import QueryDict
from django.utils.text import slugify
from django.utils.translation import gettext as _

from blauweknop.display import format_value, rows
from blauweknop.document_types import DocumentType
from blauweknop.protocol.scheme_document import Participant, issuer_slug

logger = logging.getLogger(__name__)

# Dutch spreadsheet programs split on ";" (the comma is their decimal sign); the BOM makes them read UTF-8.
CSV_SEPARATOR = ";"
BOM = "\ufeff"
# A text cell that starts like this is run as a formula by spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A second identical form sent within this time is the same click twice (a double click, or a tired hand).
REPEAT_SECONDS = 5


def organisation_slug(participant: Participant) -> str:
    """The short name the organisation is known by in the scheme: the last path segment of its issuer
    URL (also its address at the holder), or else its name; only letters, digits and hyphens."""
    return slugify(issuer_slug(participant.endpoints.get("issuer", ""))) or slugify(participant.name) or "organisatie"


def file_name(participant: Participant, type_id: str, fmt: str, on: date) -> str:
    """``<organisation>-<document type>-<date>.<format>``, so that copies from two organisations differ."""
    return f"{organisation_slug(participant)}-{slugify(type_id)}-{on.isoformat()}.{fmt}"


def _cell(kind: str, value: Any) -> str:
    text = format_value(kind, value, spreadsheet=True)
    return "'" + text if kind == "text" and text.startswith(FORMULA_START) else text


def csv_text(document_type: DocumentType, selected: dict[str, Any]) -> str:
    """The chosen fields as CSV: one row per field with its path, its label and its value."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=CSV_SEPARATOR)
    writer.writerow([_("gegeven"), _("omschrijving"), _("waarde")])
    for row in rows(document_type, selected):
        field = document_type.field(row.path)
        writer.writerow([row.path, row.label, _cell(field.kind if field else "text", _raw(selected, row.path))])
    return out.getvalue()


def _raw(claims: Any, path: str) -> Any:
    for part in path.split("."):
        claims = claims[int(part)] if isinstance(claims, list) else claims[part]
    return claims


def repeat_key(session_key: str, form: QueryDict) -> str:
    """The same key for the same form sent twice in one session; the form carries a token per page shown."""
    sent = sorted((name, value) for name, values in form.lists() for value in values)
    return "blauweknop:download:" + hashlib.sha256(repr((session_key, sent)).encode()).hexdigest()


async def served_before(key: str) -> bool:
    """Whether this form was answered with a file moments ago: then the browser has it already.

    A cache that cannot be reached says no: a second file is better than none.
    """
    try:
        return bool(await cache.aget(key))
    except Exception as exc:  # any backend's error: the guard is a courtesy, the download is the point
        logger.warning("download guard not readable: %s", type(exc).__name__)
        return False


async def first_served(key: str) -> bool:
    """Mark this form as answered; whether it was the first answer (a click sent twice is recorded once)."""
    try:
        return await cache.aadd(key, True, timeout=REPEAT_SECONDS)
    except Exception as exc:
        logger.warning("download guard not writable: %s", type(exc).__name__)
        return True
