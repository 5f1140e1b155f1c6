"""The scheme operator's pages, for the operator's staff (two-factor login): /stelsel/beheer/."""

from django.urls import include, path

from blauweknop.scheme import catalogue_pages, key_pages, monitoring_page, pages

app_name = "scheme"
urlpatterns = [
    *pages.urlpatterns,
    path("sleutels/", include(key_pages.urlpatterns)),
    path("catalogus/", include(catalogue_pages.urlpatterns)),
    path("toezicht/", include(monitoring_page.urlpatterns)),
]
