"""What a download is called, how its CSV reads in a spreadsheet program, and one download per click."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.http import QueryDict
from django.utils import numberformat
from django.utils.text import slugify

from blauweknop.display import format_value, rows
from blauweknop.document_types import DocumentType, Field
from blauweknop.protocol.scheme_document import Participant, issuer_slug

logger = logging.getLogger(__name__)

# Per language, the cell separator and decimal sign its spreadsheet programs expect: Dutch ones split on
# ";" because the comma is their decimal sign, English ones on ",". The BOM makes them read UTF-8.
SEPARATORS = {"nl": (";", ","), "en": (",", ".")}
BOM = "\ufeff"
# A text cell that starts like this is run as a formula by spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A text cell of only digits and separators is read as a number, a date or a time ("12-3" becomes
# 12 March, "0612" loses its zero). Words with digits ("1 jan") may still be read as a date by some
# programs; the catalogue's text fields hold names, codes and references, not such words.
NUMBER_OR_DATE = re.compile(r"[0-9][0-9 .,:/%eE-]*")
# A second identical form sent within this time is the same click twice (a double click, or a tired hand).
REPEAT_SECONDS = 5


def organisation_slug(participant: Participant) -> str:
    """The short name the organisation is known by in the scheme: the last path segment of its issuer
    URL (also its address at the holder), or else its name; only letters, digits and hyphens."""
    return slugify(issuer_slug(participant.endpoints.get("issuer", ""))) or slugify(participant.name) or "organisatie"


def file_name(participant: Participant, type_id: str, fmt: str, on: date) -> str:
    """``<organisation>-<document type>-<date>.<format>``, so that copies from two organisations differ."""
    return f"{organisation_slug(participant)}-{slugify(type_id)}-{on.isoformat()}.{fmt}"


def _cell(field: Field | None, value: Any, language: str) -> str:
    """A value as a spreadsheet reads it: amounts as plain numbers in the language's way, ISO dates, codes
    in words, and text that the program must not run as a formula or turn into a number or date."""
    kind, decimal = field.kind if field else "text", SEPARATORS[language][1]
    if value is None:
        return ""
    if kind in ("money", "percentage") and isinstance(value, int) and not isinstance(value, bool):
        number = numberformat.format(Decimal(value) / 100, decimal, 2)
        return number + "%" if kind == "percentage" else number
    if kind == "date" and isinstance(value, str):
        return value
    text = (field.words(value, language) if field else None) or format_value(kind, value)
    if kind == "text" and (text.startswith(FORMULA_START) or NUMBER_OR_DATE.fullmatch(text)):
        return "'" + text  # the mark spreadsheet programs themselves use for "this is text"
    return text


def csv_text(document_type: DocumentType, selected: dict[str, Any], language: str) -> str:
    """The chosen fields as a table: one header row of labels in ``language``, then one row per list
    item (e.g. per debt) with the fields outside the list repeated, or a single row for a type without one."""
    order = {f.path: n for n, f in enumerate(document_type.fields)}
    labels: dict[str, str] = {}  # by the field's generic path (or, outside the catalogue, its concrete one)
    lines: dict[int | None, dict[str, str]] = {}
    for row in rows(document_type, selected):
        field = document_type.field(row.path)
        column = field.path if field else row.path
        labels.setdefault(column, row.label)
        lines.setdefault(row.item, {})[column] = _cell(field, _raw(selected, row.path), language)
    columns = sorted(labels, key=lambda column: order.get(column, len(order)))
    common = lines.pop(None, {})
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=SEPARATORS[language][0])
    writer.writerow([labels[column] for column in columns])
    for line in [{**common, **item} for item in lines.values()] or [common]:
        writer.writerow([line.get(column, "") for column in columns])
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
