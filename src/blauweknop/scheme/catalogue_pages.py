"""The operator's pages: catalogue_pages (being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
