"""DCQL, the Digital Credentials Query Language (OpenID for Verifiable Presentations 1.0 §6), as we use it.

A requester asks for document types of the catalogue, field by field. Our model of a query:

- one Credential Query (§6.1) per document type: ``format`` ``dc+sd-jwt`` (the only format we
  support), ``meta.vct_values`` = [the catalogue ``vct``] (one type per query), ``claims``, and
  ``multiple`` (true: "from every holder", e.g. all debts);
- required and optional fields through ``claim_sets`` (§6.1, and §6's rules for selecting claims):
  ``[[all claim ids], [required ids]]``; the wallet returns the first option it can, so the citizen
  may leave out the optional fields;
- optional document types through ``credential_sets`` (§6.2, and §6's rules for selecting
  credentials): one set ``{options: [[required query ids]], required: true}`` and a set
  ``{options: [[id]], required: false}`` per optional query.

:func:`parse` accepts valid DCQL in exactly that shape, and refuses everything else with
``invalid_request``: broken DCQL, and DCQL we do not support (other formats, alternatives in
``claim_sets`` or ``credential_sets``, ``values`` matching, ``trusted_authorities``, a credential
without ``claims``, an array element by position).

Paths. The catalogue names a field by a dotted path without list positions: ``vorderingen.kenmerk``,
where the catalogue's JSON Schema says ``vorderingen`` is a list. On the wire a claims path pointer
(§7) is an array in which ``null`` selects every element of an array: ``["vorderingen", null,
"kenmerk"]``. Going from the wire to the catalogue drops the ``null`` (and needs nothing else); going
to the wire needs to know which dotted prefixes hold a list. That knowledge comes from the catalogue,
which this core does not read: each :class:`CredentialQuery` carries it as ``arrays`` (the dotted
paths whose value is a list; :func:`array_paths` finds them in a JSON Schema; :func:`parse` finds them
from the ``null`` positions). Whoever checks a query against the catalogue compares those
(``openid4vp.verify_request`` does).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blauweknop.protocol.errors import InvalidInput, VerificationError

FORMAT = "dc+sd-jwt"
MAX_CREDENTIALS = 20
MAX_CLAIMS = 100
MAX_PATH_SEGMENTS = 16
MAX_SEGMENT_LENGTH = 100
MAX_ID_LENGTH = 64
MAX_VCT_LENGTH = 500
_ID = re.compile(r"[A-Za-z0-9_-]+")  # §6.1 and §6.3: alphanumeric, underscore or hyphen
_CREDENTIAL_KEYS = frozenset(
    {"id", "format", "multiple", "meta", "claims", "claim_sets", "require_cryptographic_holder_binding"}
)
_CLAIM_KEYS = frozenset({"id", "path"})
WirePath = list[str | None]


@dataclass(frozen=True)
class ClaimQuery:
    """One asked field: ``path`` is the catalogue's dotted path, e.g. ``vorderingen.kenmerk``."""

    id: str
    path: str
    required: bool


@dataclass(frozen=True)
class CredentialQuery:
    """One asked document type (by ``vct``), with its fields.

    ``arrays`` are the dotted paths that hold a list in this type (see the module docstring); only
    those that lie on an asked path are kept, so a query read back from the wire equals the one sent.
    """

    id: str
    vct: str
    claims: tuple[ClaimQuery, ...]
    multiple: bool
    required: bool
    arrays: frozenset[str] = field(default=frozenset())

    def __post_init__(self) -> None:
        _check_credential(self)
        on_paths = frozenset(a for a in self.arrays if any(_under(c.path, a) for c in self.claims))
        object.__setattr__(self, "arrays", on_paths)

    def paths(self, *, required_only: bool = False) -> list[str]:
        """The catalogue paths asked, in query order; with ``required_only`` only the required ones."""
        return [c.path for c in self.claims if c.required or not required_only]

    def wire_path(self, path: str) -> WirePath:
        """The claims path pointer (§7) of the catalogue ``path`` in this type."""
        return wire_path(path, self.arrays)

    def to_json(self) -> dict[str, Any]:
        """The Credential Query (§6.1) as it goes on the wire."""
        value: dict[str, Any] = {
            "id": self.id,
            "format": FORMAT,
            "meta": {"vct_values": [self.vct]},
            "claims": [{"id": c.id, "path": self.wire_path(c.path)} for c in self.claims],
        }
        if self.multiple:
            value["multiple"] = True
        required = [c.id for c in self.claims if c.required]
        if len(required) < len(self.claims):
            value["claim_sets"] = [[c.id for c in self.claims], required]
        return value


@dataclass(frozen=True)
class Query:
    """A DCQL query: the document types asked, required or optional."""

    credentials: tuple[CredentialQuery, ...]

    def __post_init__(self) -> None:
        _check_query(self)

    def credential(self, query_id: str) -> CredentialQuery | None:
        """The credential query with ``query_id``, if there is one."""
        return next((c for c in self.credentials if c.id == query_id), None)

    def to_json(self) -> dict[str, Any]:
        """The ``dcql_query`` parameter (§5.1, §6)."""
        value: dict[str, Any] = {"credentials": [c.to_json() for c in self.credentials]}
        optional = [c.id for c in self.credentials if not c.required]
        if optional:
            required = [c.id for c in self.credentials if c.required]
            value["credential_sets"] = [
                {"options": [required], "required": True},
                *({"options": [[query_id]], "required": False} for query_id in optional),
            ]
        return value


# ---------------------------------------------------------------------------------------------
# Paths


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def wire_path(path: str, arrays: Collection[str]) -> WirePath:
    """The claims path pointer of a catalogue ``path``: a ``null`` after every prefix in ``arrays``."""
    segments = path.split(".")
    pointer: WirePath = []
    for i, segment in enumerate(segments):
        pointer.append(segment)
        if ".".join(segments[: i + 1]) in arrays:
            pointer.append(None)
    return pointer


def catalogue_path(pointer: Sequence[str | None]) -> str:
    """The catalogue path of a claims path pointer that uses only names and ``null``."""
    return ".".join(s for s in pointer if s is not None)


def array_paths(schema: Any) -> frozenset[str]:
    """The dotted paths whose value is a list in a catalogue JSON Schema (list items are implicit).

    An array of arrays cannot be told apart in a dotted path; the catalogue has none.
    """
    found: set[str] = set()

    def walk(node: Any, path: str, depth: int) -> None:
        if not isinstance(node, Mapping) or depth > MAX_PATH_SEGMENTS:
            return
        if node.get("type") == "array":
            found.add(path)
            walk(node.get("items"), path, depth + 1)
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            for name, child in properties.items():
                walk(child, f"{path}.{name}" if path else name, depth + 1)

    walk(schema, "", 0)
    found.discard("")
    return frozenset(found)


# ---------------------------------------------------------------------------------------------
# Checks shared by building (InvalidInput) and parsing (VerificationError)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID_LENGTH and _ID.fullmatch(value) is not None


def _check_path(path: Any) -> None:
    segments = path.split(".") if isinstance(path, str) else None
    if (
        not segments
        or len(segments) > MAX_PATH_SEGMENTS
        or not all(s and len(s) <= MAX_SEGMENT_LENGTH and s.isprintable() and not s.isdigit() for s in segments)
    ):
        raise InvalidInput("bad_path", f"{path!r} is not a field path such as 'vorderingen.kenmerk'.")


def _check_credential(query: CredentialQuery) -> None:
    if not _is_id(query.id):
        raise InvalidInput("bad_claims", "A credential query id has 1 to 64 letters, digits, '_' or '-' (§6.1).")
    if not isinstance(query.vct, str) or not query.vct or len(query.vct) > MAX_VCT_LENGTH:
        raise InvalidInput("bad_claims", "A credential query asks for one document type (vct).")
    if not isinstance(query.claims, tuple) or not 0 < len(query.claims) <= MAX_CLAIMS:
        raise InvalidInput("bad_claims", f"A credential query asks for 1 to {MAX_CLAIMS} fields.")
    if not isinstance(query.multiple, bool) or not isinstance(query.required, bool):
        raise InvalidInput("bad_claims", "'multiple' and 'required' are true or false.")
    ids, paths = set(), set()
    for claim in query.claims:
        if not isinstance(claim, ClaimQuery) or not _is_id(claim.id) or not isinstance(claim.required, bool):
            raise InvalidInput("bad_claims", "A claim query has an id of letters, digits, '_' or '-' (§6.3).")
        _check_path(claim.path)
        if claim.id in ids:
            raise InvalidInput("bad_claims", f"The claim id {claim.id!r} appears twice in one credential query (§6.3).")
        if claim.path in paths:
            raise InvalidInput("bad_claims", f"The field {claim.path!r} is asked twice in one credential query (§6.3).")
        ids.add(claim.id)
        paths.add(claim.path)
    if not any(c.required for c in query.claims):
        # claim_sets cannot offer "nothing at all" as an option: ask for the type as optional instead.
        raise InvalidInput("bad_claims", "A credential query needs at least one required field.")
    if isinstance(query.arrays, str) or not all(isinstance(a, str) for a in query.arrays):
        raise InvalidInput("bad_claims", "The list paths of a credential query are dotted paths.")


def _check_query(query: Query) -> None:
    credentials = query.credentials
    if not isinstance(credentials, tuple) or not 0 < len(credentials) <= MAX_CREDENTIALS:
        raise InvalidInput("bad_claims", f"A query asks for 1 to {MAX_CREDENTIALS} document types (§6).")
    if not all(isinstance(c, CredentialQuery) for c in credentials):
        raise InvalidInput("bad_claims", "A query holds credential queries.")
    ids = [c.id for c in credentials]
    if len(set(ids)) != len(ids):
        raise InvalidInput("bad_claims", "A credential query id appears twice (§6.1).")
    if not any(c.required for c in credentials):
        raise InvalidInput("bad_claims", "A query needs at least one required document type.")


# ---------------------------------------------------------------------------------------------
# Parsing


def _refuse(message: str) -> VerificationError:
    return VerificationError("invalid_request", message)


def _list(value: Any, what: str, cap: int) -> list[Any]:
    if not isinstance(value, list) or not 0 < len(value) <= cap:
        raise _refuse(f"{what} must be a non-empty array of at most {cap} elements.")
    return value


def _pointer(value: Any) -> tuple[str, frozenset[str]]:
    """The catalogue path of a claims path pointer (§7), and the prefixes it marks as lists."""
    pointer = _list(value, "A claim's path", 2 * MAX_PATH_SEGMENTS)
    arrays: set[str] = set()
    names: list[str] = []
    for segment in pointer:
        if isinstance(segment, str):
            if "." in segment:  # a name with a dot is one claim, not a nested one: no catalogue field
                raise _refuse("A claim name in a path has no dot: the catalogue nests fields instead.")
            names.append(segment)
        elif segment is None:
            if not names or ".".join(names) in arrays:
                raise _refuse("A claim's path starts with null or has null twice in a row: not a catalogue field.")
            arrays.add(".".join(names))
        elif isinstance(segment, int) and not isinstance(segment, bool) and segment >= 0:
            raise _refuse("Asking for one array element by its position is not supported; use null (§7).")
        else:
            raise _refuse("A claim's path holds only strings, null and non-negative integers (§7).")
    path = ".".join(names)
    try:
        _check_path(path)
    except InvalidInput as exc:
        raise _refuse(exc.message) from exc
    return path, frozenset(arrays)


def _claims(entry: Mapping[str, Any]) -> tuple[list[tuple[str, str]], frozenset[str]]:
    if "claims" not in entry:
        raise _refuse("A credential query without 'claims' asks for everything; that is not supported.")
    claims: list[tuple[str, str]] = []
    arrays: set[str] = set()
    for claim in _list(entry["claims"], "'claims'", MAX_CLAIMS):
        if not isinstance(claim, Mapping):
            raise _refuse("A claim query is a JSON object (§6.3).")
        if "values" in claim:
            raise _refuse("Matching claim values ('values', §6.3) is not supported.")
        unknown = sorted(set(claim) - _CLAIM_KEYS)
        if unknown:
            raise _refuse(f"A claim query has members that are not supported: {', '.join(unknown)}.")
        if not _is_id(claim.get("id")):
            raise _refuse("Every claim query needs an id of letters, digits, '_' or '-' (§6.3).")
        path, marked = _pointer(claim.get("path"))
        claims.append((claim["id"], path))
        arrays |= marked
    # A list is a list in every path through it: ["vorderingen", "kenmerk"] beside ["vorderingen", null,
    # "schuldeiser"] would select nothing (§7), so the citizen would be shown a field that is never sent.
    pointers = [claim["path"] for claim in entry["claims"]]
    if any(wire_path(path, arrays) != pointer for (_, path), pointer in zip(claims, pointers, strict=True)):
        raise _refuse("A claim path passes a list without null where another path marks it as a list (§7).")
    return claims, frozenset(arrays)


def _required_ids(entry: Mapping[str, Any], ids: list[str]) -> set[str]:
    """The required claim ids of a credential query: all, or the second option of ``claim_sets``."""
    if "claim_sets" not in entry:
        return set(ids)
    options = _list(entry["claim_sets"], "'claim_sets'", 2)
    for option in options:
        for claim_id in _list(option, "An option of 'claim_sets'", MAX_CLAIMS):
            if claim_id not in ids:
                raise _refuse(f"'claim_sets' names a claim id that is not in 'claims': {claim_id!r} (§6.1).")
    if sorted(options[0]) != sorted(ids) or len(set(options[-1])) != len(options[-1]):
        raise _refuse("Only 'claim_sets' of the form [[all claim ids], [required claim ids]] are supported.")
    return set(options[-1])


def _credential(entry: Any, required: bool) -> CredentialQuery:
    if not isinstance(entry, Mapping):
        raise _refuse("A credential query is a JSON object (§6.1).")
    if "trusted_authorities" in entry:
        raise _refuse("'trusted_authorities' is not supported: the scheme document says whom to trust.")
    unknown = sorted(set(entry) - _CREDENTIAL_KEYS)
    if unknown:
        raise _refuse(f"A credential query has members that are not supported: {', '.join(unknown)}.")
    if not _is_id(entry.get("id")):
        raise _refuse("Every credential query needs an id of letters, digits, '_' or '-' (§6.1).")
    if entry.get("format") != FORMAT:
        raise _refuse(f"Only the format {FORMAT!r} (SD-JWT VC) is supported.")
    if entry.get("require_cryptographic_holder_binding", True) is not True:
        raise _refuse("Presentations without holder binding are not supported.")
    multiple = entry.get("multiple", False)
    if not isinstance(multiple, bool):
        raise _refuse("'multiple' is true or false (§6.1).")
    meta = entry.get("meta")
    vcts = meta.get("vct_values") if isinstance(meta, Mapping) else None
    if not isinstance(vcts, list) or not vcts or not all(isinstance(v, str) and v for v in vcts):
        raise _refuse("'meta.vct_values' must be a non-empty array of strings (Appendix B.3).")
    if len(vcts) != 1:
        raise _refuse("A credential query for more than one type (vct) is not supported.")
    claims, arrays = _claims(entry)
    required_ids = _required_ids(entry, [claim_id for claim_id, _ in claims])
    try:
        return CredentialQuery(
            entry["id"],
            vcts[0],
            tuple(ClaimQuery(claim_id, path, claim_id in required_ids) for claim_id, path in claims),
            multiple,
            required,
            arrays,
        )
    except InvalidInput as exc:
        raise _refuse(exc.message) from exc


def _optional_ids(value: Any, ids: list[str]) -> set[str]:
    """The optional credential query ids that ``credential_sets`` (§6.2) names, in our shape only."""
    if value is None:
        return set()
    required: list[str] = []
    optional: list[str] = []
    for entry in _list(value, "'credential_sets'", MAX_CREDENTIALS + 1):
        if not isinstance(entry, Mapping) or set(entry) - {"options", "required"}:
            raise _refuse("A credential set is an object with 'options' and maybe 'required' (§6.2).")
        is_required = entry.get("required", True)
        if not isinstance(is_required, bool):
            raise _refuse("'required' of a credential set is true or false (§6.2).")
        options = _list(entry.get("options"), "'options'", MAX_CREDENTIALS)
        for option in options:
            for query_id in _list(option, "An option of a credential set", MAX_CREDENTIALS):
                if query_id not in ids:
                    raise _refuse(f"A credential set names an unknown credential query: {query_id!r} (§6.2).")
        if len(options) != 1:
            raise _refuse("Alternative options in a credential set are not supported.")
        (required if is_required else optional).extend(options[0])
        if not is_required and len(options[0]) != 1:
            raise _refuse("An optional credential set names one credential query.")
    if sorted(required + optional) != sorted(ids):
        raise _refuse("Every credential query must be in exactly one credential set.")
    return set(optional)


def parse(value: Any) -> Query:
    """Read a ``dcql_query`` (a JSON object) in our shape; ``invalid_request`` for anything else."""
    if not isinstance(value, Mapping):
        raise _refuse("The DCQL query is not a JSON object.")
    unknown = sorted(set(value) - {"credentials", "credential_sets"})
    if unknown:
        raise _refuse(f"The DCQL query has members that are not supported: {', '.join(unknown)}.")
    entries = _list(value.get("credentials"), "'credentials'", MAX_CREDENTIALS)
    ids = [e.get("id") if isinstance(e, Mapping) else None for e in entries]
    if not all(_is_id(query_id) for query_id in ids):
        raise _refuse("Every credential query is an object with an id of letters, digits, '_' or '-' (§6.1).")
    optional = _optional_ids(value.get("credential_sets"), ids)
    credentials = tuple(
        _credential(entry, query_id not in optional) for entry, query_id in zip(entries, ids, strict=True)
    )
    try:
        return Query(credentials)
    except InvalidInput as exc:
        raise _refuse(exc.message) from exc
