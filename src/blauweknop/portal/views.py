"""The citizen's pages of Basis: the organisations, the Blauwe Knop, the data, the downloads.

The views are async: they reach the scheme and the holders over HTTP, also when those run in
this process, and must not hold the one thread that serves them.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from blauweknop import document_types
from blauweknop.display import rows
from blauweknop.portal import session
from blauweknop.portal.downloads import csv_text, file_name
from blauweknop.portal.holders import fetch_all
from blauweknop.portal.pages import arender
from blauweknop.portal.printed import print_checkable
from blauweknop.portal.selection import select, ticked_by_default
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


@login_required
async def organisation(request: HttpRequest, oin: str) -> HttpResponse:
    """The organisation's Mijn-omgeving with the Blauwe Knop."""
    scheme = await scheme_client.current()
    holder = _holder(scheme, oin)
    catalogue = document_types.of(scheme)
    types = [t for t in map(catalogue.get, holder.document_types) if t is not None]
    return await arender(request, "portal/organisation.html", {"holder": holder, "types": types})


@login_required
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
    for problem in {f.problem for f in fetched if f.problem}:
        messages.error(request, problem)  # stored by the (sync) middleware, after this view
    return redirect("portal:data", oin=oin)


@login_required
async def data(request: HttpRequest, oin: str) -> HttpResponse:
    """The citizen's data from this holder, per category, with every field to choose.

    A field starts ticked unless the catalogue marks it as special; after a download or an error
    the boxes show what the citizen last sent for that category.
    """
    scheme = await scheme_client.current()
    holder, catalogue = _holder(scheme, oin), document_types.of(scheme)
    chosen = await session.choices(request, oin)
    categories = []
    for type_id, credential in (await session.credentials(request, oin)).items():
        if (document_type := catalogue.get(type_id)) is None:
            continue
        fields = rows(document_type, _data_claims(sdjwt.unverified_claims(credential)))
        paths = [row.path for row in fields]
        ticked = set(chosen[type_id]) if type_id in chosen else ticked_by_default(document_type, paths)
        categories.append({"type": document_type, "rows": fields, "ticked": ticked})
    return await arender(request, "portal/data.html", {"oin": oin, "holder": holder, "categories": categories})


@login_required
async def download(request: HttpRequest, oin: str) -> HttpResponse:
    """The chosen fields of one category: a signed copy (.sdjwt), a signed PDF, JSON or CSV."""
    if request.method != "POST":  # e.g. back from DigiD after the session ran out
        return redirect("portal:data", oin=oin)
    credentials = await session.credentials(request, oin)
    type_id, chosen, fmt = request.POST.get("documentsoort"), request.POST.getlist("veld"), request.POST.get("formaat")
    document_type = document_types.of(await scheme_client.current()).get(type_id or "")
    if type_id not in credentials or fmt not in FORMATS or document_type is None:
        messages.error(request, _("Die download kennen we niet. Druk opnieuw op de Blauwe Knop."))
        return redirect("portal:data", oin=oin)
    credential = credentials[type_id]
    claims = _data_claims(sdjwt.unverified_claims(credential))
    known = {row.path for row in rows(document_type, claims)}
    await session.keep_choice(request, oin, type_id, [path for path in chosen if path in known])
    if not chosen or not set(chosen) <= known:
        messages.error(request, _("Kies minstens één gegeven om te downloaden. Zet een vinkje bij wat u wilt delen."))
        return redirect("portal:data", oin=oin)
    holder = _holder(await scheme_client.current(), oin)
    if fmt == "pdf":
        language = "en" if (get_language() or "nl").startswith("en") else "nl"
        citizen = await session.citizen(request, await request.auser())
        printed = await print_checkable(holder, citizen, sdjwt_vc.present(credential, chosen), language, type_id)
        if printed is None:
            messages.error(
                request, _("De PDF kon nu niet worden gemaakt. Probeer het later nog eens, of download de kopie.")
            )
            return redirect("portal:data", oin=oin)
        body, content_type = printed, "application/pdf"
    elif fmt == "sdjwt":
        body, content_type = sdjwt_vc.present(credential, chosen), "application/dc+sd-jwt"
    elif fmt == "json":
        body = json.dumps(select(claims, set(chosen)), ensure_ascii=False, indent=2)
        content_type = "application/json; charset=utf-8"
    else:
        body, content_type = csv_text(document_type, select(claims, set(chosen))), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name(holder, type_id, fmt, date.today())}"'
    return response


def _data_claims(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k not in sdjwt_vc.PLAIN_CLAIMS}
