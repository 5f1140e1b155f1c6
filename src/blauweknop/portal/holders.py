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
from blauweknop.protocol.scheme_document import Participant, SchemeDocument


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


async def _fetch(
    client: httpx.AsyncClient, scheme: SchemeDocument, holder: Participant, type_id: str, citizen: Citizen
) -> Fetched:
    assertion = session_assertion.sign(
        keystore.signing_key(settings.PORTAL_OIN),
        app_manager_oin=settings.PORTAL_OIN,
        holder_oin=holder.oin,
        bsn=citizen.bsn,
        assurance_level=citizen.assurance_level,
        wallet_jwk=citizen.wallet_jwk,
    )
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
