"""Placeholder: filled in by the Plus work (issue 10)."""

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: str) -> HttpResponse:
    raise Http404


start = open_code = review = done = _todo
