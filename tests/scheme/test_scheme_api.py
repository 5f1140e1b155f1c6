"""The scheme operator's endpoints, and the issuer metadata and status lists the holders publish."""

import httpx
import pytest

from blauweknop.protocol import scheme_document, status_list
from blauweknop.protocol.jwk import KeySet
from blauweknop.protocol.scheme_document import APP_MANAGER, HOLDER, REQUESTER
from blauweknop.scheme.models import PublishedDocument

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_scheme_document_lists_every_participant_in_its_roles(demo_world):
    jwks = httpx.get(f"{demo_world.url}/stelsel/api/v1/jwks.json").json()
    response = httpx.get(f"{demo_world.url}/stelsel/api/v1/stelseldocument")
    assert response.headers["Content-Type"] == "application/stelseldocument+jwt"
    assert response.headers["API-Version"] == "1.0.0"
    document = scheme_document.verify(response.text, KeySet.from_jwks(jwks))
    holders = [o for o in document.organisations.values() if HOLDER in o.roles]
    requesters = [o for o in document.organisations.values() if REQUESTER in o.roles]
    assert len(holders) == 13 and len(requesters) == 4  # one municipality is both
    assert [document.is_certified(oin, APP_MANAGER) for oin in document.app_managers] == [True]
    assert {t["id"] for t in document.document_types} == {
        "persoonsgegevens",
        "inkomen",
        "vorderingen",
        "toeslagen",
        "studieschuld",
    }
    assert {b["id"] for b in document.legal_bases} >= {"toestemming"}
    gemeente = document.issuer(f"{demo_world.url}/gemeente-voorbeeldstad")
    assert gemeente.name == "Gemeente Voorbeeldstad"


def test_without_a_published_document_the_operator_says_so(deployment):
    PublishedDocument.objects.all().delete()
    response = httpx.get(f"{deployment.url}/stelsel/api/v1/stelseldocument")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "publish" in response.json()["detail"]


def test_each_holder_publishes_its_issuer_metadata(demo_world):
    response = httpx.get(f"{demo_world.url}/.well-known/jwt-vc-issuer/studiefinanciering")
    assert response.json()["issuer"] == f"{demo_world.url}/studiefinanciering"
    assert response.json()["jwks"]["keys"][0]["kty"] == "EC"
    assert httpx.get(f"{demo_world.url}/.well-known/jwt-vc-issuer/spaarbank-voorbeeld").status_code == 404


def test_status_lists_are_signed_and_cacheable(demo_world):
    from blauweknop.holder.models import StatusListRecord, Tenant

    tenant = Tenant.objects.learn("00000001002564440000", "boeteninning", f"{demo_world.url}/boeteninning")
    record = StatusListRecord.objects.current(tenant)
    response = httpx.get(record.uri)
    assert response.headers["Content-Type"] == "application/statuslist+jwt"
    assert "max-age" in response.headers["Cache-Control"]
    keys = KeySet.from_jwks(httpx.get(f"{demo_world.url}/.well-known/jwt-vc-issuer/boeteninning").json()["jwks"])
    token = status_list.verify(response.text, keys, uri=record.uri)
    assert token.status_list.get(12_345) == status_list.VALID
    assert httpx.get(f"{demo_world.url}/boeteninning/api/v1/statuslijsten/9").status_code == 404


@pytest.mark.parametrize("prefix", ["stelsel", "gemeente-voorbeeldstad"])
def test_every_api_publishes_its_openapi_description(demo_world, prefix):
    response = httpx.get(f"{demo_world.url}/{prefix}/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
