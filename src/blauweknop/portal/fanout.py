"""Ask every holder at once, each within its own deadline: one answer per holder, as soon as it is in.

Built for failure: a holder that is down, slow, in error, or sends what does not verify costs the
others nothing; what it sent is dropped, never passed on. A holder that kept failing is skipped for
a while (:mod:`blauweknop.portal.breaker`). The whole fan-out takes at most the timeout, however
many holders there are: they are asked side by side over one client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings

from blauweknop.db import release_before_waiting
from blauweknop.portal import breaker
from blauweknop.portal.holders import Citizen, Fetched, Kind, fan_out_client, fetch, remember_until
from blauweknop.portal.models import SessionCopies
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument
from blauweknop.protocol.sdjwt_vc import VerifiedCredential

logger = logging.getLogger(__name__)

Outcome = SessionCopies.Outcome
T = TypeVar("T")
# Past the deadline, a holder's result may take this much longer to be put in, no more.
GRACE = 0.05
MAX_GATHER = 0.05  # seconds a batch of results may wait for more, at most
PORTAL_ERROR = "portal_error"  # the portal failed with a holder's answer: a fault of ours, not of the holder


@dataclass(frozen=True)
class HolderResult:
    """One holder's answer to the fan-out.

    ``outcome`` is ``opgehaald`` when every type was answered (data or none; ``geen`` when all were
    none); otherwise the failure (``onbereikbaar``, ``onbetrouwbaar``), while ``credentials`` may still
    hold other types that verified. ``overgeslagen``: its circuit is open; ``doet-niet-mee``: it is
    suspended or revoked in the scheme. Neither of those two was asked.
    """

    holder: Participant
    outcome: str  # a SessionCopies.Outcome value
    credentials: dict[str, str]  # document type: a copy the portal verified (never anything unverified)
    absent: list[str]  # the types the holder said it has none of
    # document type: what verifying its copy found (the claims shown), so that nobody parses the copy again
    verified: dict[str, VerifiedCredential] = field(default_factory=dict)
    down: bool = False  # the holder itself failed (see :func:`down`): what its circuit counts

    def __repr__(self) -> str:  # the copies hold personal data
        return f"HolderResult({self.holder.oin}, {self.outcome})"


def outcome(fetched: Iterable[Fetched]) -> str:
    """The holder's outcome from its answers per type: a failure if any type failed, untrusted first."""
    kinds = {f.kind for f in fetched}
    if Kind.UNTRUSTED in kinds:
        return Outcome.UNTRUSTED
    if kinds & {Kind.UNREACHABLE, Kind.REFUSED}:
        return Outcome.UNREACHABLE
    return Outcome.NONE if kinds <= {Kind.ABSENT} else Outcome.FETCHED


def down(fetched: Iterable[Fetched]) -> bool:
    """Whether the holder itself failed for some type: not reached, too slow, a 5xx, or no status list to be had.

    Only this counts towards opening its circuit, which skips the holder for every citizen. A refusal (4xx)
    or a copy that does not verify or is not the one asked for may concern one citizen only: the holder
    did answer, so such an answer counts as a good one.
    """
    return any(f.kind == Kind.UNREACHABLE and f.reason != PORTAL_ERROR for f in fetched)


def result(holder: Participant, fetched: list[Fetched]) -> HolderResult:
    """The holder's result from its answers per type."""
    return HolderResult(
        holder,
        outcome(fetched),
        {f.type_id: f.credential for f in fetched if f.kind == Kind.COPY and f.credential is not None},
        [f.type_id for f in fetched if f.absent],
        {f.type_id: f.verified for f in fetched if f.kind == Kind.COPY and f.verified is not None},
        down(fetched),
    )


def _log_unasked(holder: Participant, citizen: Citizen, reason: str) -> None:
    logger.warning(
        "holder %s gave no copy of %s for citizen %s: reason %s (not asked)",
        holder.oin,
        ",".join(holder.document_types) or "-",
        citizen.pseudonym,
        reason,
    )


async def _ask(
    deadline: float,
    scheme: SchemeDocument,
    holder: Participant,
    citizen: Citizen,
    results: asyncio.Queue[HolderResult],
) -> None:
    """Ask one holder for every type it issues and put its result in ``results``."""
    client = fan_out_client(holder)
    try:
        fetched = await asyncio.gather(
            *(fetch(client, scheme, holder, t, citizen, deadline=deadline) for t in holder.document_types)
        )
    except Exception as exc:  # a fault of ours with this holder's answer costs the others nothing, nor waits
        logger.error("holder %s: asking it failed in the portal: %s", holder.oin, type(exc).__name__)
        fetched = [Fetched(t, Kind.UNREACHABLE, reason=PORTAL_ERROR) for t in holder.document_types]
    results.put_nowait(result(holder, fetched))


def _unasked(citizen: Citizen, not_taking_part: list[Participant], skipped: list[Participant]) -> list[HolderResult]:
    """The results of holders that are not asked: suspended or revoked ones, then those whose circuit is open."""
    for holder in not_taking_part:
        _log_unasked(holder, citizen, f"{holder.certification}_participant")
    for holder in skipped:
        _log_unasked(holder, citizen, "circuit_open")
    return [HolderResult(h, Outcome.NOT_TAKING_PART, {}, []) for h in not_taking_part] + [
        HolderResult(h, Outcome.SKIPPED, {}, []) for h in skipped
    ]


def _prepared(prepare: Callable[[HolderResult], T], batch: list[HolderResult]) -> list[tuple[HolderResult, T]]:
    return [(answer, prepare(answer)) for answer in batch]


async def _circuits(deadline: float, holders: list[Participant]) -> set[str]:
    """The OINs of ``holders`` whose circuit lets them be asked (all, if the cache does not say in time)."""
    try:
        async with asyncio.timeout_at(deadline):
            return await breaker.admitted([h.oin for h in holders], trial=deadline - asyncio.get_running_loop().time())
    except TimeoutError:  # the deadline has passed: whoever is asked now is late anyway
        return {h.oin for h in holders}


async def _next(results: asyncio.Queue[HolderResult], until: float) -> HolderResult | None:
    """The next result, or ``None`` if none comes by ``until``.

    The deadline covers this wait only, never the caller's work between two results: a timeout
    around a ``yield`` would cancel whatever the caller awaits at that moment.
    """
    if not results.empty():
        return results.get_nowait()
    try:
        async with asyncio.timeout_at(until):
            return await results.get()
    except TimeoutError:
        return None


async def ask_all(
    scheme: SchemeDocument, citizen: Citizen, *, timeout: float | None = None
) -> AsyncIterator[HolderResult]:
    """Every holder in the scheme at once; each result as soon as that holder is done; all within ``timeout``.

    ``timeout``: seconds (default ``settings.OVERVIEW_TIMEOUT``). A holder not done by then is
    yielded as unreachable at that moment, and its requests are cancelled. Suspended and revoked
    holders are not asked; neither are holders whose circuit is open: both are yielded first.
    """
    async with contextlib.aclosing(ask_all_in_batches(scheme, citizen, _nothing, timeout=timeout)) as batches:
        async for batch in batches:
            for answer, _ in batch:
                yield answer


def _nothing(answer: HolderResult) -> None:
    return None


async def ask_all_in_batches(
    scheme: SchemeDocument,
    citizen: Citizen,
    prepare: Callable[[HolderResult], T],
    *,
    timeout: float | None = None,
    gather: float = 0.0,
) -> AsyncIterator[list[tuple[HolderResult, T]]]:
    """:func:`ask_all`, each time with every result that is in by then (one or more), each with ``prepare(result)``.

    For a caller that keeps answers: one write for several. ``gather``: seconds to wait for one more
    result while they keep coming (a batch is yielded once none came in that long, or after
    :data:`MAX_GATHER`): answers that come in together are then written together. ``prepare`` runs as
    each result comes in (e.g. rendering its part of a page), while the others are still awaited.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (settings.OVERVIEW_TIMEOUT if timeout is None else timeout)
    holders = [p for p in scheme.organisations.values() if HOLDER in p.roles]
    certified = [h for h in holders if scheme.is_certified(h.oin, HOLDER)]
    await release_before_waiting()
    allowed = await _circuits(deadline, certified) if certified else set()
    asking = [h for h in certified if h.oin in allowed]
    # Yielded once every holder asked is being asked, so that keeping them delays no request.
    unasked = _unasked(citizen, [h for h in holders if h not in certified], [h for h in certified if h not in asking])
    if not asking:
        if unasked:
            yield _prepared(prepare, unasked)
        return
    results: asyncio.Queue[HolderResult] = asyncio.Queue()
    pending = {h.oin: h for h in asking}
    answered: list[HolderResult] = []
    tasks = [asyncio.create_task(_ask(deadline, scheme, holder, citizen, results)) for holder in asking]
    bookkeeping: asyncio.Future[None] | None = None
    try:
        if unasked:
            yield _prepared(prepare, unasked)
        while pending and (answer := await _next(results, deadline + GRACE)) is not None:
            batch, last = [(answer, prepare(answer))], min(loop.time() + MAX_GATHER, deadline + GRACE)
            while len(batch) < len(pending) and (more := await _next(results, min(loop.time() + gather, last))):
                batch.append((more, prepare(more)))
            for each, _ in batch:
                del pending[each.holder.oin]
            answered += [each for each, _ in batch]
            if not pending:  # the last: what it leaves behind is done while the caller keeps and shows this batch
                bookkeeping = asyncio.ensure_future(_leave_behind(citizen, answered))
            yield batch
        for holder in pending.values():  # only if a holder's task failed to put its result
            _log_unasked(holder, citizen, "timeout")
        if pending:
            late = [HolderResult(holder, Outcome.UNREACHABLE, {}, [], down=True) for holder in pending.values()]
            yield _prepared(prepare, late)
    finally:
        for task in tasks:  # each is done once its result is in; any other is not waited for
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await (bookkeeping or _leave_behind(citizen, answered))


async def _leave_behind(citizen: Citizen, answered: list[HolderResult]) -> None:
    """After a fan-out: the wallet key is known until the last copy expires; the breaker counts every answer."""
    await asyncio.gather(
        remember_until(citizen, [v.expires_at for answer in answered for v in answer.verified.values()]),
        breaker.record({a.holder.oin: a.down for a in answered}),
    )
