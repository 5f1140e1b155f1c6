"""The citizen's choice of fields, applied to claims the same way a presentation applies it."""

from __future__ import annotations

from typing import Any

from blauweknop.display import Row
from blauweknop.document_types import DocumentType


def select(value: Any, chosen: set[str], path: str = "") -> Any:
    """Only the chosen leaf paths (and what holds them); list items without a chosen field vanish.

    Returns ``None`` when nothing under ``value`` was chosen.
    """
    if isinstance(value, dict):
        kept = {k: select(v, chosen, f"{path}{k}.") for k, v in value.items()}
        kept = {k: v for k, v in kept.items() if v is not None}
        return kept or None
    if isinstance(value, list):
        kept_items = [select(v, chosen, f"{path}{i}.") for i, v in enumerate(value)]
        kept_items = [v for v in kept_items if v is not None]
        return kept_items or None
    return value if path.rstrip(".") in chosen else None


# Fields the catalogue marks this way are shared only when needed (R3: minimal by default), e.g. the BSN.
UNTICKED_SENSITIVITY = "bijzonder"


def ticked_by_default(document_type: DocumentType, paths: list[str]) -> set[str]:
    """The paths that start ticked on the data page: all but those the catalogue marks as special."""
    return {
        path
        for path in paths
        if (field := document_type.field(path)) is None or field.sensitivity != UNTICKED_SENSITIVITY
    }


def chosen(ticked: list[str], kept_items: list[str], offered: list[Row]) -> list[str]:
    """The paths of ``offered`` the citizen sent ticked, in page order, without those of an unticked item.

    ``kept_items`` are the numbers of the items whose own box is still ticked: unticking an item leaves
    out all its fields, also without JavaScript to untick them one by one. What was not offered is ignored.
    """
    sent = set(ticked)
    return [row.path for row in offered if row.path in sent and (row.item is None or str(row.item) in kept_items)]
