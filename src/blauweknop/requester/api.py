"""The requester API, one per requester under its own prefix: ``/vragers/<slug>/api/v1/``."""

from __future__ import annotations

from blauweknop.api import make_api

api = make_api(
    title="Gegevensvrager API",
    namespace="requester-api",
    description="Verzoeken om gegevens (OpenID4VP 1.0 met DCQL) en de ontvangen, gewaarmerkte gegevens.",
)
