"""Placeholder: the overview of every organisation (being built)."""

from django.http import Http404, HttpRequest, HttpResponse


async def overview(request: HttpRequest) -> HttpResponse:
    """Placeholder."""
    raise Http404
