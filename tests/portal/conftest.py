"""A logged-in citizen in the Django test client, with the holders behind a real server."""

import re

import httpx
import pytest
from django.test import Client

from blauweknop.holder.models import SourceRecord
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Key

BELASTING = "00000001003214345000"
GEMEENTE = "00000001823288444000"


@pytest.fixture
def citizen_bsn(demo_world):
    """A demo citizen with income and debts at the tax office."""
    records = SourceRecord.objects.filter(holder_oin=BELASTING)
    with_income = set(records.filter(document_type="inkomen").values_list("bsn", flat=True))
    with_debts = records.filter(document_type="vorderingen", bsn__in=with_income)
    return with_debts.values_list("bsn", flat=True).first() or sorted(with_income)[0]


@pytest.fixture
def two_citizen_bsns(demo_world):
    """Two demo citizens that both the tax office and the municipality hold data about."""
    at_tax_office = set(SourceRecord.objects.filter(holder_oin=BELASTING).values_list("bsn", flat=True))
    at_municipality = set(SourceRecord.objects.filter(holder_oin=GEMEENTE).values_list("bsn", flat=True))
    both = sorted(at_tax_office & at_municipality)
    assert len(both) >= 2
    return both[:2]


def scheme_lists_another_key(oin: str) -> None:
    """Publish a scheme document that lists, under the kid ``oin`` signs with, a public key that is not its own."""
    stranger = SigningKey(generate_jwk()).public_jwk
    for key in Key.objects.filter(owner=oin):
        key.public_jwk = {**stranger, "kid": key.kid}
        key.save(update_fields=["public_jwk"])
    publication.publish()
    scheme_client.forget()


def log_in(client, bsn, next_url="/"):
    """Log in through the DigiD mock exactly as a browser would."""
    return client.post(f"/inloggen/?next={next_url}", {"bsn": bsn})


def citizens_with_income(count: int = 2) -> list:
    """``count`` citizens with income at the tax office, each logged in with a client of their own, and their BSNs."""
    bsns = sorted(
        SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)
    )[:count]
    clients = []
    for bsn in bsns:
        client = Client()
        assert log_in(client, bsn).status_code == 302
        clients.append(client)
    return list(zip(clients, bsns, strict=True))


@pytest.fixture
def citizen(client, citizen_bsn):
    response = log_in(client, citizen_bsn)
    assert response.status_code == 302
    return client


def checkbox_paths(html: str) -> list[str]:
    return re.findall(r'name="veld-[^"]+" value="([^"]+)"', html)


def download_form(type_id: str, fields: list[str], fmt: str) -> dict[str, list[str] | str]:
    """The data page's form with only ``fields`` of ``type_id`` ticked (and the items they are in), for ``fmt``."""
    items = {int(m.group(1)) + 1 for path in fields if (m := re.match(r"[A-Za-z]+\.(\d+)\.", path))}
    return {
        f"veld-{type_id}": list(fields),
        f"onderdeel-{type_id}": [str(n) for n in sorted(items)],
        "download": f"{type_id}:{fmt}",
    }


def browser(base_url: str, bsn: str) -> httpx.Client:
    """A citizen logged in over real HTTP, with the cookies a browser would keep (CSRF included)."""
    client = httpx.Client(base_url=base_url, timeout=60)
    client.get("/inloggen/")
    response = client.post("/inloggen/?next=/", data={"bsn": bsn}, headers={"X-CSRFToken": client.cookies["csrftoken"]})
    assert response.status_code == 302
    return client
