"""The citizen's pages of Basis: the organisations, the Blauwe Knop, the data, the downloads.

The views are async: they reach the scheme and the holders over HTTP, also when those run in
this process, and must not hold the one thread that serves them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.i18n import set_language

from blauweknop import document_types
from blauweknop.display import Row, rows
from blauweknop.document_types import DocumentType
from blauweknop.i18n import language
from blauweknop.portal import data_page, events, session
from blauweknop.portal.downloads import csv_text, file_name, first_served, repeat_key, served_before
from blauweknop.portal.holders import fetch_all
from blauweknop.portal.pages import arender
from blauweknop.portal.printed import print_checkable
from blauweknop.portal.selection import chosen, select, ticked_by_default
from blauweknop.portal.session import citizen_required
from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument
from blauweknop.scheme.client import scheme_client

FORMATS = ("sdjwt", "pdf", "json", "csv")


def _holder(scheme: SchemeDocument, oin: str) -> Participant:
    """The certified holder ``oin``, or 404: the portal only shows organisations in the scheme."""
    participant = scheme.organisations.get(oin)
    if participant is None or not scheme.is_certified(oin, HOLDER):
        raise Http404(_("Deze organisatie doet niet mee aan de Blauwe Knop."))
    return participant


async def home(request: HttpRequest) -> HttpResponse:
    """What the Blauwe Knop is, and the organisations where it can be pressed."""
    scheme = await scheme_client.current()
    holders = sorted(
        (p for p in scheme.organisations.values() if scheme.is_certified(p.oin, HOLDER)), key=lambda p: p.name
    )
    return await arender(request, "portal/home.html", {"holders": holders})


@citizen_required
async def organisation(request: HttpRequest, oin: str) -> HttpResponse:
    """The organisation's Mijn-omgeving with the Blauwe Knop."""
    scheme = await scheme_client.current()
    holder = _holder(scheme, oin)
    catalogue = document_types.of(scheme)
    types = [t for t in map(catalogue.get, holder.document_types) if t is not None]
    return await arender(request, "portal/organisation.html", {"holder": holder, "types": types})


@citizen_required
async def press(request: HttpRequest, oin: str) -> HttpResponse:
    """The Blauwe Knop: fetch certified copies of everything this holder has about the citizen."""
    if request.method != "POST":  # e.g. back from DigiD after the session ran out: start from the button
        return redirect("portal:organisation", oin=oin)
    user = await request.auser()
    scheme = await scheme_client.current()
    holder = _holder(scheme, oin)
    citizen = await session.citizen(request, user)
    fetched = await fetch_all(scheme, holder, citizen)
    await session.keep_credentials(request, oin, {f.type_id: f.credential for f in fetched if f.credential})
    await session.forget_choices(request, oin)
    # Nothing to fetch is no failure: the data page says it as plain information, as long as the session lasts.
    await session.keep_absent(request, oin, [f.type_id for f in fetched if f.absent])
    for problem in {f.problem for f in fetched if f.problem}:
        messages.error(request, problem)  # stored by the (sync) middleware, after this view
    return redirect("portal:data", oin=oin)


@dataclass(frozen=True)
class _Copy:
    """A copy fetched in this session, as the data page offers it: its type, its data and its fields."""

    type: DocumentType
    credential: str
    claims: dict[str, Any]
    rows: list[Row]


async def _copies(request: HttpRequest, oin: str, scheme: SchemeDocument) -> dict[str, _Copy]:
    catalogue, copies = document_types.of(scheme), {}
    for type_id, credential in (await session.credentials(request, oin)).items():
        signed = sdjwt.unverified_claims(credential)
        if (document_type := data_page.copy_type(catalogue, type_id, signed)) is not None:
            claims = _data_claims(signed)
            copies[type_id] = _Copy(document_type, credential, claims, rows(document_type, claims))
    return copies


def _chosen(form: QueryDict, type_id: str, copy: _Copy) -> list[str]:
    return chosen(form.getlist(f"veld-{type_id}"), form.getlist(f"onderdeel-{type_id}"), copy.rows)


@citizen_required
async def data(request: HttpRequest, oin: str) -> HttpResponse:
    """The citizen's data from this holder, per category, with every field to choose.

    A field starts ticked unless the catalogue marks it as special; after a download, an error or a
    language switch the boxes show what the citizen last sent. One form holds every category, so
    that the language switch can send along what was ticked.
    """
    scheme = await scheme_client.current()
    holder = _holder(scheme, oin)
    catalogue = document_types.of(scheme)
    kept, today = await session.choices(request, oin), timezone.localdate()
    categories = [
        data_page.category(
            copy.type,
            copy.claims,
            set(kept[type_id]) if type_id in kept else ticked_by_default(copy.type, [row.path for row in copy.rows]),
            today,
        )
        for type_id, copy in (await _copies(request, oin, scheme)).items()
    ]
    absent = [t for t in map(catalogue.get, await session.absent(request, oin)) if t is not None]
    context = {
        "oin": oin,
        "holder": holder,
        "categories": categories,
        "nothing_of": [data_page.nothing_of(t, holder.name) for t in absent],
        # Every type the holder issues answered "none": there is nothing to download, and pressing again will not help.
        "nothing_at_all": not categories and bool(absent) and set(holder.document_types) <= {t.id for t in absent},
        "nothing_chosen": await session.nothing_chosen(request, oin),
        # A new token per page shown: the same form sent twice is one click twice, a new page a new choice.
        "form_token": secrets.token_urlsafe(16),
    }
    return await arender(request, "portal/data.html", context)


@citizen_required
async def switch_language(request: HttpRequest, oin: str) -> HttpResponse:
    """The language switch of the data page: keep what the citizen ticked, then switch as anywhere else."""
    if request.method != "POST":
        return redirect("portal:data", oin=oin)
    copies = await _copies(request, oin, await scheme_client.current())
    await session.keep_choices(request, oin, {t: _chosen(request.POST, t, copy) for t, copy in copies.items()})
    return set_language(request)


@citizen_required
async def download(request: HttpRequest, oin: str) -> HttpResponse:
    """The chosen fields of one category: a PDF, a signed copy (.sdjwt), CSV or JSON.

    The same form sent again within seconds (a double click) gets no second file: 204 keeps the page.
    """
    if request.method != "POST":  # e.g. back from DigiD after the session ran out
        return redirect("portal:data", oin=oin)
    scheme = await scheme_client.current()
    copies = await _copies(request, oin, scheme)
    choices = {t: _chosen(request.POST, t, copy) for t, copy in copies.items()}
    await session.keep_choices(request, oin, choices)
    type_id, _colon, fmt = request.POST.get("download", "").partition(":")
    if type_id not in copies or fmt not in FORMATS:
        messages.error(request, _("Die download kennen we niet. Druk opnieuw op de Blauwe Knop."))
        return redirect("portal:data", oin=oin)
    if not choices[type_id]:  # said in the section of the button pressed, where the page opens
        await session.note_nothing_chosen(request, oin, type_id)
        return redirect(reverse("portal:data", kwargs={"oin": oin}) + f"#soort-{type_id}")
    repeat = repeat_key(request.session.session_key or "", request.POST)
    if await served_before(repeat):
        return HttpResponse(status=204)
    copy, paths = copies[type_id], choices[type_id]
    document_type, credential, claims = copy.type, copy.credential, copy.claims
    holder = _holder(scheme, oin)
    citizen = await session.citizen(request, await request.auser())
    if fmt == "pdf":
        printed = await print_checkable(
            scheme, holder, citizen, sdjwt_vc.present(credential, paths), language(), type_id
        )
        if printed is None:
            messages.error(
                request, _("De PDF kon nu niet worden gemaakt. Probeer het later nog eens, of download de kopie.")
            )
            return redirect("portal:data", oin=oin)
        body, content_type = printed, "application/pdf"
    elif fmt == "sdjwt":
        body, content_type = sdjwt_vc.present(credential, paths), "application/dc+sd-jwt"
    elif fmt == "json":
        body = json.dumps(select(claims, set(paths)), ensure_ascii=False, indent=2)
        content_type = "application/json; charset=utf-8"
    else:
        body = csv_text(document_type, select(claims, set(paths)), language())
        content_type = "text/csv; charset=utf-8"
    if await first_served(repeat):  # a click sent twice before the first answer came is one download
        await events.record_download(citizen, oin, type_id, fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name(holder, type_id, fmt, timezone.localdate())}"'
    return response


def _data_claims(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k not in sdjwt_vc.PLAIN_CLAIMS}
