"""A participant whose scheme entry names a key it does not hold (issue 11, review F2): 503 and a plain word, no 500.

The scheme document says which key a holder, a requester or the portal signs with (``signing_kid``). When
this deployment does not hold that private key (it was announced and became current, but never put in
place here), nothing it signs would verify. Each answers 503 with ``signing_key_missing`` (an API) or a
page that says so (the portal), and the log tells the operator which key of which participant to add; the
readiness probe says so before the first request.
"""

import httpx
import pytest
from django.conf import settings

from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import keys
from blauweknop.scheme.client import scheme_client
from tests.holder.test_legal_basis import _body as lawful_body
from tests.holder.test_legal_basis import _url as lawful_url
from tests.portal.conftest import log_in
from tests.portal.test_overview import UNREACHABLE, body
from tests.requester.world import WONING, create
from tests.scheme.test_keys_rotation import BELASTING, _issue, bsn, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _lose_key(owner: str) -> str:
    """``owner`` announces a key whose private part is nowhere here, and it becomes current: its kid."""
    added = keys.add(owner, SigningKey(generate_jwk()).public_jwk, actor="beheerder")
    assert f"{owner}/{added.kid} current" in keys.rotate_due(added.usable_from)
    scheme_client.forget()  # as if the refresh interval had passed
    return added.kid


def _told_the_operator(caplog, owner: str, kid: str) -> None:
    assert f"{owner} cannot sign: its scheme entry names key {kid} to sign with." in caplog.text
    assert "Traceback" not in caplog.text and "Unexpected error" not in caplog.text


def _is_signing_key_missing(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "signing_key_missing"


def test_a_holder_without_its_current_key_answers_503_for_copies_and_lawful_deliveries(world, bsn, caplog):  # noqa: F811
    kid = _lose_key(BELASTING)
    with pytest.raises(AssertionError, match="503"):
        _issue(world, bsn)  # the portal's way of asking a copy
    _is_signing_key_missing(httpx.post(lawful_url(world), json=lawful_body(world, bsn), timeout=30))
    _told_the_operator(caplog, BELASTING, kid)


def test_a_requester_without_its_current_key_answers_503_when_asked_to_make_a_request(world, caplog):  # noqa: F811
    kid = _lose_key(WONING)
    _is_signing_key_missing(create())
    _told_the_operator(caplog, WONING, kid)


@pytest.mark.parametrize(
    ("method", "page"), [("get", "/mijn-inzage/"), ("post", f"/organisaties/{BELASTING}/blauwe-knop/")]
)
def test_the_portal_without_its_current_key_shows_a_page_that_says_so(world, bsn, client, caplog, method, page):  # noqa: F811
    kid = _lose_key(settings.PORTAL_OIN)
    log_in(client, bsn)
    response = getattr(client, method)(page)
    assert response.status_code == 503
    assert "Door een fout bij ons kunnen we nu geen gegevens ophalen." in response.content.decode()
    assert response["Retry-After"] == "3600"  # the page says to come back in an hour
    _told_the_operator(caplog, settings.PORTAL_OIN, kid)
    client.cookies["django_language"] = "en"
    assert (
        "Because of a fault on our side, we cannot fetch any data now."
        in getattr(client, method)(page).content.decode()
    )


def test_the_portals_overview_without_its_current_key_names_each_holder_as_not_reached_now(world, bsn, client, caplog):  # noqa: F811
    # As when the holders are down: the page is there, each holder says "later", and no holder's circuit opens.
    kid = _lose_key(settings.PORTAL_OIN)
    log_in(client, bsn)
    response = client.get("/overzicht/")
    assert response.status_code == 200
    assert body(response).count(UNREACHABLE) >= 2
    _told_the_operator(caplog, settings.PORTAL_OIN, kid)


@pytest.mark.parametrize("owner", [BELASTING, WONING, "portal"])
def test_readiness_says_so_for_a_holder_a_requester_and_the_portal(world, owner, caplog):  # noqa: F811
    owner = settings.PORTAL_OIN if owner == "portal" else owner
    _lose_key(owner)
    answer = httpx.get(world.url + "/gezondheid/klaar", timeout=30)
    assert answer.status_code == 503
    assert answer.json()["checks"]["scheme"] == "key_not_in_scheme"
    assert f"{owner} signs with a key the scheme document does not list" in caplog.text
