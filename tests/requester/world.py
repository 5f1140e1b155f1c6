"""The requester's world in tests: the demo's requesters on a real server, a wallet that answers as the portal does.

A test makes a request through the back office API, opens it as a wallet does (fetch the request
object, verify it against the scheme), fetches a real copy from a real holder, and presents it with
the protocol's own functions: real crypto and real HTTP all the way.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from django.conf import settings

from blauweknop import keystore
from blauweknop.demo.organisations import PORTAL_OIN
from blauweknop.protocol import client_assertion, openid4vp, session_assertion
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.scheme.client import scheme_client

WONING, WONING_SLUG = "00000003271247970000", "woningcorporatie-thuisbasis"
BANK, BANK_SLUG = "00000003334469140000", "spaarbank-voorbeeld"
GEMEENTE, GEMEENTE_SLUG = "00000001823288444000", "gemeente-voorbeeldstad"
BELASTING, BELASTING_SLUG = "00000001003214345000", "belastingkantoor"
INCOME = ["belastingjaar", "verzamelinkomenInCenten", "vastgesteldOp"]
FORM = "application/x-www-form-urlencoded"


def api_url(slug: str = WONING_SLUG) -> str:
    return f"{settings.BASE_URL}/vragers/{slug}/api/v1"


def scheme() -> SchemeDocument:
    return asyncio.run(scheme_client.current())


def assertion(url: str, oin: str = WONING) -> str:
    """A client assertion of ``oin`` for exactly ``url``, signed with its own key."""
    return client_assertion.sign(keystore.signing_key(oin), client_id=oin, audience=url)


def authenticated(body: dict[str, Any], url: str, oin: str = WONING) -> dict[str, Any]:
    return {**body, "client_assertion_type": client_assertion.ASSERTION_TYPE, "client_assertion": assertion(url, oin)}


def income_request(**changes: Any) -> dict[str, Any]:
    """What a housing corporation asks: the income, one time, kept 30 days."""
    return {
        "kenmerk": "dossier-17",
        "doel": {"nl": "Wij kijken of uw inkomen past bij de woning.", "en": "We check whether your income fits."},
        "grondslag": "toestemming",
        "bewaartermijnDagen": 30,
        "toegang": "eenmalig",
        "gevraagd": [
            {
                "documentsoort": "inkomen",
                "verplicht": True,
                "meerdere": False,
                "velden": [{"pad": path, "verplicht": path != "vastgesteldOp"} for path in INCOME],
            }
        ],
        **changes,
    }


def create(body: dict[str, Any] | None = None, *, slug: str = WONING_SLUG, oin: str = WONING) -> httpx.Response:
    url = f"{api_url(slug)}/verzoeken"
    return httpx.post(url, json=authenticated(body or income_request(), url, oin), timeout=30)


def created(body: dict[str, Any] | None = None, *, slug: str = WONING_SLUG, oin: str = WONING) -> dict[str, Any]:
    response = create(body, slug=slug, oin=oin)
    assert response.status_code == 201, response.text
    return response.json()


def state_of(code: str, *, slug: str = WONING_SLUG, oin: str = WONING) -> httpx.Response:
    url = f"{api_url(slug)}/verzoeken/{code}"
    return httpx.get(url, headers={"Authorization": f"Bearer {assertion(url, oin)}"}, timeout=30)


def opened(made: dict[str, Any]) -> openid4vp.AuthorizationRequest:
    """The request as a wallet opens it from its link: fetch the request object, verify it against the scheme."""
    query = parse_qs(urlsplit(made["link"]).query)
    (client_id,), (request_uri,) = query["client_id"], query["request_uri"]
    response = httpx.get(request_uri, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/oauth-authz-req+jwt"
    return openid4vp.verify_request(response.text, scheme(), client_id=client_id)


def copy(bsn: str, wallet, type_id: str = "inkomen", holder_slug: str = BELASTING_SLUG, holder: str = BELASTING) -> str:
    """A fresh certified copy from a real holder, bound to ``wallet``, as the portal fetches one."""
    token = session_assertion.sign(
        keystore.signing_key(PORTAL_OIN),
        app_manager_oin=PORTAL_OIN,
        holder_oin=holder,
        bsn=bsn,
        assurance_level="substantieel",
        wallet_jwk=wallet.public_jwk,
    )
    body = {"appbeheerderverklaring": token, "documentsoort": type_id}
    response = httpx.post(f"{settings.BASE_URL}/{holder_slug}/api/v1/verklaringen", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["verklaring"]


def presentation(credential: str, wallet, request: openid4vp.AuthorizationRequest, paths=None, aud=None) -> str:
    """The wallet's presentation of ``credential`` for ``request``: the asked paths, bound to its nonce."""
    paths = paths if paths is not None else request.query.credentials[0].paths()
    return openid4vp.present(credential, paths, holder_key=wallet, aud=aud or request.client_id, nonce=request.nonce)


def as_portal(fields: dict[str, str], *, oin: str = PORTAL_OIN, slug: str = WONING_SLUG) -> dict[str, str]:
    """``fields`` as the portal sends them: with a fresh client assertion of the app manager for the answer address."""
    token = client_assertion.sign(keystore.signing_key(oin), client_id=oin, audience=f"{api_url(slug)}/antwoorden")
    return {**fields, "client_assertion_type": client_assertion.ASSERTION_TYPE, "client_assertion": token}


def post_answer(fields: dict[str, str] | str | bytes, *, slug: str = WONING_SLUG, content_type: str = FORM):
    """POST to the requester's response_uri as the portal does (``direct_post``)."""
    content = fields if isinstance(fields, str | bytes) else httpx.QueryParams(fields).__str__()
    return httpx.post(
        f"{api_url(slug)}/antwoorden", content=content, headers={"Content-Type": content_type}, timeout=30
    )


def vp_token(query_id: str, *presentations: str) -> str:
    return json.dumps({query_id: list(presentations)})


def is_problem(response: httpx.Response, status: int, code: str | None = None) -> bool:
    """``response`` is problem+json with ``status`` (and ``code``)."""
    if response.status_code != status or not response.headers["Content-Type"].startswith("application/problem+json"):
        return False
    return code is None or response.json()["code"] == code
