"""Standing access end to end: the housing corporation asks, the citizen agrees on the portal, the corporation
fetches again later through its own client (blauweknop.requester.fetching), and the citizen's withdrawal on
'Mijn toestemmingen' stops the very next fetch. All roles behind one real HTTP server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from blauweknop.portal.models import Consent, ConsentEvent
from blauweknop.protocol import openid4vp
from blauweknop.requester import asking, fetching, tenants
from blauweknop.scheme.client import scheme_client
from tests.portal.conftest import log_in

WONING = "00000003271247970000"
INCOME = asking.Asked(
    "inkomen", required=True, multiple=False, fields=(("belastingjaar", True), ("verzamelinkomenInCenten", True))
)


@pytest.fixture
def agreed(client, citizen_bsn):
    """A standing request of the housing corporation for income, agreed to by the logged-in citizen."""
    scheme = asyncio.run(scheme_client.current())
    tenant = tenants.of_oin(scheme, WONING)
    share_request = asking.create(
        tenant,
        purpose={"nl": "Om te zien of u de huur kunt betalen.", "en": "To see if you can pay the rent."},
        legal_basis="toestemming",
        retention_days=30,
        access=openid4vp.STANDING,
        access_until=timezone.localdate() + timedelta(days=90),
        asked=[INCOME],
    )
    assert log_in(client, citizen_bsn).status_code == 302
    link = urlsplit(asking.link(share_request, scheme))
    review = client.get(f"{link.path}?{link.query}")["Location"]
    client.post(review, {"besluit": "ja"})
    share_request.refresh_from_db()
    assert share_request.consent
    return tenant, share_request


def test_the_requester_fetches_fresh_data_until_the_citizen_withdraws(client, demo_world, agreed):
    tenant, share_request = agreed
    fetched = fetching.standing_fetch(tenant, share_request)
    assert {r.query_id for r in fetched} == {"inkomen"}
    assert set(fetched[0].claims) >= {"belastingjaar", "verzamelinkomenInCenten"} and "naam" not in fetched[0].claims
    page = client.get(f"/toestemmingen/{share_request.consent}/").content.decode()
    assert "Trek toestemming in" in page
    client.post(f"/toestemmingen/{share_request.consent}/intrekken/")
    with pytest.raises(fetching.FetchRefused) as refused:
        fetching.standing_fetch(tenant, share_request)
    assert refused.value.code == "consent_withdrawn"
    consent = Consent.objects.get(pk=share_request.consent)
    kinds = list(ConsentEvent.objects.filter(consent=consent).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["gegeven", "geleverd", "geleverd", "ingetrokken", "ophalen-geweigerd"]
