"""Issuer metadata at ``/.well-known/jwt-vc-issuer/<slug>`` (SD-JWT VC §5)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from blauweknop.protocol import sdjwt_vc
from blauweknop.scheme.models import Organisation


def issuer_metadata(request: HttpRequest, slug: str) -> JsonResponse:
    """The holder's issuer URL and public keys."""
    holder = get_object_or_404(Organisation.objects.holders(), slug=slug)
    return JsonResponse(sdjwt_vc.issuer_metadata(holder.issuer_url, holder.public_jwks.get("keys", [])))
