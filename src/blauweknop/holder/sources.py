"""Source adapters: how a holder finds one citizen's document of one type in its own systems.

An organisation connects its own registry by writing one class with a ``lookup`` method and
naming it in ``BLAUWEKNOP_SOURCE_ADAPTER``; nothing else changes. The built-in adapter reads a
SQL table with a BSN column, a document type column and a JSON document column.

Every document names whom it is about (``burgerservicenummer``, ``naam``, ``geboorte.datum``, as
the catalogue requires of every type), so that a receiver can match a copy to the person handing it
in; an adapter whose registry keeps these apart joins them in. A document without them is refused.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string

from blauweknop.document_types import DocumentType


class SourceAdapter(Protocol):
    """Looks up the document of one type about one citizen at one holder."""

    def lookup(self, holder_oin: str, bsn: str, document_type: DocumentType) -> dict[str, Any] | None:
        """The document as the catalogue defines it, its subject included, or ``None`` when the holder has nothing."""
        ...


class SqlTableAdapter:
    """Reads documents from a table; the column and table names come from settings."""

    def __init__(
        self,
        table: str = "holder_bronregistratie",
        *,
        holder_column: str = "holder_oin",
        bsn_column: str = "bsn",
        type_column: str = "document_type",
        data_column: str = "data",
        using: str = "default",
    ) -> None:
        connection = connections[using]
        quote = connection.ops.quote_name
        self.using = using
        # Names are quoted identifiers from configuration; values are always query parameters.
        self.query = (
            f"SELECT {quote(data_column)} FROM {quote(table)} "  # noqa: S608
            f"WHERE {quote(holder_column)} = %s AND {quote(bsn_column)} = %s AND {quote(type_column)} = %s"
        )

    def lookup(self, holder_oin: str, bsn: str, document_type: DocumentType) -> dict[str, Any] | None:
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.query, [holder_oin, bsn, document_type.id])
            row = cursor.fetchone()
        if row is None:
            return None
        # SQLite hands back JSON as text, PostgreSQL as a decoded object.
        return json.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]


@cache
def source_adapter() -> SourceAdapter:
    """The adapter this deployment is configured with."""
    return import_string(settings.SOURCE_ADAPTER)(**settings.SOURCE_ADAPTER_OPTIONS)
