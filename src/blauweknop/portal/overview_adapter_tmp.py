"""THROWAWAY: C1's fanout contract, until portal/fanout.py lands. Never commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from blauweknop.portal.holders import Citizen, fetch_all
from blauweknop.portal.models import SessionCopies
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument

Outcome = SessionCopies.Outcome


@dataclass(frozen=True)
class HolderResult:
    holder: Participant
    outcome: str
    credentials: dict[str, str]
    absent: list[str]


async def _one(scheme, holder, citizen, timeout):
    if not holder.is_certified:
        return HolderResult(holder, Outcome.NOT_TAKING_PART, {}, [])
    try:
        fetched = await asyncio.wait_for(fetch_all(scheme, holder, citizen), timeout)
    except TimeoutError:
        return HolderResult(holder, Outcome.UNREACHABLE, {}, [])
    creds = {f.type_id: f.credential for f in fetched if f.credential}
    absent = [f.type_id for f in fetched if f.absent]
    if any("niet konden controleren" in (f.problem or "") for f in fetched):
        return HolderResult(holder, Outcome.UNTRUSTED, {}, [])
    if any(f.problem for f in fetched) and not creds:
        return HolderResult(holder, Outcome.UNREACHABLE, {}, [])
    if not creds:
        return HolderResult(holder, Outcome.NONE, {}, absent)
    return HolderResult(holder, Outcome.FETCHED, creds, absent)


async def ask_all(scheme: SchemeDocument, citizen: Citizen, *, timeout=None) -> AsyncIterator[HolderResult]:
    from django.conf import settings
    timeout = settings.OVERVIEW_TIMEOUT if timeout is None else timeout
    holders = [p for p in scheme.organisations.values() if HOLDER in p.roles]
    for done in asyncio.as_completed([_one(scheme, h, citizen, timeout) for h in holders]):
        yield await done
