"""The data catalogue: one definition of every document type, for every participant (R1).

Each document type is a JSON file beside this module: its ``vct``, version, a JSON Schema, and per
field a Dutch camelCase path, labels and one plain-language sentence in Dutch and English, and a
sensitivity mark. Money is always in euro cents. The scheme operator publishes the catalogue in the
scheme document; holders validate what they issue against it; pages take their words from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from blauweknop.protocol.errors import InvalidInput

KINDS = frozenset({"text", "date", "money", "year", "boolean", "percentage"})
SENSITIVITIES = frozenset({"normaal", "gevoelig", "bijzonder"})


@dataclass(frozen=True)
class Field:
    """One field of a document type, addressed by its generic path (no array positions)."""

    path: str
    kind: str
    sensitivity: str
    label: dict[str, str]
    help: dict[str, str]


@dataclass(frozen=True)
class DocumentType:
    """A kind of document a holder can issue, e.g. ``vorderingen``."""

    id: str
    vct: str
    version: int
    name: dict[str, str]
    description: dict[str, str]
    schema: dict[str, Any]
    fields: tuple[Field, ...]

    def field(self, claim_path: str) -> Field | None:
        """The catalogue field for a concrete claim path such as ``vorderingen.0.kenmerk``."""
        generic = ".".join(part for part in claim_path.split(".") if not part.isdigit())
        return next((f for f in self.fields if f.path == generic), None)

    def validate(self, data: Any) -> None:
        """Refuse data that does not match the schema, naming the place that is wrong."""
        error = jsonschema.exceptions.best_match(_validator(self.id).iter_errors(data))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "(top)"
            raise InvalidInput("bad_claims", f"The {self.id} data does not match the catalogue at {where}.")

    def publish(self) -> dict[str, Any]:
        """The entry for the scheme document's ``document_types`` list."""
        return {
            "id": self.id,
            "vct": self.vct,
            "version": self.version,
            "name": self.name,
            "schema": self.schema,
            "fields": [
                {"path": f.path, "kind": f.kind, "sensitivity": f.sensitivity, "label": f.label, "help": f.help}
                for f in self.fields
            ],
        }


def _leaf_paths(schema: dict[str, Any], prefix: str = "") -> set[str]:
    if schema.get("type") == "object":
        return {p for name, sub in schema["properties"].items() for p in _leaf_paths(sub, f"{prefix}{name}.")}
    if schema.get("type") == "array":
        return _leaf_paths(schema["items"], prefix)
    return {prefix.rstrip(".")}


def _load(path: Path) -> DocumentType:
    raw = json.loads(path.read_text(encoding="utf-8"))
    fields = tuple(Field(**f) for f in raw["fields"])
    document_type = DocumentType(**{**raw, "fields": fields})
    jsonschema.Draft202012Validator.check_schema(document_type.schema)
    # Every leaf in the schema is explained, and every explanation is about a leaf that exists.
    described = {f.path for f in fields}
    if described != _leaf_paths(document_type.schema):
        raise ValueError(f"{path.name}: fields and schema differ: {described ^ _leaf_paths(document_type.schema)}")
    for f in fields:
        if f.kind not in KINDS or f.sensitivity not in SENSITIVITIES or set(f.label) != {"nl", "en"}:
            raise ValueError(f"{path.name}: field {f.path} has a wrong kind, sensitivity or labels")
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
    found = document_types().get(type_id)
    if found is None:
        raise InvalidInput("bad_claims", f"There is no document type {type_id!r} in the catalogue.")
    return found


@cache
def _validator(type_id: str) -> jsonschema.protocols.Validator:
    schema = document_types()[type_id].schema
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
