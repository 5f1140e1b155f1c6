"""The citizen shares with a real requester: the demo world's housing corporation, behind the same live server.

The requester makes the request (blauweknop.requester.asking), serves its request object, and keeps what
its answer endpoint accepted: what a test finds there is what the organisation really received.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from blauweknop.holder.models import SourceRecord
from blauweknop.portal.models import Consent
from blauweknop.protocol import openid4vp
from blauweknop.requester import asking, tenants
from blauweknop.requester.models import ShareRequest
from blauweknop.scheme.client import scheme_client

WONING = "00000003271247970000"
INCOME = asking.Asked(
    "inkomen",
    required=True,
    multiple=False,
    fields=(("belastingjaar", True), ("verzamelinkomenInCenten", True), ("naam.geslachtsnaam", False)),
)
DEBTS = asking.Asked(
    "vorderingen",
    required=False,
    multiple=True,
    fields=(("vorderingen.schuldeiser", True), ("vorderingen.openstaandBedragInCenten", False)),
)


def _scheme():
    return asyncio.run(scheme_client.current())


def _ask(*asked: asking.Asked, access: str = openid4vp.ONCE, until=None) -> ShareRequest:
    return asking.create(
        tenants.of_oin(_scheme(), WONING),
        purpose={"nl": "Om te zien of u een sociale huurwoning kunt huren.", "en": "To see if you can rent."},
        legal_basis="toestemming",
        retention_days=30,
        access=access,
        access_until=until,
        asked=list(asked),
    )


def _review(client, share_request: ShareRequest) -> str:
    link = urlsplit(asking.link(share_request, _scheme()))
    response = client.get(f"{link.path}?{link.query}")
    assert response.status_code == 303, response.content.decode()[:1000]
    return response["Location"]


@pytest.fixture
def debtor(demo_world):
    """A demo citizen with income at the tax office and debts at two or more holders."""
    with_income = set(SourceRecord.objects.filter(document_type="inkomen").values_list("bsn", flat=True))
    debts = SourceRecord.objects.filter(document_type="vorderingen", bsn__in=with_income)
    counted = {}
    for bsn, holder in debts.values_list("bsn", "holder_oin"):
        counted.setdefault(bsn, set()).add(holder)
    return max(sorted(counted), key=lambda bsn: len(counted[bsn]))


def _logged_in(client, bsn):
    assert client.post("/inloggen/?next=/", {"bsn": bsn}).status_code == 302
    return client


def test_the_requester_receives_only_what_the_citizen_left_ticked_from_every_holder_of_a_multiple_type(client, debtor):
    share_request = _ask(INCOME, DEBTS)
    citizen = _logged_in(client, debtor)
    review = _review(citizen, share_request)
    form = {"besluit": "ja", "soort": ["vorderingen"], "veld-vorderingen": []}  # the optional debt amount unticked
    done = citizen.get(citizen.post(review, form)["Location"]).content.decode()
    assert "Uw gegevens zijn gedeeld" in done
    share_request.refresh_from_db()
    assert share_request.status == ShareRequest.State.APPROVED
    consent = Consent.objects.get()
    assert share_request.consent == consent.pk
    received = {(r.query_id, r.issuer_oin): r.claims for r in asking.received(share_request)}
    [income] = [claims for (query, _oin), claims in received.items() if query == "inkomen"]
    assert {"belastingjaar", "verzamelinkomenInCenten"} <= set(income) and "naam" not in income
    debt_holders = {oin for (query, oin) in received if query == "vorderingen"}
    expected = set(
        SourceRecord.objects.filter(document_type="vorderingen", bsn=debtor).values_list("holder_oin", flat=True)
    )
    assert debt_holders == expected and len(expected) >= 2
    for (query, _oin), claims in received.items():
        if query == "vorderingen":
            assert all(set(debt) == {"schuldeiser"} for debt in claims["vorderingen"])


def test_an_optional_document_type_left_out_is_not_received(client, debtor):
    share_request = _ask(INCOME, DEBTS)
    citizen = _logged_in(client, debtor)
    citizen.post(_review(citizen, share_request), {"besluit": "ja", "veld-inkomen": ["naam.geslachtsnaam"]})
    received = asking.received(share_request)
    assert {r.query_id for r in received} == {"inkomen"}
    assert "naam" in received[0].claims


def test_no_is_received_as_a_refusal(client, debtor):
    share_request = _ask(INCOME)
    citizen = _logged_in(client, debtor)
    citizen.post(_review(citizen, share_request), {"besluit": "nee"})
    share_request.refresh_from_db()
    assert share_request.status == ShareRequest.State.REFUSED
    assert asking.received(share_request) == []


def test_standing_access_ends_on_the_day_the_citizen_chose(client, debtor):
    asked_until = timezone.localdate() + timedelta(days=180)
    share_request = _ask(INCOME, access=openid4vp.STANDING, until=asked_until)
    citizen = _logged_in(client, debtor)
    chosen = asked_until - timedelta(days=100)
    citizen.post(_review(citizen, share_request), {"besluit": "ja", "tot": chosen.isoformat()})
    share_request.refresh_from_db()
    assert share_request.status == ShareRequest.State.APPROVED
    assert share_request.approved_until == chosen


def test_the_code_as_people_type_it_opens_the_request(client, debtor):
    share_request = _ask(INCOME)
    citizen = _logged_in(client, debtor)
    typed = " " + asking.display_code(share_request.code).lower().replace("-", " - ") + " "
    response = citizen.post("/delen/openen/", {"organisatie": WONING, "code": typed})
    assert response.status_code == 303
    assert "Woningcorporatie Thuisbasis vraagt om uw gegevens" in citizen.get(response["Location"]).content.decode()
    wrong = citizen.post("/delen/openen/", {"organisatie": WONING, "code": "ZZZZ-ZZZZ"})
    assert wrong.status_code == 404 and "kent deze code niet" in wrong.content.decode()
