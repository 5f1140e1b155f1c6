"""URLs per role: a deployment serves only the roles in BLAUWEKNOP_ROLES."""

from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from blauweknop import health, metrics

# Every role: probes for load balancers and orchestrators, metrics for the operator's monitoring.
urlpatterns: list[URLPattern | URLResolver] = [
    path("gezondheid/live", health.live, name="health-live"),
    path("gezondheid/klaar", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
]

if "scheme" in settings.BLAUWEKNOP_ROLES:
    from blauweknop.scheme.api import api as scheme_api

    urlpatterns += [
        path("stelsel/api/v1/", scheme_api.urls),
        path("stelsel/beheer/", include("blauweknop.scheme.urls")),
    ]

if "holder" in settings.BLAUWEKNOP_ROLES:
    from blauweknop.holder.api import api as holder_api
    from blauweknop.holder.metadata import issuer_metadata

    urlpatterns += [
        path(".well-known/jwt-vc-issuer/<slug:slug>", issuer_metadata, name="issuer-metadata"),
        path("<slug:holder>/api/v1/", holder_api.urls),
        path("gegevenshouder/beheer/", include("blauweknop.holder.urls")),
    ]

if "portal" in settings.BLAUWEKNOP_ROLES:
    from blauweknop.portal.fetch_api import api as app_manager_api

    urlpatterns += [
        path("appbeheerder/api/v1/", app_manager_api.urls),
        path("i18n/", include("django.conf.urls.i18n")),
        path("", include("blauweknop.portal.urls")),
    ]
    if not settings.DIGID_MOCK:
        # Real DigiD (SAML), configured in the admin of django-digid-eherkenning.
        urlpatterns.append(path("digid/", include("digid_eherkenning.digid_urls")))

if "requester" in settings.BLAUWEKNOP_ROLES:
    from blauweknop.requester.api import api as requester_api

    urlpatterns += [
        path("vragers/<slug:requester>/api/v1/", requester_api.urls),
        path("vragers/", include("blauweknop.requester.urls")),
    ]

handler404 = "blauweknop.api.page_not_found"
handler500 = "blauweknop.api.server_error"
