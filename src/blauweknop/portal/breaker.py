"""A circuit breaker per holder: one that kept failing is not asked for a while, then once on trial.

The state machine is a few pure functions over :class:`Circuit`; the state itself lives in the
deployment's shared cache (:mod:`blauweknop.shared_cache`), so that every web process skips the
same holders. A cache that is down or emptied only means every holder is asked again. Two
processes that record an answer at the same moment may each count it from the same state: at
worst a circuit opens one failure later, or two trials are let through instead of one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from blauweknop import shared_cache

logger = logging.getLogger(__name__)

FORGET_AFTER = 3600  # seconds: failures this long ago (after any wait), with nothing since, no longer count


@dataclass(frozen=True)
class Circuit:
    """A holder's circuit: its failed answers in a row, and until when it is not asked (``None``: it is asked)."""

    failures: int = 0
    open_until: float | None = None


CLOSED = Circuit()


def admit(circuit: Circuit, now: float, trial: float) -> tuple[bool, Circuit]:
    """Whether to ask the holder at ``now``, and the circuit after that decision.

    Once the wait is over, the first asker makes the one trial (half-open); others skip the holder
    for ``trial`` seconds more, the time that trial may take.
    """
    if circuit.open_until is None:
        return True, circuit
    if now < circuit.open_until:
        return False, circuit
    return True, replace(circuit, open_until=now + trial)


def after(circuit: Circuit, failed: bool, now: float, *, threshold: int, wait: float) -> Circuit:
    """The circuit after an answer: a good one closes it; the ``threshold``-th failure in a row opens it."""
    if not failed:
        return CLOSED
    failures = circuit.failures + 1
    return Circuit(failures, now + wait if failures >= threshold else None)


def _key(oin: str) -> str:
    return shared_cache.key("stroomonderbreker", oin)


def _stored(value: Any) -> Circuit:
    """The circuit the cache holds; anything else there counts as closed."""
    if isinstance(value, dict):
        failures, open_until = value.get("failures"), value.get("open_until")
        if isinstance(failures, int) and (open_until is None or isinstance(open_until, float)):
            return Circuit(failures, open_until)
    return CLOSED


def _store(oin: str, circuit: Circuit) -> None:
    if circuit == CLOSED:
        shared_cache.delete(_key(oin))
    else:
        state = {"failures": circuit.failures, "open_until": circuit.open_until}
        shared_cache.write(_key(oin), state, settings.BREAKER_WAIT + FORGET_AFTER)  # an open circuit outlives its wait


def _admitted(oins: list[str], trial: float) -> set[str]:
    circuits = shared_cache.read_many([_key(oin) for oin in oins])
    now, allowed = time.time(), set()
    for oin in oins:
        circuit = _stored(circuits.get(_key(oin)))
        asked, decided = admit(circuit, now, trial)
        if decided != circuit:
            logger.info("holder %s: circuit half-open, one trial request", oin)
            _store(oin, decided)
        if asked:
            allowed.add(oin)
    return allowed


def _record(answers: dict[str, bool]) -> None:
    circuits = shared_cache.read_many([_key(oin) for oin in answers])
    now = time.time()
    for oin, failed in answers.items():
        circuit = _stored(circuits.get(_key(oin)))
        if circuit == CLOSED and not failed:
            continue  # the usual case: nothing to write
        changed = after(circuit, failed, now, threshold=settings.BREAKER_FAILURES, wait=settings.BREAKER_WAIT)
        if changed.open_until is not None and changed.open_until != circuit.open_until:
            logger.warning(
                "holder %s: circuit open for %d s after %d failed answers in a row",
                oin,
                settings.BREAKER_WAIT,
                changed.failures,
            )
        elif circuit.open_until is not None and changed == CLOSED:
            logger.warning("holder %s: circuit closed, it answers again", oin)
        _store(oin, changed)


async def admitted(oins: list[str], trial: float) -> set[str]:
    """Which of the holders ``oins`` may be asked now, in one look-up; ``trial``: the seconds a trial may take."""
    return await sync_to_async(_admitted, thread_sensitive=False)(oins, trial)


async def record(answers: dict[str, bool]) -> None:
    """Count each holder's answer, by OIN: failed (the holder is down, slow or in error) or good (it answered)."""
    await sync_to_async(_record, thread_sensitive=False)(answers)
