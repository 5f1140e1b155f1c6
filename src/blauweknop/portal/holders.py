"""The portal's side of the holder API: ask a holder for certified copies, over HTTP.

Build for failure: a document type that a holder cannot deliver never stops the others, and the
citizen is told in plain words which organisation could not answer and what to do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.translation import gettext as _

from blauweknop import keystore
from blauweknop.portal.verification import TIMEOUT, verify_credential
from blauweknop.protocol import session_assertion
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument


@dataclass(frozen=True)
class Citizen:
    """Who is logged in, as the holder must be told: never printed, never logged."""

    bsn: str
    assurance_level: str
    wallet_jwk: dict[str, Any]

    def __repr__(self) -> str:
        return "Citizen(...)"


@dataclass(frozen=True)
class Fetched:
    """What a holder answered for one document type: a verified credential, or why not."""

    type_id: str
    credential: str | None = None
    problem: str | None = None


def _refusal(response: httpx.Response, holder: Participant) -> str:
    is_problem = response.headers.get("Content-Type", "").startswith("application/problem+json")
    if is_problem and response.json().get("code") == "no_data":
        return _("%(name)s heeft geen gegevens van deze soort over u.") % {"name": holder.name}
    return _("%(name)s gaf nu geen gegevens. Probeer het later nog eens.") % {"name": holder.name}


def _assertion(holder: Participant, citizen: Citizen) -> str:
    """A fresh assertion for one call to ``holder``: each one can be used once."""
    return session_assertion.sign(
        keystore.signing_key(settings.PORTAL_OIN),
        app_manager_oin=settings.PORTAL_OIN,
        holder_oin=holder.oin,
        bsn=citizen.bsn,
        assurance_level=citizen.assurance_level,
        wallet_jwk=citizen.wallet_jwk,
    )


async def _fetch(
    client: httpx.AsyncClient, scheme: SchemeDocument, holder: Participant, type_id: str, citizen: Citizen
) -> Fetched:
    assertion = _assertion(holder, citizen)
    unreachable = _("%(name)s is nu niet bereikbaar. Probeer het later nog eens.") % {"name": holder.name}
    try:
        response = await client.post(
            f"{holder.endpoints['api']}/verklaringen",
            json={"appbeheerderverklaring": assertion, "documentsoort": type_id},
        )
    except httpx.HTTPError:
        return Fetched(type_id, problem=unreachable)
    if response.status_code != 201:
        return Fetched(type_id, problem=_refusal(response, holder))
    credential = response.json().get("verklaring", "")
    try:
        # The portal shows nothing it could not verify itself, with the checks any receiver makes.
        await sync_to_async(verify_credential, thread_sensitive=False)(credential, scheme)
    except (ProtocolError, httpx.HTTPError):
        return Fetched(type_id, problem=unreachable)
    return Fetched(type_id, credential=credential)


async def fetch_all(scheme: SchemeDocument, holder: Participant, citizen: Citizen) -> list[Fetched]:
    """Every document type the holder issues, asked for at the same time."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        return list(await asyncio.gather(*(_fetch(client, scheme, holder, t, citizen) for t in holder.document_types)))


@dataclass(frozen=True)
class AccessReport:
    """The reads of the citizen's data every holder recorded, and the holders that could not say."""

    records: list[dict[str, Any]]
    silent: list[str]


async def _records(client: httpx.AsyncClient, holder: Participant, citizen: Citizen) -> list[dict[str, Any]] | None:
    try:
        response = await client.post(
            f"{holder.endpoints['api']}/inzage", json={"appbeheerderverklaring": _assertion(holder, citizen)}
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return [{**record, "houder": holder.oin} for record in response.json().get("inzages", [])]


async def access_report(scheme: SchemeDocument, citizen: Citizen) -> AccessReport:
    """Ask every certified holder at once which reads of the citizen's data it recorded."""
    holders = [p for p in scheme.organisations.values() if scheme.is_certified(p.oin, HOLDER)]
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        answers = await asyncio.gather(*(_records(client, holder, citizen) for holder in holders))
    records = sorted((r for answer in answers if answer for r in answer), key=lambda r: r["tijdstip"], reverse=True)
    silent = [holder.name for holder, answer in zip(holders, answers, strict=True) if answer is None]
    return AccessReport(records, silent)
