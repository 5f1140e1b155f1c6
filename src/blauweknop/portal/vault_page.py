"""Placeholder: the citizen's vault (being built)."""

from django.http import Http404, HttpRequest, HttpResponse


async def vault(request: HttpRequest) -> HttpResponse:
    """Placeholder."""
    raise Http404


keep = refresh = delete = download = vault
