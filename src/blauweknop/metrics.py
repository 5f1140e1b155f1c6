"""The application's own Prometheus metrics, and the ``/metrics`` endpoint for the operator's monitoring.

django-prometheus counts requests, responses and latencies per view; these count what only the
application knows. Labels hold organisation numbers (OIN), document types and refusal codes: small,
fixed sets. Never a BSN, a pseudonym or anything else about a citizen.

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before they start
(prometheus_client then keeps each process's values in files there, and ``/metrics`` adds them up).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Gauge

credentials_issued = Counter(
    "blauweknop_credentials_issued",
    "Certified copies issued, per holder (OIN) and document type.",
    ["holder", "document_type"],
)
assertion_refusals = Counter(
    "blauweknop_assertion_refusals",
    "App manager assertions a holder refused, per holder (OIN) and refusal code.",
    ["holder", "code"],
)
scheme_refresh_failures = Counter(
    "blauweknop_scheme_refresh_failures",
    "Failed fetches of the scheme document, per reason (an error code or class name).",
    ["reason"],
)
scheme_unavailable = Counter(
    "blauweknop_scheme_unavailable",
    "Requests refused because no valid scheme document was in hand (503 scheme_unavailable).",
)
scheme_document_expiry = Gauge(
    "blauweknop_scheme_document_expiry_timestamp_seconds",
    "When the scheme document in hand expires (Unix time): alert well before this passes.",
    # Across worker processes, the latest document any of them holds.
    multiprocess_mode="max",
)


def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus text format, only for ``Authorization: Bearer <BLAUWEKNOP_METRICS_TOKEN>``.

    Without a configured token the endpoint does not exist (404); a missing or wrong token gets 401.
    """
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), token.encode()):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return ExportToDjangoView(request)
