"""'Wie heeft mijn gegevens ingezien?': every read of the citizen's data, asked of every holder."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime

from blauweknop import document_types
from blauweknop.display import ACTIVITIES
from blauweknop.portal import session
from blauweknop.portal.holders import access_report
from blauweknop.portal.pages import arender
from blauweknop.scheme.client import scheme_client


@login_required
async def access_log(request: HttpRequest) -> HttpResponse:
    """What every holder recorded about the logged-in citizen, newest first, in plain words."""
    user = await request.auser()
    scheme = await scheme_client.current()
    report = await access_report(scheme, await session.citizen(request, user))
    participants = {**scheme.organisations, **scheme.app_managers}
    types = document_types.of(scheme).by_id
    entries = [
        {
            "at": parse_datetime(r["tijdstip"]),
            "holder": participants[r["houder"]].name,
            "actor": participants[r["gevraagdDoor"]].name if r["gevraagdDoor"] in participants else r["gevraagdDoor"],
            "document": (
                types[r["documentsoort"]].name
                if r["documentsoort"] in types
                else {"nl": r["documentsoort"], "en": r["documentsoort"]}
            ),
            "activity": ACTIVITIES.get(r["activiteit"], r["activiteit"]),
        }
        for r in report.records
    ]
    return await arender(request, "portal/access_log.html", {"entries": entries, "silent": report.silent})
