"""The citizen's side of a correction: "Klopt dit niet?", the form, the confirmation, and "Mijn correctieverzoeken".

The form shows the field as the copy fetched in this session has it, and sends the request to the holder over
its API (:mod:`blauweknop.portal.corrections`). Nothing is sent or kept on any error: the page says what went
wrong and what to do, and keeps what was typed (a file must be chosen again). The same form sent twice (a
double click) sends one request: each form shown carries a token, and the second sending waits for the first.
The holder knows the request by a key made from that token: when its answer is lost, the form comes back with
the same token, so sending it again cannot make a second request there.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blauweknop import attachments, display, document_types
from blauweknop.display import format_value
from blauweknop.i18n import language
from blauweknop.portal import corrections, session, sharing
from blauweknop.portal.corrections import (
    MAX_EXPLANATION,
    MAX_PROPOSED,
    AlreadyAsked,
    MaybeSent,
    NotSent,
    Request,
    place,
    refusal_message,
    request_key,
)
from blauweknop.portal.models import CorrectionTicket
from blauweknop.portal.pages import arender
from blauweknop.portal.session import citizen_required
from blauweknop.portal.views import _copies, _holder
from blauweknop.protocol.scheme_document import Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)

SENT = "bk_corrections_sent"  # {"<holder oin>:<kenmerk>": deadline (ISO)}: the confirmations this session may show
KEPT_CONFIRMATIONS = 20
PENDING = "pending"
# How long a form sent twice waits for the first sending's outcome, a poll at a time: longer than a holder call.
WAIT_POLLS, WAIT_POLL_SECONDS = 60, 0.25
GUARD_SECONDS = 15 * 60  # a session's length: a form of an earlier page sent again is still the same form
MAX_PATH, MAX_POSITION = 100, 9999  # as the holder API takes them
# A request's state in plain words, and what the citizen can do now.
STATES = {
    "ontvangen": gettext_lazy("Ontvangen"),
    "in_behandeling": gettext_lazy("In behandeling"),
    "aangepast": gettext_lazy("Aangepast"),
    "afgewezen": gettext_lazy("Afgewezen"),
}


class CorrectionForm(forms.Form):
    """What the citizen says is right, why, an optional file, and whether to be told of news by e-mail."""

    formulier = forms.CharField(max_length=64, widget=forms.HiddenInput)
    voorstel = forms.CharField(
        label=gettext_lazy("Wat moet er volgens u staan?"),
        help_text=gettext_lazy("Schrijf op wat er volgens u moet staan. Bijvoorbeeld een ander bedrag of een datum."),
        max_length=MAX_PROPOSED,
        error_messages={
            "required": gettext_lazy("Schrijf op wat er volgens u moet staan."),
            "max_length": gettext_lazy("Dit is te lang. Gebruik hoogstens %(limit_value)d tekens."),
        },
    )
    toelichting = forms.CharField(
        label=gettext_lazy("Waarom klopt het niet?"),
        help_text=gettext_lazy("Leg kort uit waarom het niet klopt. Bijvoorbeeld: ik heb dit al betaald op 3 maart."),
        max_length=MAX_EXPLANATION,
        widget=forms.Textarea,
        error_messages={
            "required": gettext_lazy("Leg uit waarom het niet klopt."),
            "max_length": gettext_lazy("Dit is te lang. Gebruik hoogstens %(limit_value)d tekens."),
        },
    )
    bijlage = forms.FileField(
        label=gettext_lazy("Bewijs meesturen (mag ook niet)"),
        help_text=gettext_lazy("Bijvoorbeeld een brief of een betaalbewijs. Een PDF, PNG of JPEG van hoogstens 4 MB."),
        required=False,
    )
    nieuws = forms.BooleanField(label=gettext_lazy("Stuur mij een e-mail als er nieuws is"), required=False)
    email = forms.EmailField(
        label=gettext_lazy("Uw e-mailadres"),
        help_text=gettext_lazy("Alleen nodig als u een e-mail wilt. In de e-mail staan geen gegevens over u."),
        required=False,
        max_length=254,
        error_messages={
            "invalid": gettext_lazy("Dit is geen e-mailadres. Een e-mailadres ziet eruit als naam@voorbeeld.nl.")
        },
    )

    def clean_bijlage(self) -> attachments.Attachment | None:
        """The file, checked as the holder will check it; its size before a byte of it is read."""
        upload = self.cleaned_data.get("bijlage")
        if upload is None:
            return None
        if upload.size > attachments.MAX_BYTES:
            raise forms.ValidationError(refusal_message("attachment_too_large"))
        try:
            return attachments.check(upload.name or "", upload.content_type or "", upload.read())
        except attachments.AttachmentRefused as exc:
            raise forms.ValidationError(refusal_message(exc.code)) from exc

    def clean(self) -> dict[str, Any]:
        """An e-mail address is needed only when the citizen asks for an e-mail. A form without its token (the
        hidden field) says so once, about the whole form: there is no field to point at."""
        cleaned = super().clean() or {}
        if self.errors.pop("formulier", None):
            self.add_error(None, _("Het formulier was niet compleet. Stuur het opnieuw."))
        if cleaned.get("nieuws") and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", _("Vul uw e-mailadres in. Of zet het vinkje bij e-mail uit."))
        return cleaned


@dataclass(frozen=True)
class Shown:
    """The field the citizen asks to correct, as their copy from this session has it."""

    type_id: str
    type_name: str
    path: str  # the catalogue path
    position: int | None  # the item in a list, from 0
    label: str
    value: str
    item: str | None  # the words that name its list item, e.g. "Inkomstenbelasting, BEL-2025-001, € 605,00"


def _asked_field(query: QueryDict) -> tuple[str, str, int | None]:
    """The document type, catalogue path and position the link names; 404 for anything malformed."""
    type_id, path, position = query.get("soort", ""), query.get("veld", ""), query.get("positie")
    if not type_id or not path or len(type_id) > MAX_PATH or len(path) > MAX_PATH:
        raise Http404(_("Dit gegeven kennen we niet. Ga terug naar uw gegevens en kies het daar."))
    if position is None or position == "":
        return type_id, path, None
    if len(position) > len(str(MAX_POSITION)) or not position.isascii() or not position.isdigit():
        raise Http404(_("Dit gegeven kennen we niet. Ga terug naar uw gegevens en kies het daar."))
    return type_id, path, int(position)


async def _shown(request: HttpRequest, oin: str, scheme: SchemeDocument) -> Shown | None:
    """The field the link names, from this session's copy; ``None`` when the session holds no such copy.

    404 when the copy has no such field.
    """
    type_id, path, position = _asked_field(request.GET)
    copy = (await _copies(request, oin, scheme)).get(type_id)
    if copy is None:
        return None
    row = next((row for row in copy.rows if place(row.path) == (path, position)), None)
    if row is None:
        raise Http404(_("Dit gegeven kennen we niet. Ga terug naar uw gegevens en kies het daar."))
    item = display.item_name(copy.type, [r for r in copy.rows if r.item == row.item]) if row.item else None
    return Shown(type_id, copy.type.name[language()], path, position, row.label, row.value, item)


def _guard_key(request: HttpRequest, token: str) -> str:
    return "blauweknop:correctie:" + hashlib.sha256(f"{request.session.session_key}:{token}".encode()).hexdigest()


async def _claim(key: str) -> Any:
    """``None`` when this sending of the form is the first, so it sends; else the first one's outcome:
    ``{"reference", "deadline"}``, or :data:`PENDING` when it has not come in time.

    A first sending that failed gives the token free again: the one that waited then sends itself.
    A cache that cannot be reached lets every sending through: a request sent twice is better than none.
    """
    for _poll in range(WAIT_POLLS):
        try:
            if await cache.aadd(key, PENDING, timeout=GUARD_SECONDS):
                return None
            outcome = await cache.aget(key)
        except Exception as exc:  # any backend's error
            logger.warning("correction form guard not usable: %s", type(exc).__name__)
            return None
        if isinstance(outcome, dict):
            return outcome
        await asyncio.sleep(WAIT_POLL_SECONDS)
    return PENDING


async def _settle(key: str, outcome: dict[str, str] | None) -> None:
    """Tell a second sending of the form how the first ended; ``None``: it failed, the token is free again."""
    try:
        if outcome is None:
            await cache.adelete(key)
        else:
            await cache.aset(key, outcome, timeout=GUARD_SECONDS)
    except Exception as exc:
        logger.warning("correction form guard not writable: %s", type(exc).__name__)


async def _confirmed(request: HttpRequest, oin: str, outcome: dict[str, str]) -> HttpResponse:
    """Remember that this session may show the confirmation, and go there."""
    kept = await request.session.aget(SENT, {})
    kept[f"{oin}:{outcome['reference']}"] = outcome["deadline"]
    await request.session.aset(SENT, dict(list(kept.items())[-KEPT_CONFIRMATIONS:]))
    return redirect("portal:correction-sent", oin=oin, reference=outcome["reference"])


async def _send(
    request: HttpRequest, scheme: SchemeDocument, holder: Participant, shown: Shown, form: CorrectionForm
) -> dict[str, str]:
    """Send the request and keep the ticket; the outcome for the confirmation. :class:`NotSent` on failure.

    :class:`MaybeSent` when no answer came: a ticket is kept all the same, so that Mijn correctieverzoeken asks
    this holder, and names the request once the holder lists it.
    """
    citizen = await session.citizen(request, await request.auser())
    key = request_key(form.cleaned_data["formulier"])
    email = form.cleaned_data["email"] if form.cleaned_data["nieuws"] else ""
    try:
        sent = await corrections.submit(
            scheme,
            holder,
            citizen,
            type_id=shown.type_id,
            path=shown.path,
            position=shown.position,
            proposed=form.cleaned_data["voorstel"],
            explanation=form.cleaned_data["toelichting"],
            attachment=form.cleaned_data["bijlage"],
            key=key,
        )
    except MaybeSent:
        await corrections.keep_unsure(citizen, holder, key, email)
        raise
    if not await corrections.keep_ticket(citizen, holder, sent, key, email):
        logger.warning("holder %s gave a correction request a kenmerk it used before", holder.oin)
        raise NotSent(
            _("%(name)s gaf een verkeerd antwoord. Neem contact op met %(name)s over uw verzoek.")
            % {"name": holder.name}
        )
    logger.info("correction request %s sent to holder %s", sent.reference, holder.oin)
    return {"reference": sent.reference, "deadline": sent.deadline.isoformat()}


@citizen_required
async def correction(request: HttpRequest, oin: str) -> HttpResponse:
    """The form for one field ("Klopt dit niet?"), and sending it."""
    scheme = await scheme_client.current()
    holder = _holder(scheme, oin)
    shown = await _shown(request, oin, scheme)
    if shown is None:  # the session ended and began again, or the copy was never fetched
        messages.info(request, _("Haal eerst uw gegevens op. Kies daarna bij het gegeven: Klopt dit niet?"))
        return redirect("portal:organisation", oin=oin)
    if request.method != "POST":
        return await _form_page(request, holder, shown, CorrectionForm())
    form = CorrectionForm(request.POST, request.FILES)
    if not await sync_to_async(form.is_valid)():
        # Shown again as typed (a file must be chosen again), with a new token: another try is another sending.
        return await _form_page(request, holder, shown, form, status=400)
    key = _guard_key(request, form.cleaned_data["formulier"])
    outcome = await _claim(key)
    if outcome == PENDING:
        messages.info(request, _("Uw verzoek wordt nog verstuurd. Kijk hier over een minuut of het er is."))
        return redirect("portal:corrections")
    if outcome is not None:  # sent twice: the first sending's confirmation
        return await _confirmed(request, oin, outcome)
    try:
        outcome = await _send(request, scheme, holder, shown, form)
    except MaybeSent as exc:  # the same token again: sent once more, it is the same request at the holder
        await _settle(key, None)
        token = form.cleaned_data["formulier"]
        heading = _("Misschien is uw verzoek niet verstuurd")
        return await _form_page(
            request, holder, shown, form, problem=exc.message, heading=heading, status=503, token=token
        )
    except AlreadyAsked as exc:  # nothing new at the holder: the open request is in the list
        await _settle(key, None)
        return await _form_page(request, holder, shown, form, problem=exc.message, asked=True, status=409)
    except NotSent as exc:
        await _settle(key, None)
        return await _form_page(request, holder, shown, form, problem=exc.message, status=400)
    await _settle(key, outcome)
    return await _confirmed(request, oin, outcome)


async def _form_page(
    request: HttpRequest,
    holder: Participant,
    shown: Shown,
    form: CorrectionForm,
    *,
    problem: str | None = None,
    heading: str | None = None,
    asked: bool = False,
    status: int = 200,
    token: str | None = None,
) -> HttpResponse:
    """The form; when sent and not taken, with a summary of what went wrong first in the page.

    ``problem``: why the holder did not take it; ``heading``: the summary's heading when "not sent" is not sure;
    ``asked``: the citizen asked about this field before (a link to the list).
    """
    context = {
        "holder": holder,
        "field": shown,
        "form": form,
        "problem": problem,
        "heading": heading or _("Uw verzoek is niet verstuurd"),
        "asked": asked,
        # A file cannot be shown again: say so only when one was sent, and not refused (that says it already).
        "choose_file_again": "bijlage" in request.FILES and "bijlage" not in form.errors,
        "contact": sharing.contact(holder),
        # A new token per form shown: the same form sent twice is one click twice, a new form a new request.
        "form_token": token or secrets.token_urlsafe(16),
    }
    return await arender(request, "portal/correction_form.html", context, status=status)


@citizen_required
async def sent(request: HttpRequest, oin: str, reference: str) -> HttpResponse:
    """The confirmation: the kenmerk, the date by which the holder decides, what happens next, whom to ask."""
    deadline = (await request.session.aget(SENT, {})).get(f"{oin}:{reference}")
    if deadline is None:  # only the session that sent it: a kenmerk alone shows nothing; the list shows them all
        messages.info(
            request,
            _(
                "De bevestiging van een verzoek ziet u alleen direct na het versturen. Hier ziet u al uw verzoeken, "
                "en hoe het ervoor staat."
            ),
        )
        return redirect("portal:corrections")
    scheme = await scheme_client.current()
    holder = _holder(scheme, oin)
    ticket = await CorrectionTicket.objects.filter(holder_oin=oin, reference=reference).afirst()
    context = {
        "holder": holder,
        "reference": reference,
        "deadline": datetime.fromisoformat(deadline),
        "email": bool(ticket and ticket.email),
        "contact": sharing.contact(holder),
    }
    return await arender(request, "portal/correction_sent.html", context)


def _field_label(scheme: SchemeDocument, request: Request) -> str:
    """The field in plain words: its catalogue label, and which item of a list it is in (the holder's words for
    the item, else its number)."""
    document_type = document_types.of(scheme).get(request.type_id)
    field = document_type.field(request.path) if document_type else None
    label = field.label[language()] if field else request.path
    if request.position is None:
        return label
    if request.item:
        return f"{label} ({request.item})"
    return _("%(label)s (onderdeel %(n)d)") % {"label": label, "n": request.position + 1}


def _new_value(scheme: SchemeDocument, request: Request) -> str | None:
    """The value the holder wrote, as people write it; ``None`` when it gave none."""
    if request.new_value is None or isinstance(request.new_value, dict | list):
        return None
    document_type = document_types.of(scheme).get(request.type_id)
    field = document_type.field(request.path) if document_type else None
    if field is None:
        return str(request.new_value)[: corrections.MAX_SHOWN_TEXT]
    return field.words(request.new_value, language()) or format_value(field.kind, request.new_value)


def _day(moment: datetime | None) -> str:
    return formats.date_format(timezone.localtime(moment), "j F Y") if moment else ""


@citizen_required
async def my_requests(request: HttpRequest) -> HttpResponse:
    """Mijn correctieverzoeken: every request the citizen sent through this portal, as each holder says it is now."""
    scheme = await scheme_client.current()
    citizen = await session.citizen(request, await request.auser())
    found = await corrections.requests_of(scheme, citizen, language())
    shown = [
        {
            "request": r,
            "field": _field_label(scheme, r),
            "state": STATES[r.state],
            "deadline": _day(r.deadline),
            "first_deadline": formats.date_format(r.first_deadline, "j F Y"),
            "contact": sharing.contact(r.holder),
            "decided_at": _day(r.decided_at),
            "new_value": _new_value(scheme, r),
        }
        for r in found.requests
    ]
    return await arender(request, "portal/correction_list.html", {"requests": shown, "silent": found.silent})
