"""The kit fails, for the right reason, against a requester that gets one thing wrong (behind the proxy)."""

from __future__ import annotations

import pytest

from blauweknop import cli
from blauweknop.protocol import jws, openid4vp
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.scheme_document import REQUESTER, Participant
from tests.conformance.conftest import run_kit, scheme_url
from tests.conformance.proxy import Answer
from tests.conformance.test_demo import key_file


@pytest.fixture
def requester(proxied) -> Participant:
    scheme = cli._scheme(scheme_url(proxied), None)
    return next(p for p in scheme.organisations.values() if scheme.is_certified(p.oin, REQUESTER))


def kit(proxied, requester, capsys) -> dict[str, str]:
    url = requester.endpoints["requester"]
    args = [
        "--requester",
        url,
        "--scheme-document",
        scheme_url(proxied),
        "--requester-key",
        str(key_file(requester.oin)),
    ]
    code, report = run_kit(capsys, *args)
    assert code == 1
    return {c["name"]: c["reason"] for c in report["checks"] if not c["passed"]}


def test_a_requester_that_passes_through_the_proxy_conforms(proxied, requester, capsys):
    url = requester.endpoints["requester"]
    assert url.startswith(proxied.url)
    args = [
        "--requester",
        url,
        "--scheme-document",
        scheme_url(proxied),
        "--requester-key",
        str(key_file(requester.oin)),
    ]
    assert run_kit(capsys, *args)[0] == 0


def test_an_address_the_scheme_does_not_list(proxied, requester, capsys):
    code, report = run_kit(
        capsys, "--requester", f"{proxied.url}/vragers/niemand/api/v1", "--scheme-document", scheme_url(proxied)
    )
    assert code == 1
    assert "no organisation in scheme document" in report["checks"][0]["reason"]


def test_a_request_object_signed_with_a_key_the_scheme_does_not_list(proxied, requester, capsys):
    stranger = SigningKey(generate_jwk())

    def handler(request, upstream):
        answer = upstream()
        if "/verzoekobjecten/" in request.path and answer.status == 200:
            payload = jws.unverified_parts(answer.body.decode())[1]
            return answer.with_body(jws.sign(payload, stranger, openid4vp.REQUEST_TYP).encode())
        return answer

    proxied.handler = handler
    failed = kit(proxied, requester, capsys)
    assert set(failed) == {"request_object"}
    assert "does not verify: unknown_key" in failed["request_object"]


def test_a_request_object_that_may_be_cached(proxied, requester, capsys):
    proxied.handler = lambda request, upstream: upstream().without("Cache-Control")
    failed = kit(proxied, requester, capsys)
    assert set(failed) == {"request_object"}
    assert "no Cache-Control: no-store" in failed["request_object"]


def test_bad_input_answered_with_an_html_server_error(proxied, requester, capsys):
    def handler(request, upstream):
        answer = upstream()
        if answer.status >= 400:
            return Answer(500, {"Content-Type": "text/html", "API-Version": "1.0.0"}, b"<h1>Server Error</h1>")
        return answer

    proxied.handler = handler
    failed = kit(proxied, requester, capsys)
    assert set(failed) == {"problem_json", "request_object"}
    assert "an empty JSON object" in failed["problem_json"] and "HTTP 500 text/html" in failed["problem_json"]
    assert "(an unknown code) answered HTTP 500 text/html" in failed["request_object"]


def test_answers_without_api_version(proxied, requester, capsys):
    proxied.handler = lambda request, upstream: upstream().without("API-Version")
    failed = kit(proxied, requester, capsys)
    assert set(failed) == {"api_version"}
    assert "/verzoekobjecten/ZZZZZZZZ" in failed["api_version"]


def test_the_openapi_description_hidden(proxied, requester, capsys):
    def handler(request, upstream):
        if request.path.endswith("/openapi.json"):
            return Answer(
                200, {"Content-Type": "application/json", "API-Version": "1.0.0"}, b'{"openapi": "3.1.0", "paths": {}}'
            )
        return upstream()

    proxied.handler = handler
    failed = kit(proxied, requester, capsys)
    assert set(failed) == {"openapi"}
    assert "does not describe GET …/verzoekobjecten/{}, POST …/antwoorden, POST …/verzoeken" in failed["openapi"]
