"""The data catalogue: one definition of every document type, for every participant (R1).

Each document type is a JSON file beside this module: its ``vct``, version, a JSON Schema, and per
field a Dutch camelCase path, labels and one plain-language sentence in Dutch and English, and a
sensitivity mark. Money is always in euro cents. These files are the scheme operator's source: it
publishes the catalogue in the scheme document, and every other role reads it from there
(``blauweknop.document_types``); only the operator and the demo's generator read these files.

The operator publishes a newer version of a type on its pages (``blauweknop.scheme.catalogue.versions``):
it is checked exactly as these files are (:func:`check`), and the scheme document then lists every
version, so that a copy of an older version keeps its meaning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from django.utils.translation import gettext as _

from blauweknop.document_types import (
    KEYWORDS,
    MAX_DEPTH,
    MAX_NODES,
    Catalogue,
    DocumentType,
    Field,
    from_entry,
    within_profile,
)

KINDS = frozenset({"text", "date", "money", "year", "boolean", "percentage"})
SENSITIVITIES = frozenset({"normaal", "gevoelig", "bijzonder"})
MAX_WORDS = 1_000  # characters of a name, a description, a label or a help text

_WORDS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["nl", "en"],
    "properties": {language: {"type": "string", "maxLength": MAX_WORDS} for language in ("nl", "en")},
}
# The shape of a definition file: what every document type says, each text in Dutch and English.
DEFINITION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "vct", "version", "name", "description", "schema", "fields"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,59}$"},
        "vct": {"type": "string", "pattern": "^https://[^ ]{1,200}$"},
        "version": {"type": "integer", "minimum": 1},
        "name": _WORDS,
        "description": _WORDS,
        "schema": {"type": "object"},
        "fields": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_NODES,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "kind", "sensitivity", "label", "help"],
                "properties": {
                    "path": {"type": "string", "maxLength": 200},
                    "kind": {"enum": sorted(KINDS)},
                    "sensitivity": {"enum": sorted(SENSITIVITIES)},
                    "label": _WORDS,
                    "help": _WORDS,
                    "values": {"type": "object", "additionalProperties": _WORDS},
                },
            },
        },
    },
}
_SHAPE = jsonschema.Draft202012Validator(DEFINITION)


class DefinitionRefused(ValueError):
    """A definition that breaks the catalogue's rules; the message says what is wrong, in words for the operator."""


def _some(names: Any) -> str:
    """A few names from a definition, cut short: a pasted file can hold anything."""
    return ", ".join(str(name)[:40] for name in list(names)[:5])


def _shape_problem(error: jsonschema.exceptions.ValidationError) -> str:
    """The place in the definition that has the wrong shape, and what is wrong there, in words."""
    place = ".".join(str(part) for part in error.absolute_path) or _("het begin")
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in instance]
        return _("Bij %(place)s ontbreekt: %(names)s.") % {"place": place, "names": _some(missing)}
    if error.validator == "additionalProperties":
        extra = set(instance) - set(error.schema.get("properties", {}))
        names = _some(sorted(map(str, extra)))
        return _("Bij %(place)s staat iets wat niet hoort: %(names)s.") % {"place": place, "names": names}
    if error.validator == "enum":
        choices = _some(error.validator_value)
        return _("Bij %(place)s staat een waarde die niet mag. Kies uit: %(choices)s.") % {
            "place": place,
            "choices": choices,
        }
    if error.validator == "type":
        return _("Bij %(place)s hoort %(kind)s.") % {"place": place, "kind": _KIND_WORDS[error.validator_value]()}
    return _("Bij %(place)s klopt de waarde niet (regel: %(rule)s).") % {"place": place, "rule": error.validator}


_KIND_WORDS = {
    "object": lambda: _("een object met namen en waarden ({...})"),
    "array": lambda: _("een lijst ([...])"),
    "string": lambda: _("tekst tussen aanhalingstekens"),
    "integer": lambda: _("een heel getal"),
}


def _leaves(schema: Any, prefix: str = "") -> dict[str, dict[str, Any]]:
    """The schema of every leaf, by its generic path."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind == "object":
        properties = schema.get("properties", {})
        return {p: s for name, sub in properties.items() for p, s in _leaves(sub, f"{prefix}{name}.").items()}
    if kind == "array":
        return _leaves(schema.get("items", {}), prefix)
    return {prefix.rstrip("."): schema if isinstance(schema, dict) else {}}


def check(definition: Any) -> DocumentType:
    """The document type of one definition (a catalogue file's content), checked as every catalogue file is.

    Raises :class:`DefinitionRefused` naming the first thing that is wrong.
    """
    error = jsonschema.exceptions.best_match(_SHAPE.iter_errors(definition))
    if error is not None:
        raise DefinitionRefused(_shape_problem(error))
    fields = tuple(Field(**f) for f in definition["fields"])
    document_type = DocumentType(**{**definition, "fields": fields})
    if not within_profile(document_type.schema):  # first: the checks below walk the schema
        raise DefinitionRefused(
            _(
                "Het schema gebruikt iets wat houders en portalen niet aannemen. Gebruik alleen deze woorden: "
                "%(keywords)s. Niet meer dan %(depth)d lagen diep. Een patroon (pattern) begint met ^. Het heeft "
                "geen haakjes en geen |. Herhaal alleen met ? of {m,n}, niet met * of +. Veel herhalingen achter "
                "elkaar mogen niet, zoals vier keer {0,9}."
            )
            % {"keywords": ", ".join(sorted(KEYWORDS)), "depth": MAX_DEPTH}
        )
    try:
        jsonschema.Draft202012Validator.check_schema(document_type.schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = ".".join(["schema", *map(str, exc.absolute_path)])
        message = _("Het schema is geen goed JSON Schema. Kijk bij %(place)s.")
        raise DefinitionRefused(message % {"place": where}) from None
    # Every leaf in the schema is explained, once, and every explanation is about a leaf that exists.
    described, leaves = [f.path for f in fields], _leaves(document_type.schema)
    if set(described) != set(leaves) or len(described) != len(set(described)):
        differ = sorted(set(described) ^ set(leaves)) or sorted({p for p in described if described.count(p) > 1})
        message = _("De velden (fields) en het schema passen niet bij elkaar. Kijk bij: %(paths)s.")
        raise DefinitionRefused(message % {"paths": _some(differ)})
    for f in fields:
        # Every coded value has words in both languages: none reaches people as it is stored.
        enum = leaves[f.path].get("enum", [])
        if not all(isinstance(code, str) for code in enum) or set(f.values) != set(enum):
            raise DefinitionRefused(
                _("Het veld %(path)s heeft niet precies voor elke waarde uit de lijst (enum) woorden (values).")
                % {"path": f.path}
            )
    if from_entry(document_type.publish()) != document_type:
        raise DefinitionRefused(_("Houders en portalen zouden deze documentsoort weglaten. Vraag de ontwikkelaars."))
    return document_type


def _load(path: Path) -> DocumentType:
    try:
        return check(json.loads(path.read_text(encoding="utf-8")))
    except DefinitionRefused as exc:
        raise ValueError(f"{path.name}: {exc}") from exc


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


def every_version(published: Iterable[dict[str, Any]]) -> list[DocumentType]:
    """Every version of every document type, for the scheme document: the files beside this module and
    ``published``, the definitions the operator published since (``PublishedDocumentType``).

    A version both hold (a later release took a published version into its files) is listed once, as
    it was published: copies of it may exist already.
    """
    stored = [t for t in (from_entry(definition) for definition in published) if t is not None]
    taken = {(t.id, t.version) for t in stored}
    files = [t for t in document_types().values() if (t.id, t.version) not in taken]
    return sorted([*files, *stored], key=lambda t: (t.id, t.version))


def document_type(type_id: str) -> DocumentType:
    """The document type ``type_id``; an unknown id is bad input."""
    return Catalogue(document_types()).document_type(type_id)
