"""What the data page shows of one copy: its fields grouped per item, what is ticked, the debts.

Pure functions of the copy's claims and the day: the view passes today's date, so a test can pass any.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from blauweknop.display import Row, format_value, rows
from blauweknop.document_types import DocumentType

# The catalogue fields that hold an amount still owed: their sum is the category's total of debts.
OWED = ("vorderingen.openstaandBedragInCenten", "totaleSchuldInCenten")
# A payment is late after the last day to pay ("vervaldatum"), while an amount of it is still owed.
DUE_DATE, STILL_OWED = "vorderingen.vervaldatum", "openstaandBedragInCenten"


@dataclass(frozen=True)
class Field:
    """One field as the data page shows it."""

    row: Row
    ticked: bool
    late_since: date | None = None  # the first day it was late, for a due date that has passed


@dataclass(frozen=True)
class Item:
    """The fields of one list item (e.g. one debt), or the fields outside any list (``number`` None)."""

    number: int | None
    fields: list[Field]

    @property
    def ticked(self) -> bool:
        """An item starts ticked while any of its fields is."""
        return any(field.ticked for field in self.fields)


@dataclass(frozen=True)
class Category:
    """One document type on the data page."""

    type: DocumentType
    items: list[Item]
    total_owed: str | None  # formatted like the rows; None when the type holds no debts


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


def category(document_type: DocumentType, claims: dict[str, Any], ticked: set[str], today: date) -> Category:
    """The data page's view of one copy: ``ticked`` are the paths that show a tick."""
    late = late_since(claims, today)
    items = [
        Item(number, [Field(row, row.path in ticked, late.get(row.path)) for row in group])
        for number, group in groupby(rows(document_type, claims), key=lambda row: row.item)
    ]
    owed = total_owed(document_type, claims)
    return Category(document_type, items, None if owed is None else format_value("money", owed))
