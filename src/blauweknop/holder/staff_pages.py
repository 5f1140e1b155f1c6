"""The holder staff's pages: the queue of correction requests, one request, and the decisions on it."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
