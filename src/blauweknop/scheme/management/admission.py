"""What the scheme operator admits: one participant described in a JSON file, checked before anything is written.

This module only reads and checks (no database, no I/O); ``manage.py admit_participant`` stores
the result. Every problem in a file is reported at once, in a sentence that says what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug

from blauweknop.protocol import scheme_document
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.protocol.jwk import KeySet, checked_public_jwk, jwks, public_jwk
from blauweknop.scheme import catalogue

ROLES = {"holder": "is_holder", "requester": "is_requester", "app_manager": "is_app_manager"}
REQUIRED = ("oin", "name", "slug", "base_url", "roles", "jwks", "description")
OPTIONAL = ("document_types", "contact", "kind")
LANGUAGES = ("nl", "en")
# telefoon and website are published for citizens; email only reaches the operator (key notices, never published).
CONTACT_FIELDS = ("telefoon", "website", "email")
JWK_MEMBERS = ("kty", "crv", "x", "y", "kid", "alg", "use")  # what a public signing key needs, nothing else
MAX_NAME, MAX_SLUG, MAX_URL, MAX_TEXT, MAX_KID = 200, 50, 200, 500, 100
MAX_EMAIL = 254  # RFC 5321's longest path
MAX_KEYS = 5  # as many as one owner may have published (scheme.keys.MAX_PUBLISHED): a rotation needs three
MAX_DEPTH = 8  # a good file nests four levels at most: jwks, keys, a key, its members
# What no text of a participant may hold, and why, in the order they are reported. Every value is one
# line of text: PostgreSQL refuses a NUL, and no page should show the other control characters. A lone
# surrogate is no character at all (nothing can store or print it); a bidi control makes a name read
# differently from what it says ("Gemeente \u202eXYZ" shows as "Gemeente ZYX").
_BAD_CHARACTERS = (
    (re.compile(r"[\x00-\x1f\x7f-\x9f]"), "a control character (such as a NUL or a line break)"),
    (re.compile(r"[\ud800-\udfff]"), "a broken character (half of a UTF-16 surrogate pair, such as \\ud800)"),
    (re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"), "a character that turns the direction of text"),
)
# A host name of one or more labels: a bare service name on a private network is an address too.
_HOST = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*", re.ASCII)


class Refused(Exception):
    """The file describes no admissible participant; ``problems`` says why, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Admission:
    """A checked participant: the fields of its Organisation row (``oin`` is the key) and its public keys."""

    oin: str
    fields: dict[str, Any]
    jwks: dict[str, Any]


def admission(raw: Any) -> Admission:
    """Check a participant description (parsed JSON); the admission, or ``Refused`` with every problem."""
    if not isinstance(raw, Mapping):
        raise Refused(["The file must hold one JSON object that describes the participant."])
    problems = [f"The field {name!r} is missing." for name in REQUIRED if name not in raw]
    unreadable = {name: found for name in raw if (found := _unreadable(name, raw[name]))}
    problems += [problem for found in unreadable.values() for problem in found]
    problems += [
        f"The field {name!r} is unknown; check its spelling." for name in raw if name not in (*REQUIRED, *OPTIONAL)
    ]
    checks = (
        ("oin", _oin),
        ("name", _name),
        ("slug", _slug),
        ("base_url", _base_url),
        ("roles", _roles),
        ("jwks", _jwks),
        ("description", _description),
        ("contact", _contact),
        ("kind", _kind),
    )
    values: dict[str, Any] = {}
    for name, check in checks:
        if name in raw and name not in unreadable:  # the checks would trip over it, or echo it
            try:
                values[name] = check(raw[name])
            except Refused as refused:
                problems += refused.problems
    roles = values.get("roles", set())
    document_types = raw.get("document_types", []) if "document_types" not in unreadable else []
    try:
        values["document_types"] = _document_types(document_types, is_holder="holder" in roles)
    except Refused as refused:
        problems += refused.problems
    if "slug" in values and "base_url" in values:
        problems += _slug_in_base_url(values["base_url"], values["slug"])
    if problems:
        raise Refused(problems)
    fields = {
        "name": values["name"],
        "slug": values["slug"],
        "base_url": values["base_url"],
        "description": values["description"],
        "contact": values.get("contact", {}),
        "kind": values.get("kind", scheme_document.OTHER_KIND),
        "document_types": values["document_types"],
        **{flag: role in roles for role, flag in ROLES.items()},
    }
    return Admission(values["oin"], fields, values["jwks"])


def _unreadable(name: str, value: Any) -> list[str]:
    """Why field ``name`` cannot be checked or stored: nesting too deep, characters no text may hold.

    Walks ``value`` (keys included) with a stack of its own, not by recursion: ``json.loads`` takes
    hundreds of levels of nesting that a recursive walk would fail on.
    """
    found: set[int] = set()
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [f"The field {name!r} is nested more than {MAX_DEPTH} levels deep."]
        if isinstance(item, str):
            found.update(kind for kind, (pattern, _) in enumerate(_BAD_CHARACTERS) if pattern.search(item))
        elif isinstance(item, Mapping):
            stack += [(part, depth + 1) for pair in item.items() for part in pair]
        elif isinstance(item, list):
            stack += [(part, depth + 1) for part in item]
    return [f"The field {name!r} holds {_BAD_CHARACTERS[kind][1]}." for kind in sorted(found)]


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refused([f"{what} must be a text that is not empty."])
    if len(value) > limit:
        raise Refused([f"{what} is longer than {limit} characters."])
    return value.strip()


def _oin(value: Any) -> str:
    if not is_valid_oin(value):
        raise Refused(["The oin must be exactly 20 digits, as a text (in quotes)."])
    return value


def _name(value: Any) -> str:
    return _text(value, "The name", MAX_NAME)


def _slug(value: Any) -> str:
    slug = _text(value, "The slug", MAX_SLUG)
    try:
        validate_slug(slug)
    except ValidationError:
        raise Refused(["The slug may only hold letters, digits, hyphens and underscores."]) from None
    return slug


def _is_host(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return _HOST.fullmatch(host) is not None
    return True


def _web_address(value: Any, what: str) -> str:
    address = _text(value, what, MAX_URL)
    try:
        parts = urlsplit(address)
        port_ok = parts.port is None or parts.port > 0  # reading .port refuses one that is out of range
    except ValueError:
        port_ok = False
    if not (
        port_ok
        and parts.scheme in ("http", "https")
        and parts.hostname
        and _is_host(parts.hostname)
        and "@" not in parts.netloc  # no user name or password in an address everyone reads
        and not any(c.isspace() for c in address)
    ):
        raise Refused([f"{what} must be a web address that starts with https:// or http://."])
    return address


def _base_url(value: Any) -> str:
    address = _web_address(value, "The base_url")
    if "?" in address or "#" in address:
        raise Refused(["The base_url must be a plain address, without ? or #."])
    return address.rstrip("/")


def _slug_in_base_url(base_url: str, slug: str) -> list[str]:
    """A base_url that already ends in the slug: the scheme appends the slug, so every address would have it twice."""
    parts = urlsplit(base_url)
    if parts.path.rstrip("/").rpartition("/")[2] != slug:
        return []
    root = base_url[: -len(slug)].rstrip("/")
    return [
        f"The base_url ends in the slug {slug!r}: the scheme adds /{slug} itself, so every address would have it "
        f"twice ({base_url}/{slug}/api/v1). Give the address of the deployment without it: {root}."
    ]


def _roles(value: Any) -> set[str]:
    if not isinstance(value, list) or not value or not all(isinstance(role, str) for role in value):
        raise Refused([f"The roles must be a list with one or more of: {', '.join(ROLES)}."])
    if unknown := sorted(set(value) - set(ROLES)):
        raise Refused([f"Unknown roles: {', '.join(unknown)}. Use one or more of: {', '.join(ROLES)}."])
    if "app_manager" in value and len(set(value)) > 1:
        # The scheme document lists app managers apart, and an OIN may appear there only once.
        raise Refused(["An app_manager cannot have other roles too: admit those under another OIN."])
    return set(value)


def _jwks(value: Any) -> dict[str, Any]:
    """The participant's public keys: a JWK Set whose every key is a valid public key with a kid of its own."""
    keys = value.get("keys") if isinstance(value, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise Refused(['The jwks must be a JWK Set, {"keys": [...]}, with one or more public keys.'])
    if len(keys) > MAX_KEYS:
        raise Refused([f"The jwks holds more than {MAX_KEYS} keys."])
    problems = []
    for number, key in enumerate(keys, start=1):
        if isinstance(key, Mapping) and dict(key) != public_jwk(key):
            problems.append(f"Key {number} in the jwks is a private key. Send public keys only, and make a new pair.")
            continue
        try:
            checked_public_jwk(key)
            KeySet([key])  # loads as the other participants will load it
        except ProtocolError as exc:
            problems.append(f"Key {number} in the jwks is not usable: {exc.message}")
            continue
        allowed = set(JWK_MEMBERS) - ({"y"} if key["kty"] == "OKP" else set())  # an Ed25519 key is x alone
        if extra := sorted(set(key) - allowed):
            problems.append(f"Key {number} in the jwks has members that are not allowed: {', '.join(extra)[:200]}.")
            continue
        if not isinstance(key.get("kid"), str) or not key["kid"]:
            problems.append(f"Key {number} in the jwks has no 'kid'.")
        elif len(key["kid"]) > MAX_KID:
            problems.append(f"Key {number} in the jwks has a kid longer than {MAX_KID} characters.")
        if key.get("use", "sig") != "sig":
            problems.append(f"Key {number} in the jwks: 'use' must be 'sig' (a signing key), or left out.")
    if problems:
        raise Refused(problems)
    kids = [key["kid"] for key in keys]
    if len(set(kids)) != len(kids):
        raise Refused(["Two keys in the jwks have the same 'kid'; every key needs a kid of its own."])
    return jwks(keys)


def _in_languages(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or set(value) != set(LANGUAGES):
        raise Refused([f"{what} must have a text in Dutch (nl) and in English (en), and nothing else."])
    return {language: _text(value[language], f"{what} ({language})", MAX_TEXT) for language in LANGUAGES}


def _description(value: Any) -> dict[str, str]:
    return _in_languages(value, "The description")


def _contact(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise Refused(
            [
                'The contact must be an object such as {"telefoon": "088 123 4567", "website": "https://example.org/hulp"}.'
            ]
        )
    if unknown := sorted(set(value) - set(CONTACT_FIELDS)):
        raise Refused(
            [f"The contact may only have {', '.join(CONTACT_FIELDS)}; leave out: {', '.join(unknown)[:200]}."]
        )
    contact = {}
    if "telefoon" in value:
        contact["telefoon"] = _text(value["telefoon"], "The contact's telefoon", MAX_NAME)
    if "website" in value:
        contact["website"] = _web_address(value["website"], "The contact's website")
    if "email" in value:
        contact["email"] = _email(value["email"])
    return contact


def _email(value: Any) -> str:
    """An e-mail address to tell the participant of changes to its keys."""
    try:
        if not isinstance(value, str) or len(value) > MAX_EMAIL:
            raise ValidationError("too long")
        validate_email(value)
    except ValidationError:
        raise Refused([f"The contact's email must be one e-mail address (at most {MAX_EMAIL} characters)."]) from None
    return value


def _kind(value: Any) -> str:
    if value not in scheme_document.KINDS:
        raise Refused([f"The kind must be one of: {', '.join(scheme_document.KINDS)}."])
    return value


def _document_types(value: Any, *, is_holder: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(type_id, str) for type_id in value):
        raise Refused(["The document_types must be a list of document type names from the catalogue."])
    if not is_holder:
        if value:
            raise Refused(["Only a holder issues documents: leave out document_types, or add the role holder."])
        return []
    if not value:
        raise Refused(["A holder must name the document_types it issues."])
    known = catalogue.document_types()
    if unknown := sorted(set(value) - set(known)):
        raise Refused([f"Not in the catalogue: {', '.join(unknown)}. Known are: {', '.join(sorted(known))}."])
    return sorted(set(value))
