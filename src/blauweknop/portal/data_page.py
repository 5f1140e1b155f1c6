"""What the data page shows of one copy: its fields grouped per item, what is ticked, the debts.

Pure functions of the copy's claims and the day: the view passes today's date, so a test can pass any.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blauweknop.display import OWED, Row, format_value, item_name, rows
from blauweknop.document_types import Catalogue, DocumentType
from blauweknop.i18n import language

# A payment is late after the last day to pay ("vervaldatum"), while an amount of it is still owed.
DUE_DATE, STILL_OWED = "vorderingen.vervaldatum", "openstaandBedragInCenten"
# A last day to act that people must not mistake for one still open once it has passed.
DEADLINES = ("vorderingen.bezwaarTot",)
# Per document type: what it means that an organisation holds none of it about the citizen, in plain words.
NOTHING = {
    "toeslagen": gettext_lazy("U krijgt geen toeslag van %(name)s."),
    "vorderingen": gettext_lazy("U hoeft niets te betalen aan %(name)s."),
    "studieschuld": gettext_lazy("U heeft geen studieschuld bij %(name)s."),
    "inkomen": gettext_lazy("%(name)s heeft geen gegevens over uw inkomen."),
    "persoonsgegevens": gettext_lazy("%(name)s heeft geen persoonsgegevens van u."),
}


@dataclass(frozen=True)
class Field:
    """One field as the data page shows it."""

    row: Row
    ticked: bool
    late_since: date | None = None  # the first day it was late, for a due date that has passed
    passed: bool = False  # a last day to act (e.g. to object) that lies before today


@dataclass(frozen=True)
class Item:
    """The fields of one list item (e.g. one debt), or the fields outside any list (``number`` None)."""

    number: int | None
    fields: list[Field]
    name: str | None = None  # e.g. "Inkomstenbelasting, BEL-2025-001, € 605,00"; None when nothing names it

    @property
    def ticked(self) -> bool:
        """An item starts ticked while any of its fields is."""
        return any(field.ticked for field in self.fields)


@dataclass(frozen=True)
class Category:
    """One document type on the data page."""

    type: DocumentType
    title: str  # the type's name in the page's language
    items: list[Item]
    total_owed: str | None  # formatted like the rows; None when the type holds no debts


def copy_type(catalogue: Catalogue, type_id: str, claims: Mapping[str, Any]) -> DocumentType | None:
    """The version of type ``type_id`` a copy with ``claims`` was issued under, by its own ``vct``.

    A copy made before a new version of its type keeps that version's fields and words (a field the
    newest version renamed or dropped is still shown with its own label). A copy whose version the
    scheme no longer lists is shown with the newest one; ``None`` when the scheme lists no ``type_id``.
    """
    own = catalogue.by_vct(claims.get("vct"))
    return own if own is not None and own.id == type_id else catalogue.get(type_id)


def _values(value: Any, parts: list[str], path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value at the generic ``parts`` (list positions left out) with its concrete path."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _values(item, parts, f"{path}{index}.")
    elif not parts:
        yield path.rstrip("."), value
    elif isinstance(value, dict) and parts[0] in value:
        yield from _values(value[parts[0]], parts[1:], f"{path}{parts[0]}.")


def _at(value: Any, path: str) -> Any:
    """The value at a concrete path such as ``vorderingen.0.vervaldatum``, or ``None``."""
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _is_cents(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def total_owed(document_type: DocumentType, claims: dict[str, Any]) -> int | None:
    """The sum of every amount still owed in ``claims``, in cents; ``None`` when the type has no such field."""
    if not any(field.path in OWED for field in document_type.fields):
        return None
    return sum(value for path in OWED for _, value in _values(claims, path.split(".")) if _is_cents(value))


def late_since(claims: dict[str, Any], today: date) -> dict[str, date]:
    """By the concrete path of its due date: the first late day of every payment still owed whose due date passed."""
    late = {}
    for path, due in _values(claims, DUE_DATE.split(".")):
        owed = _at(claims, f"{path.rsplit('.', 1)[0]}.{STILL_OWED}")
        try:
            last_day = date.fromisoformat(due) if isinstance(due, str) else None
        except ValueError:
            continue
        if last_day is not None and last_day < today and _is_cents(owed) and owed > 0:
            late[path] = last_day + timedelta(days=1)
    return late


def passed_deadlines(claims: dict[str, Any], today: date) -> set[str]:
    """The concrete paths of every last day to act (:data:`DEADLINES`) that lies before ``today``."""
    passed = set()
    for deadline in DEADLINES:
        for path, day in _values(claims, deadline.split(".")):
            try:
                if isinstance(day, str) and date.fromisoformat(day) < today:
                    passed.add(path)
            except ValueError:
                continue
    return passed


def nothing_of(document_type: DocumentType, holder_name: str) -> str:
    """The plain sentence that the organisation ``holder_name`` holds nothing of this type about the citizen."""
    words = NOTHING.get(document_type.id) or _("%(name)s heeft geen %(kind)s over u.")
    return str(words) % {"name": holder_name, "kind": document_type.name[language()].lower()}


def category(document_type: DocumentType, claims: dict[str, Any], ticked: set[str], today: date) -> Category:
    """The data page's view of one copy: ``ticked`` are the paths that show a tick."""
    late, passed = late_since(claims, today), passed_deadlines(claims, today)
    items = []
    for number, group in groupby(rows(document_type, claims), key=lambda row: row.item):
        shown = list(group)
        fields = [Field(row, row.path in ticked, late.get(row.path), row.path in passed) for row in shown]
        items.append(Item(number, fields, item_name(document_type, shown) if number else None))
    owed = total_owed(document_type, claims)
    title = document_type.name[language()]
    return Category(document_type, title, items, None if owed is None else format_value("money", owed))
