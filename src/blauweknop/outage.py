"""When a deployment cannot do its work, its pages say so in plain words (503) instead of failing.

Two outages: no valid scheme document is left, or the key a participant's scheme entry names is not held
here (:class:`keystore.MissingKey`; :mod:`blauweknop.signing` logged which key of which participant to add).
Every role has pages that can meet them: the portal's citizens get the portal's page, the staff of a holder,
a requester or the scheme operator a page in their own layout that says it is their organisation's fault
and whom to ask. The APIs answer the same outages with problem+json through their own error handling.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from blauweknop.keystore import MissingKey
from blauweknop.scheme.client import SchemeUnavailable

# The citizen's page for each outage (the portal's own).
CITIZEN_PAGES = {SchemeUnavailable: "portal/outage.html", MissingKey: "portal/cannot_sign.html"}
# The staff pages' URL namespaces, each with the layout its pages extend.
STAFF_LAYOUTS = {"requester": "requester/base.html", "holderstaff": "holder/base.html", "scheme": "scheme/base.html"}


class OutageMiddleware:
    """Turns an outage from a page into its page, status 503: the citizen's, or the staff's in their layout."""

    def __init__(self, get_response: object) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        outage = next((kind for kind in CITIZEN_PAGES if isinstance(exception, kind)), None)
        if outage is None:
            return None
        match = request.resolver_match
        layout = STAFF_LAYOUTS.get(match.namespace) if match is not None else None
        if layout is None:
            response = render(request, CITIZEN_PAGES[outage], status=503)
        else:
            missing = exception if isinstance(exception, MissingKey) else None
            response = render(request, "staff/outage.html", {"layout": layout, "missing": missing}, status=503)
        response["Retry-After"] = "3600"  # each page asks people to come back in an hour, or after the fix
        return response
