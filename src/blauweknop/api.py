"""What every JSON API here shares: NL API Design Rules headers and problem+json errors.

Errors are mapped to people's words in one table, like the rest of the platform's messages.
Every error under ``/api/`` is problem+json, whoever made it (a view, ninja, Django, the body
limit), and every operation's OpenAPI description lists the problems it can answer with.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views import defaults
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from blauweknop.keystore import MissingKey
from blauweknop.protocol.errors import InvalidInput, ProtocolError
from blauweknop.security import response_middleware

logger = logging.getLogger(__name__)

API_VERSION = "1.0.0"
PROBLEM = "application/problem+json"

# The problem for an HTTP status when nothing more specific was said: a stable code, a plain sentence.
GENERIC_PROBLEMS = {
    400: ("invalid_input", "The request is not valid."),
    401: ("not_authenticated", "The request does not show who sends it, or that proof is not valid."),
    403: ("forbidden", "The sender of this request may not do this."),
    404: ("not_found", "There is nothing at this address. See openapi.json for the API."),
    405: ("method_not_allowed", "This address does not take this method. The Allow header lists the ones it takes."),
    413: ("too_large", "The request body is too large."),
    429: ("too_many_requests", "Too many requests. Wait a moment and try again."),
    500: ("server_error", "Something went wrong on our side. Try again in a few minutes."),
    503: ("unavailable", "The service is not available now. Try again in a few minutes."),
}
# What each status means in an API's OpenAPI description.
STATUS_DESCRIPTIONS = {
    400: "Ongeldig verzoek",
    401: "Niet aangetoond wie het verzoek stuurt",
    403: "Niet toegestaan",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    413: "Verzoek te groot",
    429: "Te veel verzoeken",
    500: "Fout aan onze kant",
    503: "Tijdelijk niet beschikbaar",
}
# Django's own refusals, when one reaches an API view.
DJANGO_REFUSALS = ((PermissionDenied, 403), (SuspiciousOperation, 400))

# HTTP status for each protocol error code that is not plain bad input (400).
STATUS_FOR_CODE = {
    "not_certified": 403,
    "unknown_organisation": 403,
    "aud_mismatch": 401,
    "bad_signature": 401,
    "unknown_key": 401,
    "key_revoked": 401,
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


def generic_problem(status: int) -> JsonResponse:
    """The problem response for ``status`` when there is nothing more specific to say."""
    code, detail = GENERIC_PROBLEMS.get(status, ("http_error", f"The request failed with HTTP status {status}."))
    return problem(status, code, detail)


def is_api_path(path: str) -> bool:
    """Whether an address belongs to a JSON API (which then answers in problem+json)."""
    return "/api/" in path


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem: `code` is stable, `detail` is for people.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:blauweknop:problem:invalid_input"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "invalidParams": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}


def error_statuses(operation: dict) -> list[int]:
    """The problems an operation can answer with, from its OpenAPI description.

    Any address can refuse a method (405), fail (500) or be unavailable (503); one with a path
    parameter can name nothing (404); input can be invalid (400); a request body carries an
    assertion or a copy that can be refused (401, 403) and is limited in size (413).
    """
    statuses = {405, 500, 503}
    parameters = operation.get("parameters", [])
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(400)
    if "requestBody" in operation:
        statuses |= {401, 403, 413}
    return sorted(statuses)


def with_problems(schema: dict) -> dict:
    """An OpenAPI document in which every operation lists its problem+json responses."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(operation):
                responses.setdefault(str(status), {"description": STATUS_DESCRIPTIONS[status], "content": content})
    return schema


class ProblemApi(NinjaAPI):
    """A NinjaAPI whose OpenAPI description lists every operation's problem+json responses."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return with_problems(super().get_openapi_schema(**kwargs))


def make_api(*, title: str, namespace: str, description: str) -> NinjaAPI:
    """A NinjaAPI with the shared error handling; its OpenAPI is at ``openapi.json``."""
    api = ProblemApi(
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

    @api.exception_handler(MissingKey)
    def cannot_sign(request: HttpRequest, exc: MissingKey) -> HttpResponse:
        # A fault of ours, not the caller's: signing.key_for told the operator which key to add.
        detail = "This service cannot sign now: the key the scheme document names for it is not here. Try again later."
        response = problem(503, "signing_key_missing", detail)
        response["Retry-After"] = "600"
        return response

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(404, "not_found", str(exc) or "There is nothing at this address.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, "http_error", str(exc))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Replaces ninja's default, which re-raises, or shows a traceback when DEBUG is on.
        for refusal, status in DJANGO_REFUSALS:
            if isinstance(exc, refusal):
                return generic_problem(status)
        logger.exception("Unexpected error in %s %s", request.method, request.path)
        return generic_problem(500)

    return api


def api_responses(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Every API response says its version (NL API Design Rules, API-57), and every error is a problem.

    Errors made outside our handlers (ninja's 405, Django's 400 and 403) become problem+json here.
    """
    if not is_api_path(request.path):
        return response
    if response.status_code >= 400 and not response.get("Content-Type", "").startswith(PROBLEM):
        refused = response
        response = generic_problem(refused.status_code)
        if refused.has_header("Allow"):
            response["Allow"] = refused["Allow"]
    response["API-Version"] = API_VERSION
    return response


ApiMiddleware = response_middleware(api_responses)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for the whole site: problem+json under an API, a plain-language page elsewhere.

    A deployment without the portal has no pages (the 404 page links to the portal's), only APIs.
    """
    if is_api_path(request.path) or "portal" not in settings.BLAUWEKNOP_ROLES:
        return generic_problem(404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 for the whole site, without a traceback: problem+json under an API, a plain page elsewhere."""
    if is_api_path(request.path):
        return generic_problem(500)
    return defaults.server_error(request)
