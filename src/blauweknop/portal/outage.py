"""When no valid scheme document is left, pages say so in plain words (503) instead of failing.

The APIs answer the same outage with problem+json through their own error handling.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from blauweknop.scheme.client import SchemeUnavailable


class SchemeOutageMiddleware:
    """Turns :class:`SchemeUnavailable` from a page into the outage page, status 503."""

    def __init__(self, get_response: object) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SchemeUnavailable):
            return None
        response = render(request, "portal/outage.html", status=503)
        response["Retry-After"] = "3600"  # the page asks people to come back in an hour
        return response
