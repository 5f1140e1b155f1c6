"""The help and explanation pages (R21): what the Blauwe Knop is, when to use it, what each variant
does, what happens to your data, how to check a copy and whom to call."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from blauweknop.portal.events import RETENTION
from blauweknop.portal.session import SESSION_AGE


@require_safe
def help_page(request: HttpRequest) -> HttpResponse:
    """The one help page, a section per question, with a table of contents at the top."""
    context = {"session_minutes": SESSION_AGE // 60, "event_months": round(RETENTION.days * 12 / 365)}
    return render(request, "portal/help/help.html", context)
