"""Issuer metadata at ``/.well-known/jwt-vc-issuer/<slug>`` (SD-JWT VC §5)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from blauweknop.api import problem
from blauweknop.holder import tenants
from blauweknop.holder.api import refused
from blauweknop.holder.errors import HolderError
from blauweknop.protocol import sdjwt_vc
from blauweknop.scheme.client import SchemeUnavailable, scheme_client


async def issuer_metadata(request: HttpRequest, slug: str) -> HttpResponse:
    """The holder's issuer URL and public keys, as the scheme document lists them.

    A problem (JSON, like the answer asked for) for an unknown holder, or while no scheme document is in hand.
    """
    try:
        holder = tenants.find(await scheme_client.current(), slug)
    except HolderError as exc:
        return refused(request, exc)
    except SchemeUnavailable as exc:
        return problem(exc.status, exc.code, exc.detail)
    keys = [key.jwk for key in holder.keys.keys]
    return JsonResponse(sdjwt_vc.issuer_metadata(holder.endpoints["issuer"], keys))
