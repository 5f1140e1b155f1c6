"""The operator's pages: key_pages (being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
