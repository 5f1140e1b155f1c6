"""Placeholder: the debt overview (being built)."""

from django.http import Http404, HttpRequest, HttpResponse


async def debts(request: HttpRequest) -> HttpResponse:
    """Placeholder."""
    raise Http404


async def download_bundle(request: HttpRequest) -> HttpResponse:
    """Placeholder."""
    raise Http404
