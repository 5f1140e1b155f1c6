"""Every error under /api/ is problem+json, and every API's OpenAPI document says which problems it answers with."""

from __future__ import annotations

import json

import pytest
from django.test import Client, RequestFactory
from django.urls import get_resolver

from blauweknop.api import PROBLEM
from blauweknop.scheme import api as scheme_api

HOLDER_API = "/belastingkantoor/api/v1"
SCHEME_API = "/stelsel/api/v1"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert response["API-Version"]
    body = json.loads(response.content)
    assert (body["status"], body["code"]) == (status, code)
    assert "Traceback" not in response.content.decode()
    return body


@pytest.mark.django_db
def test_a_method_an_api_address_does_not_take_is_a_problem(client):
    response = client.post(f"{SCHEME_API}/stelseldocument")
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_in_an_api_is_a_problem_without_a_traceback(monkeypatch, settings, debug):
    settings.DEBUG = debug

    def broken() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(scheme_api, "in_force", broken)
    response = Client(raise_request_exception=False).get(f"{SCHEME_API}/stelseldocument")
    assert_problem(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()


def test_the_site_wide_500_handler_answers_an_api_with_a_problem_and_people_with_a_page():
    handler = get_resolver().resolve_error_handler(500)
    for_api = handler(RequestFactory().post(f"{HOLDER_API}/verklaringen"))
    assert for_api.status_code == 500 and for_api["Content-Type"] == PROBLEM
    for_people = handler(RequestFactory().get("/organisaties/"))
    assert for_people.status_code == 500 and "Er ging iets mis" in for_people.content.decode()


def operations(document: dict) -> dict[str, dict]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


@pytest.mark.django_db
@pytest.mark.parametrize("api", [SCHEME_API, HOLDER_API])
def test_every_operation_lists_its_problem_responses(client, api):
    document = client.get(f"{api}/openapi.json").json()
    problem_schema = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem_schema["required"])
    assert operations(document)
    for name, operation in operations(document).items():
        responses = operation["responses"]
        expected = {"405", "500", "503"}
        if "requestBody" in operation:
            expected |= {"400", "401", "403", "413"}
        assert expected <= set(responses), name
        for status in expected:
            schema = responses[status]["content"][PROBLEM]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (name, status)
