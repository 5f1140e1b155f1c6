"""The portal's side of correction requests: send a citizen's request to the holder, and ask holders for their state.

Everything goes over the holder API with a fresh session assertion per call, as every call about a citizen
(:mod:`blauweknop.portal.holders`). The request itself stays at the holder; the portal keeps only a ticket
(:class:`~blauweknop.portal.models.CorrectionTicket`): which holder, which kenmerk, and an e-mail address only
when the citizen asked to be told of news.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blauweknop.attachments import Attachment
from blauweknop.db import release_before_waiting
from blauweknop.portal.holders import Citizen, _assertion, _post, http_client
from blauweknop.portal.models import CorrectionTicket
from blauweknop.protocol.scheme_document import Participant, SchemeDocument

logger = logging.getLogger(__name__)

# The holder API's caps on what a citizen writes (docs/corrections.md): the form says so before anything is sent.
MAX_PROPOSED = 500
MAX_EXPLANATION = 2000
# A holder's kenmerk as the portal keeps it (CorrectionTicket.reference): anything else is not shown or kept.
KENMERK = re.compile(r"[A-Za-z0-9-]{1,16}")
STATES = ("ontvangen", "in_behandeling", "aangepast", "afgewezen")
MAX_SHOWN_TEXT = 2000  # a holder's reason or value longer than this is cut for the page
MAX_REQUESTS_SHOWN = 200  # per holder: more is not a citizen's own list
# What a holder's refusal means for the citizen, by its problem code; others get the general sentence.
REFUSALS = {
    "attachment_empty": gettext_lazy("Het bestand dat u koos is leeg. Kies een ander bestand, of stuur geen bestand."),
    "attachment_too_large": gettext_lazy("Het bestand is te groot. Een bestand mag hoogstens 4 MB zijn."),
    "attachment_type": gettext_lazy("Dit soort bestand kunnen we niet sturen. Kies een PDF, PNG of JPEG."),
    "attachment_mismatch": gettext_lazy(
        "Het bestand is niet wat de naam zegt. Kies een echte PDF, PNG of JPEG. Maak bijvoorbeeld een nieuwe foto "
        "of scan."
    ),
}


class NotSent(Exception):
    """The request did not reach the holder, or the holder refused it: nothing is kept. ``message`` is for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sent:
    """The holder took the request in: its kenmerk, and the date by which it decides."""

    reference: str
    deadline: datetime


@dataclass(frozen=True)
class Request:
    """One correction request as a holder said it is now, checked and capped; for the citizen's list."""

    holder: Participant
    reference: str
    type_id: str
    path: str
    position: int | None
    proposed: str
    state: str
    received_at: datetime
    deadline: datetime
    extended: bool
    extension_reason: str
    decided_at: datetime | None
    decision_reason: str
    new_value: Any


@dataclass(frozen=True)
class Requests:
    """The citizen's requests at every holder asked, and the names of the holders that could not say."""

    requests: list[Request]
    silent: list[str]


def place(concrete: str) -> tuple[str, int | None]:
    """A field's catalogue path and its item's position (from 0) in a list, from its concrete path:
    ``vorderingen.2.openstaandBedragInCenten`` is ``("vorderingen.openstaandBedragInCenten", 2)``."""
    parts = concrete.split(".")
    positions = [int(part) for part in parts if part.isdigit()]
    return ".".join(part for part in parts if not part.isdigit()), positions[0] if positions else None


def refusal_message(code: str) -> str:
    """The plain sentence for an attachment refused with ``code`` (here or by the holder)."""
    return str(REFUSALS.get(code, REFUSALS["attachment_mismatch"]))


def _payload(
    assertion: str,
    type_id: str,
    path: str,
    position: int | None,
    proposed: str,
    explanation: str,
    attachment: Attachment | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "appbeheerderverklaring": assertion,
        "documentsoort": type_id,
        "veld": path,
        "voorgesteldeWaarde": proposed,
        "toelichting": explanation,
    }
    if position is not None:
        payload["positie"] = position
    if attachment is not None:
        payload["bijlage"] = {
            "bestandsnaam": attachment.name,
            "mediatype": attachment.media_type,
            "inhoud": base64.b64encode(attachment.data).decode("ascii"),
        }
    return payload


def _moment(value: Any) -> datetime | None:
    """A moment in a time zone from a holder's answer, or ``None``."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


async def submit(
    scheme: SchemeDocument,
    holder: Participant,
    citizen: Citizen,
    *,
    type_id: str,
    path: str,
    position: int | None,
    proposed: str,
    explanation: str,
    attachment: Attachment | None,
) -> Sent:
    """Send the request to ``holder``; :class:`NotSent` when it did not get there or was refused.

    ``path``: the field's catalogue path; ``position``: the item in a list, counted from 0.
    """
    payload = _payload(_assertion(scheme, holder, citizen), type_id, path, position, proposed, explanation, attachment)
    await release_before_waiting()
    try:
        async with http_client() as client:
            answer = await _post(client, holder, "correctieverzoeken", payload)
    except httpx.HTTPError as exc:
        logger.warning("holder %s not reachable for a correction request (%s)", holder.oin, type(exc).__name__)
        raise NotSent(
            _("%(name)s is nu niet bereikbaar. Uw verzoek is niet verstuurd. Probeer het later nog eens.")
            % {"name": holder.name}
        ) from exc
    body = answer.body if isinstance(answer.body, dict) else {}
    reference, deadline = body.get("kenmerk"), _moment(body.get("uiterlijkeBeslisdatum"))
    if answer.status == 201 and isinstance(reference, str) and KENMERK.fullmatch(reference) and deadline:
        return Sent(reference, deadline)
    code = answer.error_code()
    logger.warning("holder %s refused a correction request: HTTP %d, code %s", holder.oin, answer.status, code)
    if code in REFUSALS and answer.status < 500:
        raise NotSent(refusal_message(code))
    raise NotSent(
        _(
            "%(name)s nam uw verzoek nu niet aan. Uw verzoek is niet verstuurd. Probeer het later nog eens. "
            "Lukt het dan nog niet? Neem contact op met %(name)s."
        )
        % {"name": holder.name}
    )


def _text(value: Any) -> str:
    return value[:MAX_SHOWN_TEXT] if isinstance(value, str) else ""


def _request(holder: Participant, entry: Any) -> Request | None:
    """One entry of a holder's list, if it is well formed; ``None`` if not."""
    if not isinstance(entry, dict):
        return None
    reference, state, position = entry.get("kenmerk"), entry.get("status"), entry.get("positie")
    received, deadline = _moment(entry.get("ontvangenOp")), _moment(entry.get("uiterlijkeBeslisdatum"))
    if (
        not isinstance(reference, str)
        or not KENMERK.fullmatch(reference)
        or state not in STATES
        or received is None
        or deadline is None
        or not isinstance(entry.get("documentsoort"), str)
        or not isinstance(entry.get("veld"), str)
        or not (position is None or (isinstance(position, int) and not isinstance(position, bool) and position >= 0))
    ):
        return None
    return Request(
        holder=holder,
        reference=reference,
        type_id=entry["documentsoort"][:100],
        path=entry["veld"][:100],
        position=position,
        proposed=_text(entry.get("voorgesteldeWaarde")),
        state=state,
        received_at=received,
        deadline=deadline,
        extended=entry.get("verlengd") is True,
        extension_reason=_text(entry.get("verlengingReden")),
        decided_at=_moment(entry.get("besluitOp")),
        decision_reason=_text(entry.get("besluitReden")),
        new_value=entry.get("nieuweWaarde"),
    )


async def _of_holder(
    client: httpx.AsyncClient, scheme: SchemeDocument, holder: Participant, citizen: Citizen, deadline: float
) -> list[Request] | None:
    """The citizen's requests at ``holder``; ``None`` when it did not answer in time or not usably."""
    try:
        payload = {"appbeheerderverklaring": _assertion(scheme, holder, citizen)}
        async with asyncio.timeout_at(deadline):
            answer = await _post(client, holder, "correctieverzoeken/opvragen", payload)
    except (httpx.HTTPError, TimeoutError) as exc:
        logger.warning("holder %s not reachable for correction requests (%s)", holder.oin, type(exc).__name__)
        return None
    entries = answer.body.get("correctieverzoeken") if answer.status == 200 and isinstance(answer.body, dict) else None
    found = [_request(holder, e) for e in entries[:MAX_REQUESTS_SHOWN]] if isinstance(entries, list) else [None]
    if any(request is None for request in found):
        logger.warning(
            "holder %s gave no usable correction requests: HTTP %d, code %s",
            holder.oin,
            answer.status,
            answer.error_code(),
        )
        return None
    return [request for request in found if request is not None]


async def holders_asked(scheme: SchemeDocument, citizen: Citizen) -> list[Participant | str]:
    """The holders the citizen sent requests to through this portal: a participant, or the OIN of one the
    scheme no longer lists."""
    tickets = CorrectionTicket.objects.filter(subject=citizen.pseudonym).values_list("holder_oin", flat=True)
    oins = sorted({oin async for oin in tickets.distinct()})
    return [scheme.organisations.get(oin) or oin for oin in oins]


async def requests_of(scheme: SchemeDocument, citizen: Citizen) -> Requests:
    """Ask every holder the citizen has tickets with, at once, for their requests, newest first.

    A holder that has not answered within ``settings.OVERVIEW_TIMEOUT`` (or no longer has an address in the
    scheme) is named as silent; the others are shown all the same.
    """
    asked = await holders_asked(scheme, citizen)
    holders = [h for h in asked if isinstance(h, Participant) and "api" in h.endpoints]
    silent = [h for h in asked if isinstance(h, str)]
    silent += [h.name for h in asked if isinstance(h, Participant) and "api" not in h.endpoints]
    if not holders:
        return Requests([], silent)
    deadline = asyncio.get_running_loop().time() + settings.OVERVIEW_TIMEOUT
    await release_before_waiting()
    async with http_client(len(holders)) as client:
        answers = await asyncio.gather(*(_of_holder(client, scheme, h, citizen, deadline) for h in holders))
    found = [request for answer in answers if answer for request in answer]
    silent += [holder.name for holder, answer in zip(holders, answers, strict=True) if answer is None]
    return Requests(sorted(found, key=lambda r: r.received_at, reverse=True), silent)
