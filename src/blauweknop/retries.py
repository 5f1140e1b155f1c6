"""Telling another participant something from the worker, until it takes it: when to try again, and once each.

A holder tells app managers of news about correction requests (:mod:`blauweknop.holder.notices`); the portal
tells holders of standing fetches it refused (:mod:`blauweknop.portal.refusal_notices`), and requesters of
standing consents that ended (:mod:`blauweknop.portal.end_notices`). Each keeps, per item,
how often it failed, and tries again after 1, 2, 4 … minutes, at most an hour apart, until about three days
passed. No answer, a timeout, 401, 403, 408, 429 or 5xx say "not now": a receiver that does not trust
the sender for a moment (the sender suspended for an hour, a scheme document or a clock a little behind) takes
it later; any other refusal (400, 404, 422 …) is final.

One run has a time limit, and a receiver that hangs uses a whole answer's time. So that a few such receivers
cannot starve the others, the receivers are told in turn: first those that did not fail lately, then those
that failed longest ago, each by its oldest item; each receiver gets a share of the time left; and an item
that is not asked because the time is up is no failure, it is simply told in a later run.

Two workers at once tell each item once: on PostgreSQL its row is locked while it is told (``SELECT … FOR
UPDATE SKIP LOCKED``: the other worker passes it by); SQLite has no row locks, and a writing transaction there
would lock the whole database while the other side (maybe in the same database) answers, so a short lease in
the shared cache marks the item as being told.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from django.db import connection, models, transaction
from django.db.models import Min, Q
from django.utils import timezone

from blauweknop import shared_cache
from blauweknop.conformance.probe import Probe
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)
FIRST_WAIT = timedelta(minutes=1)  # after the first failed try; it doubles with every next one
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP = timedelta(days=3)  # from the first failed try: then the other side is not coming back for this one
# The refusals that say "not now" rather than "never": not trusted now (401: e.g. a scheme document or clock a
# little behind; 403: e.g. the sender suspended for a while), too early or too busy. All bounded by GIVE_UP.
TRY_AGAIN = (401, 403, 408, 429)
LEASE = 120  # seconds an item counts as being told (SQLite): longer than a whole run
FAILED_LATELY = int(LONGEST_WAIT.total_seconds())  # how long a receiver's last failure puts it behind the others


class Outcome(enum.Enum):
    """What came of telling one item."""

    TOLD = "told"
    REFUSED = "refused"  # for good: the item is done
    WAITS = "waits"  # this item is tried again later; the receiver's others are told now
    RECEIVER_FAILED = "receiver failed"  # tried again later, and the receiver is not asked again this run


def backoff(tries: int) -> timedelta:
    """How long an item waits after its ``tries``-th failed try: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_WAIT * 2 ** min(tries - 1, 12), LONGEST_WAIT)


def given_up(tries: int) -> bool:
    """Whether an item that failed ``tries`` times has been tried for :data:`GIVE_UP` since its first failure."""
    return sum((backoff(n) for n in range(1, tries)), timedelta()) >= GIVE_UP


def final_refusal(status: int | None) -> bool:
    """Whether an answer with ``status`` refuses for good: a 4xx other than :data:`TRY_AGAIN`."""
    return status is not None and 400 <= status < 500 and status not in TRY_AGAIN


def waiting(model: type[M]) -> models.QuerySet[M]:
    """The items of outbox ``model`` not settled whose next try has come.

    An outbox model has ``tries`` (failed tries), ``next_try`` (not before) and ``done_at`` (settled).
    """
    return model.objects.filter(done_at__isnull=True).filter(Q(next_try__isnull=True) | Q(next_try__lte=timezone.now()))


def settle(item: models.Model, **also: object) -> None:
    """Mark outbox ``item`` done (told, refused for good, or given up), with the fields ``also``."""
    type(item).objects.filter(pk=item.pk).update(done_at=timezone.now(), next_try=None, **also)


def count_failure(item: models.Model) -> bool:
    """Count a failed try of outbox ``item``: it waits :func:`backoff`; ``True`` when given up (then it is settled)."""
    tries = item.tries + 1  # type: ignore[attr-defined]
    if given_up(tries):
        settle(item)
        return True
    type(item).objects.filter(pk=item.pk).update(tries=tries, next_try=timezone.now() + backoff(tries))
    return False


@contextmanager
def claimed(due: models.QuerySet[M], pk: int, lease: str) -> Iterator[M | None]:
    """Item ``pk`` if it is still among ``due`` and no other worker is telling it; held while the block runs.

    ``lease`` names the kind of item in the shared cache (SQLite only).
    """
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            yield due.select_for_update(skip_locked=True).filter(pk=pk).first()
        return
    key = shared_cache.key(lease, str(pk))
    if shared_cache.count(key, 1, LEASE) != 1:
        yield None
        return
    try:
        yield due.filter(pk=pk).first()
    finally:
        shared_cache.delete(key)


def tell_due(
    due: Callable[[], models.QuerySet[M]],
    receiver: str,
    per_receiver: int,
    lease: str,
    tell: Callable[[M], Outcome],
    failed: Callable[[M], None],
    *,
    ends: float,
    answer: float,
) -> int:
    """Tell each receiver (the field ``receiver`` of the items) of at most ``per_receiver`` items ``due()``; how many.

    ``tell`` tells one item and settles it when told or refused; ``failed`` counts a try that waits. A receiver
    that cannot take an item now is not asked again in this run: its others wait for the next. The run ends
    at ``ends`` (:func:`time.monotonic`); an item is asked only while a whole ``answer`` time is left, and
    each receiver in turn is asked for more only within its share of the time left. Blocking.
    """
    told = 0
    receivers = _in_turn(due(), receiver, lease)
    for turn, who in enumerate(receivers):
        started = time.monotonic()
        share = (ends - started) / (len(receivers) - turn)
        for asked, pk in enumerate(
            due().filter(**{receiver: who}).order_by("pk").values_list("pk", flat=True)[:per_receiver]
        ):
            now = time.monotonic()
            if now + answer > ends:
                return told  # not asked is no failure: the rest are told in a later run, in turn
            if asked and now - started >= share:
                break  # this receiver had its share of the run: the next one's turn
            with claimed(due(), pk, lease) as item:
                if item is None:
                    continue  # another worker tells it, or told it already, or it waits now
                outcome = tell(item)
                if outcome in (Outcome.WAITS, Outcome.RECEIVER_FAILED):
                    failed(item)
            if outcome is Outcome.RECEIVER_FAILED:
                shared_cache.write(_failed_key(lease, who), time.time(), FAILED_LATELY)
                break
            if outcome is Outcome.TOLD:
                told += 1
    return told


def tell_in_a_run(
    due: Callable[[], models.QuerySet[M]],
    receiver: str,
    per_receiver: int,
    lease: str,
    tell: Callable[[Probe, SchemeDocument, M], Outcome],
    failed: Callable[[M], None],
    *,
    answer_deadline: float,
    run_deadline: float,
    max_answer: int,
    user_agent: str,
    what: str,
) -> int:
    """One run of an outbox: the items ``due()`` told in turn (:func:`tell_due`), each through one :class:`Probe`
    whose every answer (``answer_deadline``, ``max_answer`` bytes) and whole run (``run_deadline``) are bounded,
    with the scheme document in hand; ``0`` without a valid one (logged as ``what``). Blocking."""
    scheme = scheme_client.in_hand()
    if scheme is None:
        logger.warning("%s wait: no valid scheme document", what)
        return 0
    ends = time.monotonic() + run_deadline  # before the probe's own: an item asked has its whole answer time
    with Probe(
        answer_deadline=answer_deadline, run_deadline=run_deadline, limit=max_answer, user_agent=user_agent
    ) as probe:
        return tell_due(
            due,
            receiver,
            per_receiver,
            lease,
            lambda item: tell(probe, scheme, item),
            failed,
            ends=ends,
            answer=answer_deadline,
        )


def _failed_key(lease: str, who: str) -> str:
    """The shared-cache key under which the time of receiver ``who``'s last failure is kept."""
    return shared_cache.key(f"{lease}-faalde", who)


def _in_turn(due: models.QuerySet[M], receiver: str, lease: str) -> list[str]:
    """The receivers of ``due`` in the order to tell them: not failed lately first, then failed longest ago; each
    by its oldest item. A receiver that hangs thus goes behind the others once it failed, and those never asked
    (the run's time was up) come first the next run.
    """
    oldest = dict(due.order_by().values(receiver).annotate(oldest=Min("pk")).values_list(receiver, "oldest"))
    failures = shared_cache.read_many([_failed_key(lease, who) for who in oldest])

    def last_failed(who: str) -> float:
        at = failures.get(_failed_key(lease, who))
        return at if isinstance(at, float) else 0.0

    return sorted(oldest, key=lambda who: (last_failed(who), oldest[who], who))
