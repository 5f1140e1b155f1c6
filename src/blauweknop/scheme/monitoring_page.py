"""The operator's pages: monitoring_page (being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
