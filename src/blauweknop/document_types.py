"""Document types as every role knows them: built from the data catalogue in the verified scheme document.

The scheme operator keeps the catalogue as files (``blauweknop.scheme.catalogue``) and publishes it
in the signed scheme document; holders and portals read it from there only, so a holder or a portal
on its own machines needs no copy of the operator's files (R1). Each type is built once per scheme
version, with its JSON Schema validator. The scheme document lists every published version of a type:
new data is issued with the newest, and a copy of an older version keeps its fields and words.

An entry is signed by the operator, but the holder validates every document against its schema
inside a request: a schema may only use the few keywords documents need (nothing that refers
elsewhere, loops or nests without end), and a ``pattern`` only in a shape whose every match is
short, however long the text (:func:`_safe_pattern`).
A type outside that profile is left out, with a warning in the log; the others stay.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jsonschema

from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.scheme_document import SchemeDocument

logger = logging.getLogger(__name__)
LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Field:
    """One field of a document type, addressed by its generic path (no array positions)."""

    path: str
    kind: str
    sensitivity: str
    label: dict[str, str]
    help: dict[str, str]
    # Words in both languages for each coded value (an enum), so that no code reaches people as it is stored.
    values: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def words(self, value: Any, language: str) -> str | None:
        """The words for a coded ``value`` in ``language``, or ``None`` when it has none."""
        return self.values[value][language] if isinstance(value, str) and value in self.values else None


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

    @cached_property
    def _validator(self) -> jsonschema.protocols.Validator:
        # Built once per type of one scheme version (the catalogue is built once per version).
        return jsonschema.Draft202012Validator(
            self.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )

    def validate(self, data: Any) -> None:
        """Refuse data that does not match the schema, naming the place that is wrong."""
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(data))
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
                {
                    "path": f.path,
                    "kind": f.kind,
                    "sensitivity": f.sensitivity,
                    "label": f.label,
                    "help": f.help,
                    **({"values": f.values} if f.values else {}),
                }
                for f in self.fields
            ],
        }


# What a catalogue schema may use: enough to describe a document, nothing that refers elsewhere.
KEYWORDS = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "format", "pattern",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems",
        "maxItems", "title", "description",
    }
)  # fmt: skip
MAX_DEPTH = 16  # the catalogue's deepest schema nests 4 levels
MAX_NODES = 2_000
MAX_PATTERN = 200  # characters
# The most steps one match attempt may take: about 1 ms (bench/catalogue_patterns.py); the catalogue's
# costliest pattern, ^https://[^ ]{1,200}$, takes at most 41 600.
MAX_STEPS = 100_000
# One piece of a pattern: one character, a class or a class escape, and at most one bounded count.
_PIECE = re.compile(
    r"""
    (?: \[ (?!\^\]) \^? (?: [^\\\[\]] | \\[dDwWsS] | \\[^0-9A-Za-z] )+ \]
      | \\[dDwWsS] | \\[^0-9A-Za-z]
      | [^\\\[\](){}|*+?^$] )
    (?: (?P<optional>\?) | \{ (?P<low>[0-9]{1,4}) (?: , (?P<high>[0-9]{1,4}) )? \} )?
    """,
    re.VERBOSE,
)


def _safe_pattern(pattern: Any) -> bool:
    """A regular expression whose every match attempt is short, however long the text.

    Python's ``re`` backtracks: repeats in a row multiply the ways it tries (``\\w{0,99}`` twelve times
    takes a minute on 24 characters, ``a?a?…aa…`` doubles per character), and a search that may start
    anywhere tries every start. So a pattern starts with ``^`` (``re`` then tries the start only), is a
    row of characters and classes without groups, ``|`` or backreferences, each repeated at most by
    ``?`` or ``{m,n}``, never ``*`` or ``+``. One attempt then tries at most every way of splitting the
    text over the repeats (the product of ``n - m + 1``), each reading at most the longest text the
    pattern matches (the sum of the ``n``): their product is at most :data:`MAX_STEPS`, whatever the text.
    """
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN or not pattern.startswith("^"):
        return False
    position, width, choices = 1, 0, 1
    while (piece := _PIECE.match(pattern, position)) is not None:
        if piece["optional"]:
            low, high = 0, 1
        elif piece["low"] is None:
            low = high = 1
        else:
            low = int(piece["low"])
            high = int(piece["high"] or low)
        width, choices = width + max(high, 1), choices * max(high - low + 1, 1)
        if width * choices > MAX_STEPS:
            return False
        position = piece.end()
    if pattern[position:] not in ("", "$"):
        return False
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def within_profile(schema: Any) -> bool:
    """Whether ``schema`` keeps to :data:`KEYWORDS`, :data:`MAX_DEPTH` and safe patterns (iterative: any depth)."""
    pending, seen = [(schema, 0)], 0
    while pending:
        node, depth = pending.pop()
        seen += 1
        if not isinstance(node, dict) or depth > MAX_DEPTH or seen > MAX_NODES or not set(node) <= KEYWORDS:
            return False
        if "pattern" in node and not _safe_pattern(node["pattern"]):
            return False
        properties = node.get("properties", {})
        if not isinstance(properties, dict):
            return False
        children = list(properties.values())
        children += [node[k] for k in ("items", "additionalProperties") if isinstance(node.get(k), dict)]
        pending.extend((child, depth + 1) for child in children)
    return True


def _text(value: Any) -> dict[str, str]:
    """Words in Dutch and English; an entry without both cannot be shown on every page."""
    if not isinstance(value, dict) or not all(isinstance(value.get(language), str) for language in LANGUAGES):
        raise TypeError("words in Dutch and English are needed")
    return {language: value[language] for language in LANGUAGES}


def _values(value: Any) -> dict[str, dict[str, str]]:
    """Words for coded values, each in Dutch and English."""
    if not isinstance(value, dict):
        raise TypeError("the words for coded values must be an object")
    return {str(code): _text(words) for code, words in value.items()}


def from_entry(entry: dict[str, Any]) -> DocumentType | None:
    """A document type from one entry of a verified scheme document; ``None`` for an entry it cannot use.

    The operator signed the entry, so it is trusted, but not assumed well formed: a bad entry
    leaves out that type, never the whole catalogue.
    """
    try:
        fields = tuple(
            Field(
                str(f["path"]),
                str(f["kind"]),
                str(f["sensitivity"]),
                _text(f["label"]),
                _text(f["help"]),
                _values(f.get("values", {})),
            )
            for f in entry["fields"]
        )
        schema, version = entry["schema"], entry["version"]
        if isinstance(version, bool) or not isinstance(version, int) or not within_profile(schema):
            raise TypeError("a schema outside the profile")
        jsonschema.Draft202012Validator.check_schema(schema)
        return DocumentType(
            id=str(entry["id"]),
            vct=str(entry["vct"]),
            version=version,
            name=_text(entry["name"]),
            description=_text(entry.get("description", {"nl": "", "en": ""})),
            schema=schema,
            fields=fields,
        )
    except (KeyError, TypeError, jsonschema.exceptions.SchemaError) as exc:
        logger.warning("catalogue entry %.40r left out: %s", entry.get("id") if isinstance(entry, dict) else None, exc)
        return None


@dataclass(frozen=True)
class Catalogue:
    """The document types of one scheme version: the newest version of each by id, and the versions before it.

    New data is issued and checked with the newest version; a copy of an older version that the scheme
    still lists keeps its meaning (its fields and their words) through :meth:`by_vct`.
    """

    by_id: dict[str, DocumentType]
    older: tuple[DocumentType, ...] = ()

    @classmethod
    def listing(cls, types: list[DocumentType]) -> Catalogue:
        """The catalogue of every listed version in ``types``; an id whose versions cannot be told apart
        (a version or a ``vct`` listed twice) is left out, since which one is meant cannot be told."""
        versions, vcts = Counter((t.id, t.version) for t in types), Counter(t.vct for t in types)
        unclear = {t.id for t in types if versions[t.id, t.version] > 1 or vcts[t.vct] > 1}
        if unclear:
            logger.warning("catalogue versions appear twice and are left out: %s", ", ".join(sorted(unclear))[:200])
        kept = [t for t in types if t.id not in unclear]
        newest: dict[str, DocumentType] = {}
        for document_type in kept:
            if document_type.id not in newest or document_type.version > newest[document_type.id].version:
                newest[document_type.id] = document_type
        return cls(newest, tuple(t for t in kept if newest[t.id] is not t))

    def get(self, type_id: str) -> DocumentType | None:
        """The newest version of type ``type_id``, or ``None``."""
        return self.by_id.get(type_id)

    def document_type(self, type_id: str) -> DocumentType:
        """The newest version of type ``type_id``; an unknown id is bad input."""
        found = self.by_id.get(type_id)
        if found is None:
            raise InvalidInput("bad_claims", f"There is no document type {type_id!r} in the catalogue.")
        return found

    def by_vct(self, vct: str | None) -> DocumentType | None:
        """The listed version whose credentials carry ``vct`` (the newest or an older one), or ``None``."""
        return next((t for t in (*self.by_id.values(), *self.older) if t.vct == vct), None)


_catalogues: dict[tuple[str, int], Catalogue] = {}
_catalogues_lock = threading.Lock()
KEEP_VERSIONS = 4  # the version in force and a few before it, for requests that began under those


def of(scheme: SchemeDocument) -> Catalogue:
    """The catalogue of ``scheme``, built once per scheme version."""
    key = (scheme.iss, scheme.version)
    with _catalogues_lock:
        found = _catalogues.get(key)
        if found is None:
            types = [t for t in (from_entry(entry) for entry in scheme.document_types) if t is not None]
            found = _catalogues[key] = Catalogue.listing(types)
            for old in sorted(_catalogues, key=lambda k: k[1])[:-KEEP_VERSIONS]:
                del _catalogues[old]
        return found


def forget() -> None:
    """Drop every catalogue built so far: for tests, whose databases each number their scheme documents from 1."""
    with _catalogues_lock:
        _catalogues.clear()
