"""The portal's side of correction requests: send a citizen's request to the holder, and ask holders for their state.

Everything goes over the holder API with a fresh session assertion per call, as every call about a citizen
(:mod:`blauweknop.portal.holders`). The request itself stays at the holder; the portal keeps only a ticket
(:class:`~blauweknop.portal.models.CorrectionTicket`): which holder, which kenmerk, and an e-mail address only
when the citizen asked to be told of news.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings
from django.db import IntegrityError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blauweknop.attachments import Attachment
from blauweknop.db import release_before_waiting
from blauweknop.portal.holders import RETRY_NEEDS, RETRY_PAUSE, Answer, Citizen, _assertion, _post, http_client
from blauweknop.portal.models import CorrectionTicket
from blauweknop.protocol.scheme_document import Participant, SchemeDocument

logger = logging.getLogger(__name__)

# The holder API's caps on what a citizen writes (docs/corrections.md): the form says so before anything is sent.
MAX_PROPOSED = 500
MAX_EXPLANATION = 2000
# A holder's kenmerk as the portal keeps it (CorrectionTicket.reference): anything else is not shown or kept.
KENMERK = re.compile(r"[A-Za-z0-9-]{1,16}")
STATES = ("ontvangen", "in_behandeling", "aangepast", "afgewezen")
# A ticket whose request may or may not have reached the holder (its answer was lost) has, until the holder's
# list names its kenmerk, this mark and the start of the request's key as reference: no kenmerk starts so.
UNSURE = "~"
SEND_WITHIN = 25.0  # seconds for sending a request and, after a lost answer, sending it once more
MAX_SHOWN_TEXT = 2000  # a holder's reason or value longer than this is cut for the page
MAX_REQUESTS_SHOWN = 200  # per holder: more is not a citizen's own list
MAX_ITEM_WORDS = 200  # the words naming a request's list item ("Inkomstenbelasting, BEL-2025-001")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # where the holder's deadlines are counted (docs/corrections.md)
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


class MaybeSent(NotSent):
    """The holder's answer did not come (a timeout, a 5xx, twice): it may have stored the request, or not."""


class AlreadyAsked(NotSent):
    """The citizen has an open request about this field at the holder already (409 ``already_asked``)."""


@dataclass(frozen=True)
class Sent:
    """The holder took the request in: its kenmerk, and the date by which it decides."""

    reference: str
    deadline: datetime


def request_key(form_token: str) -> str:
    """The key the holder knows the request by (``verzoeksleutel``), from the form's one-time token: the same form
    sent again is the same request there."""
    return hashlib.sha256(f"blauweknop-correctieverzoek:{form_token}".encode()).hexdigest()


def unsure_reference(key: str) -> str:
    """The reference of a ticket for the request with ``key`` while its kenmerk is not known."""
    return UNSURE + key[:15]


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
    first_deadline: date  # the deadline before any extension
    deadline: datetime
    extended: bool
    extension_reason: str
    decided_at: datetime | None
    decision_reason: str
    new_value: Any
    key: str  # the portal's verzoeksleutel, "" when none
    item: str  # the words naming the list item the field is in ("onderdeel"), "" when the holder gave none


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
    key: str,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "appbeheerderverklaring": assertion,
        "verzoeksleutel": key,
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


def first_deadline(received_at: datetime) -> date:
    """The day by which the holder decides before any extension: one calendar month after receipt, in Amsterdam
    (31 January: 28 or 29 February), as the holder counts it."""
    day = received_at.astimezone(AMSTERDAM).date()
    year, month = divmod(day.month, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _day_of(value: Any) -> date | None:
    """A day (``2026-12-30``, or a moment in a time zone: its day in Amsterdam) from a holder's answer, or ``None``."""
    moment = _moment(value)
    if moment is not None:
        return moment.astimezone(AMSTERDAM).date()
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _unanswered(answer: Answer | httpx.HTTPError) -> bool:
    """Whether the holder may have stored the request without saying so: no answer came, or a 5xx did."""
    if isinstance(answer, httpx.HTTPError):
        return not isinstance(answer, httpx.ConnectError | httpx.ConnectTimeout)  # those sent nothing
    return answer.status >= 500


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
    key: str,
) -> Sent:
    """Send the request to ``holder`` under ``key`` (:func:`request_key`); :class:`NotSent` when it did not get
    there or was refused, :class:`MaybeSent` when no answer came twice.

    ``path``: the field's catalogue path; ``position``: the item in a list, counted from 0. When the answer is
    lost (a timeout, a dropped connection, a 5xx), the request is sent once more with the same key, if
    :data:`SEND_WITHIN` leaves time: a holder that stored it the first time answers its kenmerk again.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SEND_WITHIN
    unsure = False
    answer: Answer | httpx.HTTPError = httpx.TransportError("not sent")
    await release_before_waiting()
    async with http_client() as client:
        for attempt in range(2):
            if attempt and loop.time() + max(RETRY_PAUSE) + RETRY_NEEDS > deadline:
                break
            if attempt:
                logger.info("sending a correction request to holder %s again", holder.oin)
                await asyncio.sleep(RETRY_PAUSE[0])
            assertion = _assertion(scheme, holder, citizen)  # each sending its own: the holder uses one up
            payload = _payload(assertion, type_id, path, position, proposed, explanation, attachment, key)
            try:
                async with asyncio.timeout_at(deadline):
                    answer = await _post(client, holder, "correctieverzoeken", payload)
            except (httpx.HTTPError, TimeoutError) as exc:
                answer = exc if isinstance(exc, httpx.HTTPError) else httpx.ReadTimeout("past the deadline")
            unsure = unsure or _unanswered(answer)
            if isinstance(answer, Answer) and answer.status < 500:
                break
    return _outcome(holder, answer, unsure)


def _outcome(holder: Participant, answer: Answer | httpx.HTTPError, unsure: bool) -> Sent:
    """What the last answer says: the request's kenmerk, or why it is not sent (or may be)."""
    if isinstance(answer, httpx.HTTPError) or answer.status >= 500:
        detail = type(answer).__name__ if isinstance(answer, httpx.HTTPError) else f"HTTP {answer.status}"
        logger.warning("holder %s did not answer a correction request (%s)", holder.oin, detail)
        if unsure:
            raise MaybeSent(
                _(
                    "%(name)s gaf geen antwoord. Misschien is uw verzoek toch aangekomen. Kijk over een uur in "
                    "Mijn correctieverzoeken. Staat het er niet? Druk dan hieronder nog eens op de knop. U krijgt "
                    "dan geen dubbel verzoek."
                )
                % {"name": holder.name}
            )
        raise NotSent(
            _("%(name)s is nu niet bereikbaar. Uw verzoek is niet verstuurd. Probeer het later nog eens.")
            % {"name": holder.name}
        )
    body = answer.body if isinstance(answer.body, dict) else {}
    reference, deadline = body.get("kenmerk"), _moment(body.get("uiterlijkeBeslisdatum"))
    if answer.status in (200, 201) and isinstance(reference, str) and KENMERK.fullmatch(reference) and deadline:
        return Sent(reference, deadline)
    code = answer.error_code()
    logger.warning("holder %s refused a correction request: HTTP %d, code %s", holder.oin, answer.status, code)
    if answer.status == 409 and code == "already_asked":
        asked = body.get("kenmerk")
        raise AlreadyAsked(
            _(
                "U vroeg al om verbetering van dit gegeven (kenmerk %(reference)s). %(name)s beslist daar nog over. "
                "U ziet het in Mijn correctieverzoeken."
            )
            % {"reference": asked, "name": holder.name}
            if isinstance(asked, str) and KENMERK.fullmatch(asked)
            else _(
                "U vroeg al om verbetering van dit gegeven. %(name)s beslist daar nog over. "
                "U ziet het in Mijn correctieverzoeken."
            )
            % {"name": holder.name}
        )
    if code == "too_many_requests":
        raise NotSent(
            _(
                "U heeft al veel verzoeken gestuurd naar %(name)s. Daarom kunt u nu geen nieuw verzoek sturen. "
                "Wacht tot %(name)s over een van uw verzoeken beslist. Of probeer het morgen opnieuw. "
                "In Mijn correctieverzoeken ziet u uw verzoeken. Is het dringend? Neem dan contact op met %(name)s."
            )
            % {"name": holder.name}
        )
    if code in REFUSALS:
        raise NotSent(refusal_message(code))
    raise NotSent(
        _(
            "%(name)s nam uw verzoek nu niet aan. Uw verzoek is niet verstuurd. Probeer het later nog eens. "
            "Lukt het dan nog niet? Neem contact op met %(name)s."
        )
        % {"name": holder.name}
    )


async def keep_ticket(citizen: Citizen, holder: Participant, sent: Sent, key: str, email: str) -> bool:
    """Keep the ticket of a request the holder took in (a ticket kept while unsure gets its kenmerk now);
    ``False`` when another citizen's ticket has that kenmerk: the holder's answer cannot be trusted."""
    tickets = CorrectionTicket.objects
    await tickets.filter(holder_oin=holder.oin, subject=citizen.pseudonym, reference=unsure_reference(key)).adelete()
    ticket, _created = await tickets.aget_or_create(
        holder_oin=holder.oin, reference=sent.reference, defaults={"subject": citizen.pseudonym, "email": email}
    )
    return ticket.subject == citizen.pseudonym


async def keep_unsure(citizen: Citizen, holder: Participant, key: str, email: str) -> None:
    """Keep a ticket for a request that may have reached the holder: Mijn correctieverzoeken then asks the
    holder, and its list gives the ticket its kenmerk (:func:`requests_of`)."""
    await CorrectionTicket.objects.aget_or_create(
        holder_oin=holder.oin,
        reference=unsure_reference(key),
        defaults={"subject": citizen.pseudonym, "email": email},
    )


async def _name_unsure(citizen: Citizen, found: list[Request]) -> None:
    """Give each ticket kept while unsure the kenmerk of the request its key names, now that a holder listed it."""
    unsure = CorrectionTicket.objects.filter(subject=citizen.pseudonym, reference__startswith=UNSURE)
    waiting = {(t.holder_oin, t.reference): t.pk async for t in unsure}
    for request in found:
        pk = waiting.get((request.holder.oin, unsure_reference(request.key))) if request.key else None
        if pk is None:
            continue
        try:
            await CorrectionTicket.objects.filter(pk=pk).aupdate(reference=request.reference)
        except IntegrityError:  # a ticket with the kenmerk is there already
            await CorrectionTicket.objects.filter(pk=pk).adelete()


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
        first_deadline=_day_of(entry.get("eersteBeslisdatum")) or first_deadline(received),
        deadline=deadline,
        extended=entry.get("verlengd") is True,
        extension_reason=_text(entry.get("verlengingReden")),
        decided_at=_moment(entry.get("besluitOp")),
        decision_reason=_text(entry.get("besluitReden")),
        new_value=entry.get("nieuweWaarde"),
        key=entry["verzoeksleutel"][:64] if isinstance(entry.get("verzoeksleutel"), str) else "",
        item=_text(entry.get("onderdeel"))[:MAX_ITEM_WORDS],
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


async def requests_of(scheme: SchemeDocument, citizen: Citizen, language: str = "nl") -> Requests:
    """Ask every holder the citizen has tickets with, at once, for their requests, newest first; in ``language``
    the holders' own words (a list item's ``onderdeel``).

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
        client.headers["Accept-Language"] = language
        answers = await asyncio.gather(*(_of_holder(client, scheme, h, citizen, deadline) for h in holders))
    found = [request for answer in answers if answer for request in answer]
    silent += [holder.name for holder, answer in zip(holders, answers, strict=True) if answer is None]
    await _name_unsure(citizen, found)
    return Requests(sorted(found, key=lambda r: r.received_at, reverse=True), silent)
