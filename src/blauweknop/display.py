"""Credential data in plain words: catalogue labels and help, values formatted for people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blauweknop import i18n
from blauweknop.document_types import DocumentType

# What was done with a citizen's data, in people's words: what a holder recorded (as its API names
# it), and what the portal recorded itself (its event, a colon, and the format or the way of checking).
FETCHED = "basis-ophalen"  # the Blauwe Knop was pressed: the holder issued copies to view
PRINTED = "basis-afdrukken"  # the holder signed a PDF of a copy
SEARCHED = "basis-zoeken"  # the Blauwe Knop was pressed, and the holder had nothing of that kind
# Variant Plus: a requester got the data. The words name it: ``%(organisatie)s`` is filled in when shown.
SHARED = "plus-delen"  # the holder issued copies the citizen agreed to share with a requester
SHARE_REFUSED = "plus-delen-geweigerd"  # ... but that requester was not certified (suspended): nothing issued
# A standing fetch the app manager refused, by the problem code the requester got (its fetch API's), in the words
# of the consent's page (``%(who)s``: the requester) and the activity a holder that delivered under it records.
FETCH_REFUSED = {
    "consent_withdrawn": gettext_lazy(
        "%(who)s wilde uw gegevens ophalen. Dat mocht niet meer: u had uw toestemming ingetrokken."
    ),
    "consent_expired": gettext_lazy(
        "%(who)s wilde uw gegevens ophalen. Dat mocht niet meer: uw toestemming was afgelopen."
    ),
    "consent_refused": gettext_lazy("%(who)s wilde uw gegevens ophalen. Dat mocht niet: u had nee gezegd."),
    "not_standing": gettext_lazy(
        "%(who)s wilde uw gegevens nog een keer ophalen. Dat mocht niet: u gaf maar één keer toestemming."
    ),
    "not_certified": gettext_lazy(
        "%(who)s wilde uw gegevens ophalen. Dat mocht niet: de organisatie mocht toen niet meedoen."
    ),
}
FETCH_REFUSED_ACTIVITIES = {
    "consent_withdrawn": "plus-geweigerd-ingetrokken",
    "consent_expired": "plus-geweigerd-verlopen",
    "consent_refused": "plus-geweigerd-nee",
    "not_standing": "plus-geweigerd-eenmalig",
    "not_certified": "plus-geweigerd-niet-erkend",
}
LAWFUL = "wettelijke-verstrekking"  # a requester fetched directly, on a legal basis (law)
LAWFUL_SEARCHED = "wettelijke-verstrekking-zoeken"  # ... and the holder had nothing of that kind
LAWFUL_REFUSED = "wettelijke-verstrekking-geweigerd"  # ... beyond what the law allows it, or not certified
CORRECTION_ASKED = "correctie-verzoek"  # the citizen asked for a correction: the holder looked up the value now
CORRECTED = "correctie-aangepast"  # the holder's staff corrected the data at the source on that request
ACTIVITIES = {
    FETCHED: gettext_lazy("Opgehaald om te bekijken, op uw verzoek"),
    # The portal asks for a PDF only when the citizen downloads one: the holder's print is that download.
    PRINTED: gettext_lazy("U heeft een PDF gemaakt en gedownload"),
    SEARCHED: gettext_lazy("Op uw verzoek gezocht, niets gevonden"),
    SHARED: gettext_lazy("Gedeeld met %(organisatie)s, met uw toestemming"),
    SHARE_REFUSED: gettext_lazy("Niet gedeeld met %(organisatie)s: die organisatie mag nu geen gegevens krijgen"),
    LAWFUL: gettext_lazy("Gegeven aan %(organisatie)s, omdat de wet dat verplicht"),
    LAWFUL_SEARCHED: gettext_lazy("Gezocht voor %(organisatie)s, omdat de wet dat verplicht; niets gevonden"),
    LAWFUL_REFUSED: gettext_lazy("%(organisatie)s vroeg gegevens, maar mocht die niet krijgen. Er is niets gegeven"),
    CORRECTION_ASKED: gettext_lazy("U vroeg om een verbetering. De organisatie keek wat zij nu over u weet"),
    CORRECTED: gettext_lazy("Verbeterd op uw verzoek"),
    "gedownload:sdjwt": gettext_lazy("U heeft een digitale kopie gedownload (.sdjwt)"),
    "gedownload:pdf": gettext_lazy("U heeft een PDF gedownload"),  # recorded until the holder's print said it
    "gedownload:json": gettext_lazy("U heeft een JSON-bestand gedownload"),
    "gedownload:csv": gettext_lazy("U heeft een CSV-bestand gedownload, voor een spreadsheet"),
    "gecontroleerd:bestand": gettext_lazy("Uw kopie is gecontroleerd op de controlepagina"),
    "gecontroleerd:code": gettext_lazy("Uw afdruk is gecontroleerd met de controlecode"),
    **{activity: FETCH_REFUSED[code] for code, activity in FETCH_REFUSED_ACTIVITIES.items()},
}


# A part of a document type a request may ask on its own, by the first step of its fields' paths, in people's
# words: the catalogue names types and fields, not these parts (the address within personal details).
PARTS = {"adres": gettext_lazy("uw adres"), "naam": gettext_lazy("uw naam")}


def part_name(document_type: DocumentType, paths: list[str]) -> str:
    """What is asked of ``document_type`` in people's words: "uw adres" when ``paths`` are one known part of it,
    else "uw <type>"."""
    parts = {path.split(".")[0] for path in paths}
    if len(parts) == 1 and (words := PARTS.get(parts.pop())) is not None:
        return str(words)
    return _("uw %(type)s") % {"type": document_type.name[i18n.language()].lower()}


def lowered(label: str) -> str:
    """A label inside a sentence: its first letter small, the rest as written ("burgerservicenummer (BSN)")."""
    return label[:1].lower() + label[1:]


def all_of(names: list[str]) -> str:
    """Names as one list in words: "A", "A en B", "A, B en C"."""
    if len(names) < 2:
        return "".join(names)
    return _("%(some)s en %(last)s") % {"some": ", ".join(names[:-1]), "last": names[-1]}


def activity_words(activity: str, organisation: str) -> str:
    """What was done, in people's words, naming ``organisation`` where the words name one; unknown ones as given."""
    words = ACTIVITIES.get(activity)
    # A refused fetch's words are the consent page's, which name the requester ``who``.
    return str(words) % {"organisatie": organisation, "who": organisation} if words is not None else activity


@dataclass(frozen=True)
class Row:
    """One field as a person reads it."""

    path: str  # the concrete claim path, e.g. vorderingen.0.kenmerk
    label: str
    value: str
    help: str
    item: int | None  # 1-based position when the field belongs to a list item


def format_value(kind: str, value: Any) -> str:
    """A value as people write it: euros with cents, dates in words, yes or no (a spreadsheet's cells:
    ``blauweknop.portal.downloads``)."""
    if value is None:
        return "—"
    if kind == "money" and isinstance(value, int):
        return "€ " + formats.number_format(Decimal(value) / 100, 2, use_l10n=True, force_grouping=True)
    if kind == "date" and isinstance(value, str):
        try:
            return formats.date_format(date.fromisoformat(value), "j F Y")
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, bool):
        return _("ja") if value else _("nee")
    if kind == "percentage" and isinstance(value, int):
        return formats.number_format(Decimal(value) / 100, 2, use_l10n=True) + "%"
    return str(value)


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for key, sub in value.items() for leaf in _leaves(sub, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, sub in enumerate(value) for leaf in _leaves(sub, (*path, str(index)))]
    return [(path, value)]


def given(document_type: DocumentType, claims: dict[str, Any], paths: list[str]) -> list[str]:
    """The catalogue paths of ``paths`` that carry a value in ``claims``: a field someone does not have (an empty
    name prefix) was not given, whatever was asked."""
    present = {
        field.path
        for path, value in _leaves(claims)
        if value not in (None, "") and (field := document_type.field(".".join(path))) is not None
    }
    return [path for path in paths if path in present]


def rows(document_type: DocumentType, claims: dict[str, Any]) -> list[Row]:
    """The fields of ``claims`` in catalogue order, list items kept together."""
    language = i18n.language()
    order = {f.path: n for n, f in enumerate(document_type.fields)}
    result = []
    for path, value in _leaves(claims):
        concrete = ".".join(path)
        field = document_type.field(concrete)
        positions = [int(part) for part in path if part.isdigit()]
        item = positions[0] + 1 if positions else None
        label = field.label[language] if field else concrete
        result.append(
            (
                (item or 0, order.get(field.path, len(order)) if field else len(order)),
                Row(
                    concrete,
                    label,
                    (field.words(value, language) if field else None)
                    or format_value(field.kind if field else "text", value),
                    field.help[language] if field else "",
                    item,
                ),
            )
        )
    return [row for _, row in sorted(result, key=lambda pair: pair[0])]


# The catalogue fields that hold an amount still owed: their sum is the category's total of debts.
OWED = ("vorderingen.openstaandBedragInCenten", "totaleSchuldInCenten")
# What names a list item (e.g. one debt), when its type has them: its kind, its reference, its amount.
KIND, REFERENCES = "soort", ("kenmerk", "jaar")


def item_name(document_type: DocumentType, item: list[Row]) -> str | None:
    """Words that tell one list item from the others: its kind, its reference and its amount, as shown.

    The amount is what is still owed when the item has it, else its first amount. ``None`` when the
    type has none of these fields.
    """
    by_name: dict[str, Row] = {}
    for row in item:
        field = document_type.field(row.path)
        if field is not None:
            name = "owed" if field.path in OWED else "money" if field.kind == "money" else field.path.rsplit(".")[-1]
            by_name.setdefault(name, row)
    reference = next((by_name[name] for name in REFERENCES if name in by_name), None)
    parts = [by_name.get(KIND), reference, by_name.get("owed") or by_name.get("money")]
    return ", ".join(row.value for row in parts if row is not None) or None
