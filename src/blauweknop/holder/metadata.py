"""Issuer metadata at ``/.well-known/jwt-vc-issuer/<slug>`` (SD-JWT VC §5)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from blauweknop.api import problem
from blauweknop.protocol import sdjwt_vc
from blauweknop.scheme.models import Organisation


def issuer_metadata(request: HttpRequest, slug: str) -> JsonResponse:
    """The holder's issuer URL and public keys; a problem (JSON, like the answer asked for) for an unknown holder."""
    holder = Organisation.objects.holders().filter(slug=slug).first()
    if holder is None:
        return problem(404, "not_found", "No holder in this deployment issues credentials under this address.")
    return JsonResponse(sdjwt_vc.issuer_metadata(holder.issuer_url, holder.public_jwks.get("keys", [])))
