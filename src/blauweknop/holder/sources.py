"""Source adapters: how a holder finds, corrects and follows one citizen's document of one type in its own systems.

An organisation connects its own registry by writing one class with ``lookup`` and ``replace``
methods and naming it in ``BLAUWEKNOP_SOURCE_ADAPTER``; nothing else changes. The built-in adapter
reads a SQL table with a BSN column, a document type column and a JSON document column.

A registry that also offers a change feed (:class:`ChangeFeed`: which citizen's document of which
type changed) lets the holder supersede every earlier copy of changed data within a minute, whoever
changed it (:mod:`blauweknop.holder.freshness`). An adapter without one is allowed: then only a
correction decided through the holder's own pages supersedes at once, and a change made elsewhere
only when the citizen next fetches that document here.

Every document names whom it is about (``burgerservicenummer``, ``naam``, ``geboorte.datum``, as
the catalogue requires of every type), so that a receiver can match a copy to the person handing it
in; an adapter whose registry keeps these apart joins them in. A document without them is refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string

from blauweknop.document_types import DocumentType


class SourceAdapter(Protocol):
    """Looks up and replaces the document of one type about one citizen at one holder."""

    def lookup(self, holder_oin: str, bsn: str, document_type: DocumentType) -> dict[str, Any] | None:
        """The document as the catalogue defines it, its subject included, or ``None`` when the holder has nothing."""
        ...

    def replace(self, holder_oin: str, bsn: str, document_type: DocumentType, data: dict[str, Any]) -> None:
        """Store ``data`` as the whole new document of this citizen and type (a decided correction).

        Inside the caller's transaction where the registry shares this database.
        """
        ...


@dataclass(frozen=True)
class Change:
    """One entry of a registry's change feed: the document of ``type_id`` about ``bsn`` at ``holder_oin`` changed."""

    id: int
    holder_oin: str
    bsn: str
    type_id: str
    changed_at: datetime
    seen_at: datetime | None  # when a worker first saw it (:meth:`ChangeFeed.see_changes`), None until then

    def __repr__(self) -> str:  # the BSN stays out of logs and tracebacks
        return f"Change({self.id}, holder={self.holder_oin}, type={self.type_id})"


@runtime_checkable
class ChangeFeed(Protocol):
    """A registry's list of changes, oldest first, which the holder's worker reads and then forgets.

    Ids only grow, but a change may become visible after a younger one (transactions commit in
    any order): so the reader forgets exactly the entries it handled, never "everything up to".
    """

    def changes(self, after_id: int, limit: int) -> list[Change]:
        """At most ``limit`` changes with an id above ``after_id``, in id order."""
        ...

    def see_changes(self, ids: Sequence[int], at: datetime) -> None:
        """Note ``at`` as the moment these entries were first seen, on those not seen before."""
        ...

    def forget_changes(self, ids: Sequence[int]) -> int:
        """Delete these entries (the ones handled); how many were still there."""
        ...


class SqlTableAdapter:
    """Reads and writes documents in a table, and reads its change feed; the column and table names come from settings.

    ``change_table``: where the registry's triggers log each change (the demo's ``holder_bronwijziging``,
    see holder migrations 0004 and 0005), with an increasing ``id``, a ``changed_at``, a ``seen_at`` the holder
    fills in, and the same holder, BSN and type columns as ``table``; ``None`` for a registry without a change feed.
    """

    def __init__(
        self,
        table: str = "holder_bronregistratie",
        *,
        holder_column: str = "holder_oin",
        bsn_column: str = "bsn",
        type_column: str = "document_type",
        data_column: str = "data",
        change_table: str | None = "holder_bronwijziging",
        using: str = "default",
    ) -> None:
        connection = connections[using]
        quote = connection.ops.quote_name
        self.using = using
        # Names are quoted identifiers from configuration; values are always query parameters.
        keys = f"{quote(holder_column)} = %s AND {quote(bsn_column)} = %s AND {quote(type_column)} = %s"
        self.query = f"SELECT {quote(data_column)} FROM {quote(table)} WHERE {keys}"  # noqa: S608
        self.update = f"UPDATE {quote(table)} SET {quote(data_column)} = %s WHERE {keys}"  # noqa: S608
        self.insert = (
            f"INSERT INTO {quote(table)} ({quote(data_column)}, {quote(holder_column)}, {quote(bsn_column)}, "  # noqa: S608
            f"{quote(type_column)}) VALUES (%s, %s, %s, %s)"
        )
        self.change_query = self.change_seen = self.change_delete = None
        if change_table is not None:
            self.change_query = (
                f"SELECT id, {quote(holder_column)}, {quote(bsn_column)}, {quote(type_column)}, changed_at, "  # noqa: S608
                f"seen_at FROM {quote(change_table)} WHERE id > %s ORDER BY id LIMIT %s"
            )
            self.change_seen = f"UPDATE {quote(change_table)} SET seen_at = %s WHERE seen_at IS NULL AND id IN ({{}})"  # noqa: S608
            self.change_delete = f"DELETE FROM {quote(change_table)} WHERE id IN ({{}})"  # noqa: S608

    def lookup(self, holder_oin: str, bsn: str, document_type: DocumentType) -> dict[str, Any] | None:
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.query, [holder_oin, bsn, document_type.id])
            row = cursor.fetchone()
        if row is None:
            return None
        # SQLite hands back JSON as text, PostgreSQL as a decoded object.
        return json.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]

    def replace(self, holder_oin: str, bsn: str, document_type: DocumentType, data: dict[str, Any]) -> None:
        connection = connections[self.using]
        value = connection.ops.adapt_json_value(data, None)  # JSON text on SQLite, jsonb on PostgreSQL
        keys = [holder_oin, bsn, document_type.id]
        with connection.cursor() as cursor:
            cursor.execute(self.update, [value, *keys])
            if cursor.rowcount == 0:  # a document the registry did not have yet
                cursor.execute(self.insert, [value, *keys])

    def changes(self, after_id: int, limit: int) -> list[Change]:
        if self.change_query is None:
            return []
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.change_query, [after_id, limit])
            return [
                Change(row[0], row[1], row[2], row[3], _moment(row[4]), _moment(row[5]) if row[5] else None)
                for row in cursor.fetchall()
            ]

    def see_changes(self, ids: Sequence[int], at: datetime) -> None:
        if self.change_seen is None or not ids:
            return
        connection = connections[self.using]
        moment = connection.ops.adapt_datetimefield_value(at)  # as the backend stores a DateTimeField
        with connection.cursor() as cursor:
            cursor.execute(self.change_seen.format(", ".join(["%s"] * len(ids))), [moment, *ids])

    def forget_changes(self, ids: Sequence[int]) -> int:
        if self.change_delete is None or not ids:
            return 0
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.change_delete.format(", ".join(["%s"] * len(ids))), list(ids))
            return cursor.rowcount


def _moment(value: datetime | str) -> datetime:
    """A change's time as an aware datetime: SQLite gives text, a column without a time zone a naive one, both UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@cache
def source_adapter() -> SourceAdapter:
    """The adapter this deployment is configured with."""
    return import_string(settings.SOURCE_ADAPTER)(**settings.SOURCE_ADAPTER_OPTIONS)
