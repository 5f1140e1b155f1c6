"""The app manager's API for requesters: fetches under standing access, ``/appbeheerder/api/v1/``."""

from __future__ import annotations

from blauweknop.api import make_api

api = make_api(
    title="Appbeheerder API",
    namespace="app-manager",
    description="Doorlopende toegang: een gegevensvrager haalt verse gegevens op onder de toestemming van de burger.",
)
