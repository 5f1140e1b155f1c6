"""What every JSON API here shares: NL API Design Rules headers and problem+json errors.

Errors are mapped to people's words in one table, like the rest of the platform's messages.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from blauweknop.protocol.errors import InvalidInput, ProtocolError

API_VERSION = "1.0.0"
PROBLEM = "application/problem+json"

# HTTP status for each protocol error code that is not plain bad input (400).
STATUS_FOR_CODE = {
    "not_certified": 403,
    "unknown_organisation": 403,
    "aud_mismatch": 401,
    "bad_signature": 401,
    "unknown_key": 401,
    "unknown_issuer": 401,
    "expired": 401,
    "issued_in_future": 401,
    "alg_not_allowed": 401,
    "wrong_typ": 401,
}


class ApiProblem(Exception):
    """A refusal the API explains: an HTTP status, a stable code and a plain sentence."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def problem(status: int, code: str, detail: str, **extra: Any) -> JsonResponse:
    """An RFC 9457 problem response; ``code`` is stable, ``detail`` is for people."""
    body = {
        "type": f"urn:blauweknop:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    response = JsonResponse(body, status=status, content_type=PROBLEM, json_dumps_params={"ensure_ascii": False})
    response["API-Version"] = API_VERSION
    return response


def make_api(*, title: str, namespace: str, description: str) -> NinjaAPI:
    """A NinjaAPI with the shared error handling; its OpenAPI is at ``openapi.json``."""
    api = NinjaAPI(
        title=title,
        version=API_VERSION,
        description=description,
        urls_namespace=namespace,
        openapi_url="/openapi.json",
        docs_url=None,
    )

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        params = [{"name": ".".join(str(p) for p in e["loc"][1:]) or "body", "reason": e["msg"]} for e in exc.errors]
        return problem(400, "invalid_input", "The request is not valid. See invalidParams.", invalidParams=params)

    @api.exception_handler(ProtocolError)
    def refused(request: HttpRequest, exc: ProtocolError) -> HttpResponse:
        status = 400 if isinstance(exc, InvalidInput) else STATUS_FOR_CODE.get(exc.code, 400)
        return problem(status, exc.code, exc.message)

    @api.exception_handler(ApiProblem)
    def explained(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return problem(exc.status, exc.code, exc.detail)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(404, "not_found", str(exc) or "There is nothing at this address.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, "http_error", str(exc))

    return api


class ApiVersionMiddleware:
    """Every API response says its version (NL API Design Rules, API-57)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "/api/v1/" in request.path:
            response["API-Version"] = API_VERSION
        return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for the whole site: problem+json under an API, a plain-language page elsewhere."""
    if "/api/" in request.path:
        return problem(404, "not_found", "There is nothing at this address. See openapi.json for the API.")
    return defaults.page_not_found(request, exception)
