"""The scheme operator's API: the signed scheme document and the operator's keys."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from blauweknop.api import ApiProblem, make_api
from blauweknop.scheme.publication import in_force, operator_jwks

api = make_api(
    title="Stelsel API",
    namespace="scheme",
    description="Het stelseldocument: wie meedoet aan de Blauwe Knop, in welke rol, met welke sleutels.",
)


@api.get("/stelseldocument", summary="Het stelseldocument dat nu geldt")
def current_document(request: HttpRequest) -> HttpResponse:
    document = in_force()
    if document is None:
        raise ApiProblem(503, "no_scheme_document", "No scheme document is in force. The operator must publish one.")
    response = HttpResponse(document.token, content_type="application/stelseldocument+jwt")
    response["Cache-Control"] = "public, max-age=300"
    return response


@api.get("/jwks.json", summary="De publieke sleutels van de stelselbeheerder")
def operator_keys(request: HttpRequest) -> dict:
    return operator_jwks()
