"""Paging through records newest first, by position instead of by page number.

A position is a moment and a key that breaks ties between records of the same moment, so that
paging never skips or repeats a record, also when many share a timestamp. A page number would
shift as new records arrive; a position does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)
MAX_PAGE = 50  # the most records one page may hold; keeps every answer bounded
# The years any record can have. Far beyond them a step of one tick, or the way to UTC, leaves the calendar.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def within_years(at: datetime) -> datetime | None:
    """``at`` in UTC if it is in a time zone and within the years any record can have; else ``None``.

    Comparing first is safe at any moment; converting is safe only once it is known to be near.
    """
    if at.tzinfo is None or at.utcoffset() is None or not EARLIEST <= at < LATEST:
        return None
    return at.astimezone(UTC)


@dataclass(frozen=True)
class Bound:
    """Where a page starts: records older (or newer) than ``at``, and at ``at`` older (newer) than ``key``.

    Without a ``key``, a record at exactly ``at`` is beyond the bound (``older``) or not at all.
    """

    at: datetime
    key: str | None = None
    older: bool = True


def page(records: QuerySet[M], bound: Bound | None, limit: int, *, at: str = "at", key: str = "pk") -> list[M]:
    """At most ``limit`` of ``records`` just beyond ``bound``, newest first; the newest of all without one.

    ``at`` and ``key`` name the fields that order the records: a moment and a tie breaker.
    """
    limit = max(1, min(limit, MAX_PAGE))
    if bound is None:
        return list(records.order_by(f"-{at}", f"-{key}")[:limit])
    lookup = "lt" if bound.older else "gt"
    beyond = Q(**{f"{at}__{lookup}": bound.at})
    if bound.key is not None:
        beyond |= Q(**{at: bound.at, f"{key}__{lookup}": bound.key})
    ordering = (f"-{at}", f"-{key}") if bound.older else (at, key)
    found = list(records.filter(beyond).order_by(*ordering)[:limit])
    # The records just newer than the bound are found oldest first; a page always shows newest first.
    return found if bound.older else found[::-1]
