"""Fetch fresh copies from the holders for a share, and present only the approved fields to the requester.

Used for a standing fetch (:mod:`blauweknop.portal.fetch_api`); the same steps as an approval
(docs/plus.md §2): per credential query, every certified holder that issues the type is asked at
once, with an assertion that names the share (``deling``); with ``multiple`` the copies of every
holder that had data are presented, otherwise the first holder's in name order. Each presentation
discloses only the approved paths and ends in a Key Binding JWT for the requester and its nonce.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from blauweknop import document_types
from blauweknop.db import release_before_waiting
from blauweknop.portal import holders
from blauweknop.portal.holders import Citizen, Fetched, Kind
from blauweknop.protocol import openid4vp
from blauweknop.protocol.jwk import SigningKey
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument
from blauweknop.protocol.session_assertion import Sharing


@dataclass(frozen=True)
class Presented:
    """What was presented per query id, from which holders; and which queries found nothing, and why not."""

    vp_token: dict[str, list[str]]
    holders: dict[str, list[str]] = field(default_factory=dict)  # query id: holder OINs presented
    missing: list[str] = field(default_factory=list)  # required query ids with no copy from any holder
    unreachable: list[str] = field(default_factory=list)  # OINs of holders that gave neither a copy nor "no data"

    def detail(self, approved: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """What a consent event records of this: holders and fields per query; never a value."""
        return {
            "houders": self.holders,
            "velden": {query_id: list(approved.get(query_id, ())) for query_id in self.vp_token},
            **({"onbereikbaar": self.unreachable} if self.unreachable else {}),
        }


def holders_of(scheme: SchemeDocument, type_id: str) -> list[Participant]:
    """The certified holders that issue ``type_id``, in name order: whom a share asks for it."""
    found = [p for p in scheme.organisations.values() if type_id in p.document_types]
    return sorted((p for p in found if scheme.is_certified(p.oin, HOLDER)), key=lambda p: p.name)


async def gather_and_present(
    scheme: SchemeDocument,
    citizen: Citizen,
    wallet_key: SigningKey,
    asked: Sequence[Mapping[str, Any]],
    approved: Mapping[str, Sequence[str]],
    *,
    sharing: Sharing,
    aud: str,
    nonce: str,
) -> Presented:
    """Ask the holders anew for every approved query and present the approved paths to ``aud`` with ``nonce``.

    ``asked``: the credential queries as a consent keeps them (``id``, ``vct``, ``multiple``);
    ``approved``: {query id: catalogue paths}. ``citizen.wallet_jwk`` must be ``wallet_key``'s public key:
    the holders bind the fresh copies to it. Raises the protocol's error if a copy cannot be presented.
    """
    catalogue = document_types.of(scheme)
    plan: list[tuple[Mapping[str, Any], str, list[Participant]]] = []
    for query in asked:
        document_type = catalogue.by_vct(query.get("vct"))
        if query.get("id") in approved and document_type is not None:
            plan.append((query, document_type.id, holders_of(scheme, document_type.id)))
    deadline = asyncio.get_running_loop().time() + settings.OVERVIEW_TIMEOUT
    await release_before_waiting()
    async with holders.http_client(sum(len(asking) for _q, _t, asking in plan)) as client:
        answers: list[list[Fetched]] = await asyncio.gather(
            *(
                asyncio.gather(
                    *(
                        holders.fetch(client, scheme, holder, type_id, citizen, deadline=deadline, sharing=sharing)
                        for holder in asking
                    )
                )
                for _query, type_id, asking in plan
            )
        )
    presented = Presented({})
    for (query, _type_id, asking), fetched in zip(plan, answers, strict=True):
        answered = list(zip(asking, fetched, strict=True))
        presented.unreachable.extend(h.oin for h, f in answered if f.kind not in (Kind.COPY, Kind.ABSENT))
        copies = [(h, f) for h, f in answered if f.kind == Kind.COPY and f.credential]
        if not copies:
            if query.get("required", True):
                presented.missing.append(query["id"])
            continue
        used = copies if query.get("multiple") else copies[:1]
        paths = list(approved[query["id"]])
        presented.vp_token[query["id"]] = [
            openid4vp.present(f.credential, paths, holder_key=wallet_key, aud=aud, nonce=nonce) for _h, f in used
        ]
        presented.holders[query["id"]] = [h.oin for h, _f in used]
    return presented
