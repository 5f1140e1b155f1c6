"""What a download is called and how its CSV reads: for people with a Dutch spreadsheet program."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from blauweknop.display import format_value, rows
from blauweknop.document_types import DocumentType
from blauweknop.protocol.scheme_document import Participant, issuer_slug

# Dutch spreadsheet programs split on ";" (the comma is their decimal sign); the BOM makes them read UTF-8.
CSV_SEPARATOR = ";"
BOM = "\ufeff"
# A text cell that starts like this is run as a formula by spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
