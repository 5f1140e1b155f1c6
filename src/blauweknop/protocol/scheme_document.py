"""The scheme document (stelseldocument): the signed list of who takes part, and in which role.

Signed by the scheme operator as a compact JWS (``typ: stelseldocument+jwt``). Every party checks
every other party against the current document, so a suspended or revoked organisation is refused
everywhere as soon as the document is refreshed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from blauweknop.protocol import jws
from blauweknop.protocol.errors import InvalidInput, ProtocolError, VerificationError
from blauweknop.protocol.identifiers import is_valid_oin
from blauweknop.protocol.jwk import KeyResolver, KeySet, SigningKey, VerifyingKey, public_jwk
from blauweknop.protocol.validity import DEFAULT_LEEWAY, check_validity, now_or, required_date

TYP = "stelseldocument+jwt"
HOLDER, REQUESTER, APP_MANAGER = "holder", "requester", "app_manager"
ORGANISATION_ROLES = frozenset({HOLDER, REQUESTER})
CERTIFIED, SUSPENDED, REVOKED = "certified", "suspended", "revoked"
# What kind of organisation a participant is (``info.soort``): the public figures are grouped by it.
KINDS = ("gemeente", "rijk", "waterschap", "bank", "woningcorporatie", "schuldhulp", "overig")
OTHER_KIND = "overig"
CERTIFICATION_STATUSES = frozenset({CERTIFIED, SUSPENDED, REVOKED})
DEFAULT_VALID_FOR = 7 * 86400
# The audit claim: how many entries the operator's audit trail had when it signed, and the digest of the newest.
AUDIT_HEAD_LENGTH = 64  # a SHA-256 in hex
MAX_AUDIT_COUNT = 2**53  # the largest whole number every JSON reader keeps exactly
# Revoked key ids stay listed for good (a revoked key must never verify again); this caps what a reader takes.
MAX_REVOKED_KIDS = 1000
MAX_KID_LENGTH = 200


@dataclass(frozen=True)
class Participant:
    """One organisation (or app manager) as the scheme document describes it."""

    oin: str
    name: str
    roles: frozenset[str]
    certification: str
    certified_since: str | None
    endpoints: dict[str, str]
    keys: KeySet = field(repr=False)
    document_types: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)
    # The key it signs with now; older keys still in ``keys`` verify what they signed until it expires.
    signing_kid: str | None = None
    # The RFC 7638 thumbprints of its revoked keys: how a revoked key is known where no kid is named (a PDF's signer).
    revoked_thumbprints: frozenset[str] = frozenset()

    @property
    def is_certified(self) -> bool:
        """Only a certified participant may act; suspended and revoked ones may not."""
        return self.certification == CERTIFIED

    @property
    def revoked_kids(self) -> frozenset[str]:
        """The key ids the operator revoked for this participant: whatever names one fails with ``key_revoked``."""
        return self.keys.revoked


def issuer_slug(issuer_url: str) -> str:
    """The last path segment of a holder's issuer URL: the short name it is served and known under."""
    return urlsplit(issuer_url).path.rstrip("/").rpartition("/")[2]


def participant_entry(
    *,
    oin: str,
    name: str,
    roles: Iterable[str],
    jwks: Mapping[str, Any],
    endpoints: Mapping[str, str] | None = None,
    certification: str = CERTIFIED,
    certified_since: str | None = None,
    document_types: Iterable[str] = (),
    info: Mapping[str, Any] | None = None,
    signing_kid: str | None = None,
    revoked_kids: Iterable[str] = (),
    revoked_thumbprints: Iterable[str] = (),
) -> dict[str, Any]:
    """One entry for the ``organisations`` or ``app_managers`` list, checked before it is signed.

    ``document_types`` are the catalogue ids a holder issues; ``info`` is what portals show about
    the participant (a description and where to get help), in Dutch and English. ``signing_kid`` is
    the key among ``jwks`` it signs with now; ``revoked_kids`` the keys it must never be trusted with again, and
    ``revoked_thumbprints`` the same keys by their RFC 7638 thumbprints (a kid need not be one).
    """
    entry = {
        "oin": oin,
        "name": name,
        "roles": sorted(roles),
        "certification": {"status": certification, "since": certified_since},
        "endpoints": dict(endpoints or {}),
        "jwks": {"keys": [public_jwk(k) for k in jwks.get("keys", [])]},
        "document_types": sorted(document_types),
        "info": dict(info or {}),
        "signing_kid": signing_kid,
        "revoked_kids": sorted(revoked_kids),
        "revoked_thumbprints": sorted(revoked_thumbprints),
    }
    try:
        _participant(entry, ORGANISATION_ROLES | {APP_MANAGER})
    except VerificationError as exc:
        raise InvalidInput("bad_claims", exc.message) from exc
    return entry


def _participant(entry: Any, allowed_roles: frozenset[str]) -> Participant:
    if not isinstance(entry, Mapping):
        raise VerificationError("malformed", "A participant entry is not an object.")
    oin, name, roles = entry.get("oin"), entry.get("name"), entry.get("roles")
    if not is_valid_oin(oin):
        raise VerificationError("malformed", "A participant has no valid OIN (20 digits).")
    if not isinstance(name, str) or not name:
        raise VerificationError("malformed", f"Participant {oin} has no name.")
    if not isinstance(roles, list) or not all(isinstance(r, str) and r in allowed_roles for r in roles):
        raise VerificationError("malformed", f"Participant {oin} has unknown roles.")
    certification = entry.get("certification")
    status = certification.get("status") if isinstance(certification, Mapping) else None
    if not isinstance(status, str) or status not in CERTIFICATION_STATUSES:
        raise VerificationError("malformed", f"Participant {oin} has no valid certification status.")
    endpoints = entry.get("endpoints", {})
    if not isinstance(endpoints, Mapping) or not all(isinstance(v, str) for v in endpoints.values()):
        raise VerificationError("malformed", f"Participant {oin} has invalid endpoints.")
    revoked = _kids(entry.get("revoked_kids", []), f"Participant {oin}")
    # Optional: documents signed before it was added do not carry it.
    revoked_thumbprints = _kids(entry.get("revoked_thumbprints", []), f"Participant {oin}")
    try:
        keys = KeySet.from_jwks(entry.get("jwks"), revoked)
    except ProtocolError as exc:
        raise VerificationError("malformed", f"Participant {oin} has unusable keys.") from exc
    if any(key.kid is None for key in keys.keys):
        raise VerificationError("malformed", f"Every key of participant {oin} needs a 'kid'.")
    if any(key.kid in revoked for key in keys.keys) or keys.thumbprints() & revoked_thumbprints:
        raise VerificationError("malformed", f"Participant {oin} lists a revoked key among its keys.")
    signing_kid = entry.get("signing_kid")
    if signing_kid is not None and (not isinstance(signing_kid, str) or signing_kid not in {k.kid for k in keys.keys}):
        raise VerificationError("malformed", f"Participant {oin} signs with a key it does not list.")
    document_types, info = entry.get("document_types", []), entry.get("info", {})
    if not isinstance(document_types, list) or not all(isinstance(t, str) for t in document_types):
        raise VerificationError("malformed", f"Participant {oin} has an invalid list of document types.")
    if not isinstance(info, Mapping):
        raise VerificationError("malformed", f"Participant {oin} has invalid info.")
    return Participant(
        oin,
        name,
        frozenset(roles),
        certification["status"],
        certification.get("since"),
        dict(endpoints),
        keys,
        tuple(document_types),
        dict(info),
        signing_kid,
        revoked_thumbprints,
    )


def _kids(value: Any, whose: str) -> frozenset[str]:
    """A list of key ids (or thumbprints), as the document gives revoked ones."""
    if (
        not isinstance(value, list)
        or len(value) > MAX_REVOKED_KIDS
        or not all(isinstance(kid, str) and 0 < len(kid) <= MAX_KID_LENGTH for kid in value)
    ):
        raise VerificationError("malformed", f"{whose} has an invalid list of revoked keys.")
    return frozenset(value)


def build(
    *,
    iss: str,
    version: int,
    organisations: Iterable[Mapping[str, Any]],
    app_managers: Iterable[Mapping[str, Any]] = (),
    document_types: Iterable[Mapping[str, Any]] = (),
    legal_bases: Iterable[Mapping[str, Any]] = (),
    operator_revoked_kids: Iterable[str] = (),
    audit: AuditAnchor | None = None,
    now: int | None = None,
    valid_for: int = DEFAULT_VALID_FOR,
) -> dict[str, Any]:
    """The payload of a scheme document; sign it with :func:`sign`.

    ``operator_revoked_kids`` are the operator's own revoked keys: a reader that saw them listed refuses
    every later document signed with one, even when its configured trust anchor still holds that key.
    ``audit`` (optional) vouches for the operator's audit trail as it was at signing: a trail that later
    has fewer entries, or another one at that place, was cut or changed.
    """
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput("bad_claims", "The version must be a whole number of at least 1.")
    iat = now_or(now)
    extra = {} if audit is None else {"audit": {"count": audit.count, "head": audit.head}}
    return {
        "iss": iss,
        "iat": iat,
        "exp": iat + valid_for,
        "version": version,
        "organisations": list(organisations),
        "app_managers": list(app_managers),
        "document_types": list(document_types),
        "legal_bases": list(legal_bases),
        "operator_revoked_kids": sorted(operator_revoked_kids),
        **extra,
    }


@dataclass(frozen=True)
class AuditAnchor:
    """The operator's audit trail at signing: ``count`` entries, the newest with digest ``head`` (hex)."""

    count: int
    head: str


def audit_anchor(payload: Mapping[str, Any]) -> AuditAnchor | None:
    """The optional ``audit`` claim of a scheme document payload; ``None`` when absent, ``malformed`` when wrong."""
    claim = payload.get("audit")
    if claim is None:
        return None
    count = claim.get("count") if isinstance(claim, dict) else None
    head = claim.get("head") if isinstance(claim, dict) else None
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not 0 <= count <= MAX_AUDIT_COUNT
        or not isinstance(head, str)
        or len(head) != AUDIT_HEAD_LENGTH
        or not all(c in "0123456789abcdef" for c in head)
    ):
        raise VerificationError("malformed", "The scheme document's audit claim is not a count and a digest.")
    return AuditAnchor(count, head)


def sign(payload: Mapping[str, Any], key: SigningKey) -> str:
    """Sign a scheme document payload as the scheme operator."""
    return jws.sign(payload, key, TYP)


@dataclass(frozen=True)
class SchemeDocument:
    """A verified scheme document, with look-ups by OIN, key id, issuer URL and role."""

    iss: str
    version: int
    iat: int
    exp: int
    organisations: dict[str, Participant]
    app_managers: dict[str, Participant]
    document_types: list[dict[str, Any]]
    legal_bases: list[dict[str, Any]]
    operator_revoked_kids: frozenset[str] = frozenset()
    audit: AuditAnchor | None = None

    def organisation(self, oin: str) -> Participant:
        """The organisation or app manager with ``oin``."""
        found = self.organisations.get(oin) or self.app_managers.get(oin)
        if found is None:
            raise VerificationError("unknown_organisation")
        return found

    def is_certified(self, oin: str, role: str) -> bool:
        """Whether ``oin`` may act in ``role`` (holder, requester or app_manager) right now."""
        try:
            self.certified(oin, role)
        except VerificationError:
            return False
        return True

    def certified(self, oin: str, role: str) -> Participant:
        """The participant ``oin``, if it is certified for ``role``; otherwise ``not_certified``."""
        participant = self.app_managers.get(oin) if role == APP_MANAGER else self.organisations.get(oin)
        if participant is None:
            raise VerificationError("unknown_organisation")
        if not participant.is_certified or (role != APP_MANAGER and role not in participant.roles):
            raise VerificationError("not_certified", f"{participant.name} is not certified as {role}.")
        return participant

    def signing_key(self, oin: str, role: str, header: Mapping[str, Any]) -> VerifyingKey:
        """The key the JWS ``header`` names (``kid``) among ``oin``'s, if ``oin`` is certified for ``role`` now.

        Codes: ``unknown_organisation``, ``not_certified``, ``unknown_key`` (no kid, or not one of its keys),
        ``key_revoked``. A :class:`KeyResolver` binds ``oin`` to what the token or its context names.
        """
        participant = self.certified(oin, role)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise VerificationError("unknown_key", "The token does not name its key (kid).")
        return participant.keys.find(kid)

    def key(self, oin: str, kid: str) -> VerifyingKey:
        """The key ``kid`` of participant ``oin``."""
        return self.organisation(oin).keys.find(kid)

    def issuer(self, iss: str) -> Participant:
        """The organisation whose credential issuer URL is ``iss``."""
        for participant in self.organisations.values():
            if participant.endpoints.get("issuer") == iss:
                return participant
        raise VerificationError("unknown_issuer", "No organisation in the scheme issues under this address.")

    def issuer_keys(self) -> KeyResolver:
        """A key resolver that trusts exactly the certified holders, each for its own issuer URL."""

        def resolve(iss: str | None, header: Mapping[str, Any]) -> VerifyingKey:
            if iss is None:
                raise VerificationError("unknown_issuer", "The token does not say who issued it.")
            return self.signing_key(self.issuer(iss).oin, HOLDER, header)

        return resolve

    def issuer_thumbprints(self) -> frozenset[str]:
        """The thumbprints of every key of every certified holder: who may sign a certified copy."""
        return frozenset().union(
            *(p.keys.thumbprints() for p in self.organisations.values() if self.is_certified(p.oin, HOLDER))
        )

    def revoked_thumbprints(self) -> frozenset[str]:
        """The thumbprints of every participant's revoked keys: a PDF signed with one fails with ``key_revoked``."""
        participants = (*self.organisations.values(), *self.app_managers.values())
        return frozenset().union(*(p.revoked_thumbprints for p in participants))

    def document_type(self, vct: str) -> dict[str, Any] | None:
        """The catalogue entry for credential type ``vct``, if the scheme knows it."""
        return next((t for t in self.document_types if t.get("vct") == vct), None)


def verify(
    token: str,
    operator_keys: KeyResolver | VerifyingKey,
    *,
    now: int | None = None,
    min_version: int | None = None,
    leeway: int = DEFAULT_LEEWAY,
) -> SchemeDocument:
    """Verify a scheme document against the operator's keys; refuse one older than ``min_version``.

    Give the operator's keys as a :class:`KeySet` whose ``revoked`` holds the operator kids an earlier
    document listed as revoked: a document signed with one fails with ``key_revoked``. So does a document
    that lists its own signing key as revoked.
    """
    now = now_or(now)
    verified = jws.verify(token, operator_keys, TYP)
    payload = verified.payload
    check_validity(payload, now, leeway=leeway, require_exp=True)
    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise VerificationError("malformed", "The scheme document has no valid version.")
    if min_version is not None and version < min_version:
        raise VerificationError("scheme_rollback")
    lists = {}
    for name in ("organisations", "app_managers", "document_types", "legal_bases"):
        value = payload.get(name, [])
        if not isinstance(value, list):
            raise VerificationError("malformed", f"The scheme document's {name!r} is not a list.")
        lists[name] = value
    organisations = [_participant(e, ORGANISATION_ROLES) for e in lists["organisations"]]
    app_managers = [_participant(e, frozenset({APP_MANAGER})) for e in lists["app_managers"]]
    operator_revoked = _kids(payload.get("operator_revoked_kids", []), "The scheme operator")
    if verified.key.kid in operator_revoked:
        raise VerificationError("key_revoked", "The scheme document is signed with a key it says was revoked.")
    oins = [p.oin for p in organisations + app_managers]
    if len(set(oins)) != len(oins):
        raise VerificationError("malformed", "An OIN appears more than once in the scheme document.")
    iat, exp = required_date(payload, "iat"), required_date(payload, "exp")
    return SchemeDocument(
        iss=str(payload.get("iss", "")),
        version=version,
        iat=iat,
        exp=exp,
        organisations={p.oin: p for p in organisations},
        app_managers={p.oin: p for p in app_managers},
        document_types=[t for t in lists["document_types"] if isinstance(t, dict)],
        legal_bases=[b for b in lists["legal_bases"] if isinstance(b, dict)],
        operator_revoked_kids=operator_revoked,
        audit=audit_anchor(payload),
    )
