"""Document types as every role knows them: built from the data catalogue in the verified scheme document.

The scheme operator keeps the catalogue as files (``blauweknop.scheme.catalogue``) and publishes it
in the signed scheme document; holders and portals read it from there only, so a holder or a portal
on its own machines needs no copy of the operator's files (R1). Each type is built once per scheme
version, and each JSON Schema validator once per type and version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import jsonschema

from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.scheme_document import SchemeDocument


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
        error = jsonschema.exceptions.best_match(_validator(self).iter_errors(data))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "(top)"
            raise InvalidInput("bad_claims", f"The {self.id} data does not match the catalogue at {where}.")

    def publish(self) -> dict[str, Any]:
        """The entry for the scheme document's ``document_types`` list; :func:`from_entry` reads it back."""
        return {
            "id": self.id,
            "vct": self.vct,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "schema": self.schema,
            "fields": [
                {"path": f.path, "kind": f.kind, "sensitivity": f.sensitivity, "label": f.label, "help": f.help}
                for f in self.fields
            ],
        }


_validators: dict[tuple[str, int], jsonschema.protocols.Validator] = {}
_validators_lock = threading.Lock()


def _validator(document_type: DocumentType) -> jsonschema.protocols.Validator:
    """One validator per type and version: a version's schema never changes, and compiling one costs."""
    key = (document_type.id, document_type.version)
    with _validators_lock:
        if key not in _validators:
            _validators[key] = jsonschema.Draft202012Validator(
                document_type.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            )
        return _validators[key]


def _text(value: Any) -> dict[str, str]:
    return (
        {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(value, dict) else {}
    )


def from_entry(entry: dict[str, Any]) -> DocumentType | None:
    """A document type from one entry of a verified scheme document; ``None`` for an entry it cannot use.

    The operator signed the entry, so it is trusted, but not assumed well formed: a bad entry
    leaves out that type, never the whole catalogue.
    """
    try:
        fields = tuple(
            Field(str(f["path"]), str(f["kind"]), str(f["sensitivity"]), _text(f["label"]), _text(f["help"]))
            for f in entry["fields"]
        )
        schema, version = entry["schema"], entry["version"]
        if not isinstance(schema, dict) or isinstance(version, bool) or not isinstance(version, int):
            return None
        jsonschema.Draft202012Validator.check_schema(schema)
        return DocumentType(
            id=str(entry["id"]),
            vct=str(entry["vct"]),
            version=version,
            name=_text(entry["name"]),
            description=_text(entry.get("description")),
            schema=schema,
            fields=fields,
        )
    except (KeyError, TypeError, jsonschema.exceptions.SchemaError):
        return None


@dataclass(frozen=True)
class Catalogue:
    """The document types of one scheme version, by id and by ``vct``."""

    by_id: dict[str, DocumentType]

    def get(self, type_id: str) -> DocumentType | None:
        """The type ``type_id``, or ``None``."""
        return self.by_id.get(type_id)

    def document_type(self, type_id: str) -> DocumentType:
        """The type ``type_id``; an unknown id is bad input."""
        found = self.by_id.get(type_id)
        if found is None:
            raise InvalidInput("bad_claims", f"There is no document type {type_id!r} in the catalogue.")
        return found

    def by_vct(self, vct: str | None) -> DocumentType | None:
        """The type whose credentials carry ``vct``, or ``None``."""
        return next((t for t in self.by_id.values() if t.vct == vct), None)


_catalogues: dict[tuple[str, int], Catalogue] = {}
_catalogues_lock = threading.Lock()
KEEP_VERSIONS = 4  # the version in force and a few before it, for requests that began under those


def of(scheme: SchemeDocument) -> Catalogue:
    """The catalogue of ``scheme``, built once per scheme version."""
    key = (scheme.iss, scheme.version)
    with _catalogues_lock:
        found = _catalogues.get(key)
        if found is None:
            types = (from_entry(entry) for entry in scheme.document_types)
            found = _catalogues[key] = Catalogue({t.id: t for t in types if t is not None})
            for old in sorted(_catalogues, key=lambda k: k[1])[:-KEEP_VERSIONS]:
                del _catalogues[old]
        return found
