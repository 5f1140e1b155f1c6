"""The operator's pages: pages (being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
