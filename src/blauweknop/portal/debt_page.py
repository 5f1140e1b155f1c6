"""The debt overview page (/overzicht/schulden/) and its signed bundle to download.

The shell around :mod:`blauweknop.portal.debts` and :mod:`blauweknop.portal.bundle`: it reads this
session's answers (fetched on /overzicht/ or with a holder's button), the scheme and the day, and
renders. Nothing is fetched here: the copies were verified when they came in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from blauweknop import document_types
from blauweknop.portal import bundle, data_page, events, session
from blauweknop.portal.debts import DEBT_TYPES, SORTS, Overview, overview, subject
from blauweknop.portal.downloads import first_served, repeat_key, served_before
from blauweknop.portal.pages import arender
from blauweknop.portal.session import citizen_required
from blauweknop.protocol import sdjwt
from blauweknop.protocol.scheme_document import HOLDER, REVOKED, Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

PRINT = "afdrukken"  # ?weergave=afdrukken: the page without forms, to print


@dataclass(frozen=True)
class _Session:
    """What this session holds about debts: the copies by (holder, type), and each holder's answer."""

    credentials: dict[tuple[str, str], str]
    outcomes: dict[str, str]
    delivered: dict[str, set[str]]  # per holder: the debt types it gave a copy of or said it has none of


async def _from_session(request: HttpRequest) -> _Session:
    answers = await session.answers(request)
    credentials = {
        (oin, type_id): credential
        for oin, answer in answers.items()
        for type_id, credential in answer.credentials.items()
        if type_id in DEBT_TYPES
    }
    delivered = {
        # A press at a holder's button keeps what it has none of in the session itself, not in its answer.
        oin: set(answer.credentials) | set(answer.absent) | set(await session.absent(request, oin))
        for oin, answer in answers.items()
    }
    return _Session(credentials, {oin: a.outcome for oin, a in answers.items()}, delivered)


def _holders(scheme: SchemeDocument) -> dict[str, Participant]:
    """The holders whose answer the overview needs: the certified ones, and the suspended ones to name as missing."""
    return {oin: p for oin, p in scheme.organisations.items() if HOLDER in p.roles and p.certification != REVOKED}


def _overview(kept: _Session, scheme: SchemeDocument, query: Any) -> tuple[Overview, str | None]:
    """The overview as ``query`` asks to see it, and whom it is about (from the first copy that names the person)."""
    copies = {key: sdjwt.unverified_claims(credential) for key, credential in sorted(kept.credentials.items())}
    person = next((named for claims in copies.values() if (named := subject(claims))), None)
    return overview(
        _holders(scheme),
        document_types.of(scheme),
        copies,
        kept.outcomes,
        kept.delivered,
        query,
        timezone.localdate(),
    ), person


@citizen_required
async def debts(request: HttpRequest) -> HttpResponse:
    """Every debt from every organisation in one list, with totals, a filter and a print view."""
    scheme = await scheme_client.current()
    kept = await _from_session(request)
    found, person = _overview(kept, scheme, request.GET)
    printing = request.GET.get("weergave") == PRINT
    context = {
        "asked": bool(kept.outcomes),
        "overview": found,
        "person": person,
        "sorts": SORTS,
        "printing": printing,
        "today": timezone.localdate(),
        "form_token": secrets.token_urlsafe(16),
    }
    return await arender(request, "portal/debts_print.html" if printing else "portal/debts.html", context)


@citizen_required
async def download_bundle(request: HttpRequest) -> HttpResponse:
    """Every source's certified copy of its debts and one signed PDF over them all, as one ZIP.

    The same form sent again within seconds (a double click) gets no second file: 204 keeps the page.
    """
    if request.method != "POST":
        return redirect("portal:debts")
    repeat = repeat_key(request.session.session_key or "", request.POST)
    if await served_before(repeat):
        return HttpResponse(status=204)
    scheme, today = await scheme_client.current(), timezone.localdate()
    kept = await _from_session(request)
    holders, catalogue = _holders(scheme), document_types.of(scheme)
    parts = [
        bundle.part(holders[oin], document_type, credential, today)
        for (oin, type_id), credential in sorted(kept.credentials.items())
        if oin in holders and holders[oin].is_certified
        if (document_type := data_page.copy_type(catalogue, type_id, sdjwt.unverified_claims(credential)))
    ]
    if not parts:
        messages.error(request, _("Er zijn nog geen schulden om te downloaden. Haal eerst uw gegevens op."))
        return redirect("portal:debts")
    found, _person = _overview(kept, scheme, {})
    try:  # laying out and signing the PDF takes a core for a moment: not on the thread that serves pages
        body = await sync_to_async(bundle.make, thread_sensitive=False)(scheme, parts, found, today)
    except bundle.TooLarge:
        messages.error(request, _("Het overzicht is te groot om te downloaden. Download de kopieën per organisatie."))
        return redirect("portal:debts")
    if await first_served(repeat):  # a click sent twice before the first answer came is one download
        citizen = await session.citizen(request, await request.auser())
        for p in parts:
            await events.record_download(citizen, p.holder.oin, p.type.id, "sdjwt")
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="schuldenoverzicht-{today.isoformat()}.zip"'
    return response
