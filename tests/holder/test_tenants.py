"""A holder's tenants follow the scheme document: moved and long addresses, suspension (attack findings 1, 2, 7)."""

import httpx
import pytest

from blauweknop.holder import tenants
from blauweknop.holder.errors import NotCertified
from blauweknop.holder.models import SourceRecord, Tenant
from blauweknop.protocol import scheme_document, sdjwt_vc
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from tests.holder.test_issue_credential import _ask, _assertion
from tests.holder.test_legal_basis import _suspend

pytestmark = pytest.mark.django_db

OPERATOR = SigningKey(generate_jwk())
GEMEENTE, BELASTING = "00000001823288444000", "00000001003214345000"


def _scheme(version: int, issuers: dict[str, str], certification: str = scheme_document.CERTIFIED):
    organisations = [
        scheme_document.participant_entry(
            oin=oin,
            name=f"Houder {oin[-6:]}",
            roles=[scheme_document.HOLDER],
            jwks={"keys": [SigningKey(generate_jwk()).public_jwk]},
            endpoints={"issuer": issuer, "api": f"{issuer}/api/v1"},
            certification=certification,
            document_types=["inkomen"],
        )
        for oin, issuer in issuers.items()
    ]
    # An issuer of its own: catalogues are kept per (iss, version), and other tests use these versions too.
    payload = scheme_document.build(iss="https://stelsel.tenants.example", version=version, organisations=organisations)
    return scheme_document.verify(scheme_document.sign(payload, OPERATOR), KeySet([OPERATOR.public_jwk]))


@pytest.fixture(autouse=True)
def two_tenants(settings):
    settings.HOLDER_OINS = [GEMEENTE, BELASTING]


def test_it_serves_a_tenant_at_an_address_another_tenant_held_before():
    tenants.at(_scheme(1, {GEMEENTE: "https://houder.example/gem"}), "gem")
    moved = _scheme(2, {GEMEENTE: "https://houder.example/gem2", BELASTING: "https://houder.example/gem"})
    assert tenants.at(moved, "gem").oin == BELASTING
    assert tenants.at(moved, "gem2").oin == GEMEENTE
    assert Tenant.objects.get(pk=BELASTING).issuer_url == "https://houder.example/gem"


def test_after_two_tenants_swap_addresses_each_issues_under_the_address_the_scheme_gives_it_now():
    before = {GEMEENTE: "https://houder.example/gem", BELASTING: "https://houder.example/bel"}
    tenants.at(_scheme(3, before), "gem"), tenants.at(_scheme(3, before), "bel")
    swapped = _scheme(4, {GEMEENTE: "https://houder.example/bel", BELASTING: "https://houder.example/gem"})
    assert tenants.at(swapped, "gem").issuer_url == "https://houder.example/gem"
    assert tenants.at(swapped, "gem").oin == BELASTING
    assert tenants.at(swapped, "bel").issuer_url == "https://houder.example/bel"
    assert Tenant.objects.get(pk=GEMEENTE).issuer_url == "https://houder.example/bel"
    assert Tenant.objects.get(pk=GEMEENTE).status_lists_url == "https://houder.example/bel/api/v1/statuslijsten/"


def test_it_serves_a_tenant_whose_issuer_url_and_last_segment_are_long():
    # varchar(200) and varchar(50) made PostgreSQL refuse these with a 500; SQLite never noticed.
    issuer = "https://houder.example/" + "p" * 300 + "/" + "g" * 60
    assert tenants.at(_scheme(5, {GEMEENTE: issuer}), "g" * 60).issuer_url == issuer


@pytest.mark.parametrize("certification", [scheme_document.SUSPENDED, scheme_document.REVOKED])
def test_it_refuses_to_act_for_a_tenant_the_scheme_does_not_certify_now(certification):
    # Issuing anyway used up the assertion, wrote an access record and withdrew older copies, for a copy nobody accepts.
    scheme = _scheme(6, {GEMEENTE: "https://houder.example/gem"}, certification)
    with pytest.raises(NotCertified) as refused:
        tenants.at(scheme, "gem")
    assert refused.value.code == "not_certified"
    assert not Tenant.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_suspended_holder_answers_403_not_certified_and_an_unknown_address_stays_404(demo_world, wallet):
    # 404 told a portal or verifier "wrong address" for a holder that is there and only may not act now.
    _suspend(BELASTING)
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING).values_list("bsn", flat=True)[0]
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "documentsoort": "inkomen"}
    answers = {
        "suspended copy": _ask(demo_world, body),
        "suspended metadata": httpx.get(_metadata(demo_world, "belastingkantoor"), timeout=30),
        "unknown copy": _ask(demo_world, body, slug="bestaat-niet"),
        "unknown metadata": httpx.get(_metadata(demo_world, "bestaat-niet"), timeout=30),
        "another holder's metadata": httpx.get(_metadata(demo_world, "gemeente-voorbeeldstad"), timeout=30),
    }
    assert {what: (a.status_code, a.headers["Content-Type"]) for what, a in answers.items()} == {
        "suspended copy": (403, "application/problem+json"),
        "suspended metadata": (403, "application/problem+json"),
        "unknown copy": (404, "application/problem+json"),
        "unknown metadata": (404, "application/problem+json"),
        "another holder's metadata": (200, "application/json"),
    }
    assert [answers[w].json()["code"] for w in ("suspended copy", "suspended metadata")] == ["not_certified"] * 2
    assert answers["suspended copy"].headers["API-Version"] == "1.0.0"


def _metadata(server, slug: str) -> str:
    return sdjwt_vc.issuer_metadata_url(f"{server.url}/{slug}")
