"""The operator publishes a new version of a document type: checked, stored, in the audit trail, published.

A new version never replaces the one before in the scheme document: both are listed, so a copy of
the older version keeps verifying and showing its own fields with their own words, while holders
issue new copies with the newest version (``blauweknop.document_types.Catalogue``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from blauweknop.db import lock_name, write_transaction
from blauweknop.document_types import DocumentType
from blauweknop.scheme import audit, catalogue, publication
from blauweknop.scheme.models import PublishedDocumentType

MAX_DEFINITION = 64 * 1024  # bytes of JSON; the largest built-in type (vorderingen) takes about 10 KB


class PublishRefused(Exception):
    """The version cannot be published; ``code`` says why, ``message`` says it in words for the operator.

    Codes: too_big, invalid (the definition breaks a catalogue rule), unknown_type (an id the catalogue
    does not have), not_higher (the version is not above the newest), wrong_vct.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Version:
    """One listed version of a document type, with who published it and when (``None`` for a built-in file)."""

    document_type: DocumentType
    published_at: datetime | None
    published_by: str


def listed() -> list[Version]:
    """Every version the scheme document lists, by type and version, as the catalogue page shows them."""
    rows = {(row.type_id, row.version): row for row in PublishedDocumentType.objects.all()}
    every = catalogue.every_version(row.definition for row in rows.values())
    found = ((t, rows.get((t.id, t.version))) for t in every)
    return [Version(t, row.published_at if row else None, row.published_by if row else "") for t, row in found]


def checked(definition: Any) -> DocumentType:
    """The new version in ``definition``, checked as the built-in files are and against the versions listed now.

    Raises :class:`PublishRefused`. :func:`publish_version` checks again, in its transaction.
    """
    try:
        size = len(json.dumps(definition, ensure_ascii=False).encode())
    except (TypeError, ValueError, RecursionError):
        raise PublishRefused("invalid", _("Dit is geen JSON.")) from None
    if size > MAX_DEFINITION:
        message = _("De definitie is te groot. Hoogstens %(max)d kB mag.") % {"max": MAX_DEFINITION // 1024}
        raise PublishRefused("too_big", message)
    try:
        document_type = catalogue.check(definition)
    except catalogue.DefinitionRefused as exc:
        raise PublishRefused("invalid", str(exc)) from None
    published = PublishedDocumentType.objects.values_list("definition", flat=True)
    versions = [t for t in catalogue.every_version(published) if t.id == document_type.id]
    if not versions:
        message = _("De documentsoort %(id)s bestaat niet. Een nieuwe versie houdt de id van een bestaande soort.")
        raise PublishRefused("unknown_type", message % {"id": document_type.id})
    newest = max(versions, key=lambda t: t.version)
    if document_type.version <= newest.version:
        message = _("Versie %(version)d kan niet. De nieuwste versie van %(id)s is %(newest)d. Kies een hoger nummer.")
        raise PublishRefused(
            "not_higher", message % {"version": document_type.version, "id": newest.id, "newest": newest.version}
        )
    vct = f"{newest.vct.rpartition('/')[0]}/{document_type.version}"
    if document_type.vct != vct:
        message = _("De vct moet %(vct)s zijn: die van de vorige versie, met het nieuwe versienummer aan het eind.")
        raise PublishRefused("wrong_vct", message % {"vct": vct})
    return document_type


def publish_version(definition: dict, *, actor: str) -> PublishedDocumentType:
    """Publish a new version of a document type: stored, in the audit trail and in a new scheme document, at once.

    Two operators publishing at once take turns; the second then finds the first's version and is
    refused (``not_higher``) if it is not higher still.
    """
    with write_transaction():
        if isinstance(definition, dict) and isinstance(definition.get("id"), str):
            lock_name(f"catalogus/{definition['id'][:60]}")
        document_type = checked(definition)
        stored = PublishedDocumentType.objects.create(
            type_id=document_type.id,
            version=document_type.version,
            definition=document_type.publish(),
            published_by=actor,
        )
        audit.record(
            actor=actor,
            action="catalogue_published",
            subject=f"catalogus/{document_type.id}",
            details={"version": document_type.version, "vct": document_type.vct},
        )
        publication.publish()
    return stored
