"""The operator's monitoring of requesters (R9): their figures from every app manager, and alerts on unusual patterns.

Works in a split deployment: the consent register lives at each app manager, which publishes counts only
(:mod:`blauweknop.protocol.figures`) at its ``fetch`` endpoint + ``/cijfers``, to the operator only. The
operator reads them from every certified app manager in the scheme document over HTTP, proving who it is
with a client assertion signed with its current key (the one the scheme document is signed with); it adds
them up per requester, and looks for what deserves a closer look:

- a requester that asks far more than its peers (more than :data:`PEER_FACTOR` times the median of the
  others, and at least :data:`PEER_MINIMUM` requests);
- fetches refused after the requester knew the citizen withdrew (the app manager's notice reached it, or an
  earlier refusal told it): a requester that keeps fetching anyway. The one fetch it may try before it could
  know is not counted (:func:`blauweknop.portal.figures.requester_figures`);
- a high refusal rate (at least :data:`REFUSAL_RATE` of at least :data:`REFUSAL_MINIMUM` answered requests):
  citizens say no to what it asks.

Reading is cached for :data:`CACHED_FOR` seconds, so opening the page often does not ask every app manager.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

import httpx

from blauweknop import db, shared_cache
from blauweknop.capped import TooLarge, read_at_most
from blauweknop.protocol import client_assertion, figures
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.scheme import publication

logger = logging.getLogger(__name__)

CACHED_FOR = 300  # seconds
PERIOD_DAYS = 30
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # ten thousand requesters at most, each a few hundred bytes
PEER_FACTOR = 3
PEER_MINIMUM = 20
REFUSAL_RATE = 0.5
REFUSAL_MINIMUM = 10

# Alert codes, as the page and the log name them.
MANY_REQUESTS = "veel_verzoeken"
FETCH_AFTER_WITHDRAWAL = "ophalen_na_intrekking"
MANY_REFUSALS = "veel_weigeringen"


@dataclass(frozen=True)
class Alert:
    """Something unusual about one requester: a code, and the numbers that made it stand out."""

    requester: str
    code: str
    count: int
    compared_to: float = 0.0


@dataclass(frozen=True)
class Overview:
    """What the monitoring page shows for one period: per requester the counts of all app managers together."""

    start: date
    end: date
    requesters: dict[str, dict[str, int]]
    alerts: list[Alert]
    read_from: list[str]  # the app managers that answered
    unreachable: list[str] = field(default_factory=list)  # the app managers that did not, or not well


def add_up(answers: Iterable[figures.Figures]) -> dict[str, dict[str, int]]:
    """Per requester, the counts of every app manager added up."""
    total: dict[str, dict[str, int]] = {}
    for answer in answers:
        for oin, counts in answer.requesters.items():
            row = total.setdefault(oin, figures.zero())
            for name in figures.COUNTS:
                row[name] += counts[name]
    return total


def alerts(requesters: Mapping[str, Mapping[str, int]]) -> list[Alert]:
    """The unusual patterns in per-requester counts (see the module's docstring), by requester then code."""
    found = []
    for oin, counts in sorted(requesters.items()):
        asked = counts[figures.ANSWERED]
        peers = [c[figures.ANSWERED] for other, c in requesters.items() if other != oin]
        median = statistics.median(peers) if peers else 0.0
        if peers and asked >= PEER_MINIMUM and asked > PEER_FACTOR * median:
            found.append(Alert(oin, MANY_REQUESTS, asked, float(median)))
        if counts[figures.FETCHES_AFTER_WITHDRAWAL]:
            found.append(Alert(oin, FETCH_AFTER_WITHDRAWAL, counts[figures.FETCHES_AFTER_WITHDRAWAL]))
        if asked >= REFUSAL_MINIMUM and counts[figures.REFUSALS] >= REFUSAL_RATE * asked:
            found.append(Alert(oin, MANY_REFUSALS, counts[figures.REFUSALS], counts[figures.REFUSALS] / asked))
    return found


def read(endpoint: str, start: date, end: date) -> figures.Figures:
    """One app manager's counts for the days ``start`` up to ``end``, from its ``fetch`` endpoint. Blocking.

    Raises :class:`httpx.HTTPError`, :class:`blauweknop.capped.TooLarge` or a protocol error ``malformed``.
    """
    address = f"{endpoint.rstrip('/')}/cijfers"
    url = f"{address}?{urlencode({'vanaf': start.isoformat(), 'tot': end.isoformat()})}"
    assertion = client_assertion.sign(publication.operator_key(), client_id=client_assertion.OPERATOR, audience=address)
    headers = {"Accept-Encoding": "identity", "Accept": "application/json", "Authorization": f"Bearer {assertion}"}
    db.release()  # the app manager may be this very process, and need a connection of the pool to answer
    with (
        httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        response.raise_for_status()
        body = read_at_most(response, MAX_ANSWER_BYTES)
    try:
        return figures.parse(json.loads(body))
    except ValueError:
        return figures.parse(None)


def overview(scheme: SchemeDocument, start: date, end: date) -> Overview:
    """The counts of every certified app manager in ``scheme`` added up, and the alerts on them. Blocking."""
    answers, answered, unreachable = [], [], []
    for oin, manager in sorted(scheme.app_managers.items()):
        endpoint = manager.endpoints.get("fetch")
        if not manager.is_certified or not endpoint:
            continue
        try:
            answer = read(endpoint, start, end)
        except (httpx.HTTPError, TooLarge, ProtocolError) as exc:
            logger.warning("figures of app manager %s not read: %s", oin, getattr(exc, "code", type(exc).__name__))
            unreachable.append(oin)
            continue
        if answer.app_manager != oin or (answer.start, answer.end) != (start, end):
            logger.warning("figures of app manager %s refused: another app manager or period", oin)
            unreachable.append(oin)
            continue
        answers.append(answer)
        answered.append(oin)
    requesters = add_up(answers)
    found = alerts(requesters)
    for alert in found:
        logger.warning("monitoring: requester %s: %s (%s)", alert.requester, alert.code, alert.count)
    return Overview(start, end, requesters, found, answered, unreachable)


def period(today: date) -> tuple[date, date]:
    """The period the page shows: the last :data:`PERIOD_DAYS` days, ``today`` included."""
    end = today + timedelta(days=1)
    return end - timedelta(days=PERIOD_DAYS), end


def cached_overview(scheme: SchemeDocument, today: date) -> Overview:
    """:func:`overview` of the last :data:`PERIOD_DAYS` days, from the shared cache when read recently. Blocking."""
    start, end = period(today)
    key = shared_cache.key("toezicht", f"{scheme.version}/{start.isoformat()}/{end.isoformat()}")
    return shared_cache.remembered(key, Overview, lambda: overview(scheme, start, end), CACHED_FOR)
