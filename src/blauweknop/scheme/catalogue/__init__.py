"""The data catalogue: one definition of every document type, for every participant (R1).

Each document type is a JSON file beside this module: its ``vct``, version, a JSON Schema, and per
field a Dutch camelCase path, labels and one plain-language sentence in Dutch and English, and a
sensitivity mark. Money is always in euro cents. These files are the scheme operator's source: it
publishes the catalogue in the scheme document, and every other role reads it from there
(``blauweknop.document_types``); only the operator and the demo's generator read these files.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from blauweknop.document_types import Catalogue, DocumentType, Field, from_entry

KINDS = frozenset({"text", "date", "money", "year", "boolean", "percentage"})
SENSITIVITIES = frozenset({"normaal", "gevoelig", "bijzonder"})


def _leaves(schema: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """The schema of every leaf, by its generic path."""
    if schema.get("type") == "object":
        return {p: s for name, sub in schema["properties"].items() for p, s in _leaves(sub, f"{prefix}{name}.").items()}
    if schema.get("type") == "array":
        return _leaves(schema["items"], prefix)
    return {prefix.rstrip("."): schema}


def _load(path: Path) -> DocumentType:
    raw = json.loads(path.read_text(encoding="utf-8"))
    fields = tuple(Field(**f) for f in raw["fields"])
    document_type = DocumentType(**{**raw, "fields": fields})
    jsonschema.Draft202012Validator.check_schema(document_type.schema)
    # Every leaf in the schema is explained, and every explanation is about a leaf that exists.
    described, leaves = {f.path for f in fields}, _leaves(document_type.schema)
    if described != set(leaves):
        raise ValueError(f"{path.name}: fields and schema differ: {described ^ set(leaves)}")
    for f in fields:
        if f.kind not in KINDS or f.sensitivity not in SENSITIVITIES or set(f.label) != {"nl", "en"}:
            raise ValueError(f"{path.name}: field {f.path} has a wrong kind, sensitivity or labels")
        # Every coded value has words in both languages: none reaches people as it is stored.
        if set(f.values) != set(leaves[f.path].get("enum", [])) or any(
            set(w) != {"nl", "en"} for w in f.values.values()
        ):
            raise ValueError(f"{path.name}: field {f.path} needs words in Dutch and English for exactly its enum")
    if from_entry(document_type.publish()) != document_type:  # e.g. a pattern that could backtrack for long
        raise ValueError(f"{path.name}: holders and portals would leave this type out (see blauweknop.document_types)")
    return document_type


@cache
def document_types() -> dict[str, DocumentType]:
    """Every document type in the catalogue, by id."""
    paths = sorted(p for p in Path(__file__).parent.glob("*.json") if p.name != "legal_bases.json")
    loaded = [_load(path) for path in paths]
    return {t.id: t for t in loaded}


@cache
def legal_bases() -> list[dict[str, Any]]:
    """The legal bases a requester can name: consent, or an article of law."""
    return json.loads((Path(__file__).parent / "legal_bases.json").read_text(encoding="utf-8"))


def document_type(type_id: str) -> DocumentType:
    """The document type ``type_id``; an unknown id is bad input."""
    return Catalogue(document_types()).document_type(type_id)
