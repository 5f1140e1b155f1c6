"""Issuer metadata at /.well-known/jwt-vc-issuer/<holder>: JSON for a holder, a JSON problem otherwise."""

import httpx
import pytest

from blauweknop.scheme.client import scheme_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_publishes_two_holders_keys_under_their_own_issuer_urls(demo_world):
    for slug in ("belastingkantoor", "gemeente-voorbeeldstad"):
        metadata = httpx.get(f"{demo_world.url}/.well-known/jwt-vc-issuer/{slug}").json()
        assert metadata["issuer"] == f"{demo_world.url}/{slug}"
        assert metadata["jwks"]["keys"]


def test_an_unknown_holder_gets_a_problem_not_an_html_page(demo_world):
    response = httpx.get(f"{demo_world.url}/.well-known/jwt-vc-issuer/bestaat-niet")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_without_a_scheme_document_it_answers_a_problem_not_an_html_page(client, settings):
    # The metadata comes from the scheme document now: with none in hand, the answer says so in JSON.
    settings.SCHEME_URL = "http://127.0.0.1:9/stelsel"  # nothing listens there
    scheme_client.forget()
    try:
        response = client.get("/.well-known/jwt-vc-issuer/belastingkantoor")
    finally:
        scheme_client.forget()
    assert (response.status_code, response["Content-Type"]) == (503, "application/problem+json")
    assert response.json()["code"] == "scheme_unavailable"
