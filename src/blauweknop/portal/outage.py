"""When the portal cannot do its work, pages say so in plain words (503) instead of failing.

Two outages: no valid scheme document is left, or the key the portal's scheme entry names is not held
here (:class:`keystore.MissingKey`; :mod:`blauweknop.signing` told the operator which key to add). The
APIs answer the same outages with problem+json through their own error handling.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from blauweknop.keystore import MissingKey
from blauweknop.scheme.client import SchemeUnavailable

OUTAGES = ((SchemeUnavailable, "portal/outage.html"), (MissingKey, "portal/cannot_sign.html"))


class SchemeOutageMiddleware:
    """Turns an outage from a page into its page, status 503."""

    def __init__(self, get_response: object) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        for outage, template in OUTAGES:
            if isinstance(exception, outage):
                response = render(request, template, status=503)
                response["Retry-After"] = "3600"  # each page asks people to come back in an hour
                return response
        return None
