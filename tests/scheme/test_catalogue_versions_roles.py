"""Catalogue versions as the portal and the requesters meet them (issue 11, item 4, follow-up).

A copy of any version the scheme lists is a copy of its type: the portal and the requester compare the type's
id, not the version's ``vct``. Two cases need it. In the minutes between two refreshes of the scheme document
a holder issues the version its own document calls the newest while the portal or the requester already reads
a newer one. And a Plus request made before the operator published a new version asks for the older ``vct``,
while the holders answer it with the newer one. A copy of another type is still refused.
"""

import asyncio
import copy
import json

import pytest

from blauweknop import document_types
from blauweknop.db import release_before_waiting
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import holders
from blauweknop.portal.holders import Citizen, Kind
from blauweknop.requester import asking, fetching, tenants
from blauweknop.requester.models import ShareRequest
from blauweknop.scheme import catalogue, publication
from blauweknop.scheme.catalogue.versions import publish_version
from blauweknop.scheme.client import check, scheme_client
from tests.portal.conftest import BELASTING, GEMEENTE
from tests.portal.test_share_requester import (
    DEBTS,
    INCOME,
    _ask,
    _logged_in,
    _review,
    debtor,  # noqa: F401 (a fixture)
)
from tests.scheme.test_catalogue_versions import V3, V4, debtor_bsns, vorderingen_v4  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
INKOMEN_V2 = "https://stelsel.blauweknop.example/vct/inkomen/2"
INKOMEN_V3 = "https://stelsel.blauweknop.example/vct/inkomen/3"
LAWFUL = {
    "legal_basis": "participatiewet-art-64",
    "purpose": "bijstand-recht-en-hoogte",
    "retention_days": 90,
    "paths": ["belastingjaar", "verzamelinkomenInCenten"],
}


def _inkomen_v3() -> dict:
    """Inkomen version 3: the same fields as version 2, under the new version's vct."""
    definition = copy.deepcopy(catalogue.document_type("inkomen").publish())
    definition.update(version=3, vct=INKOMEN_V3)
    return definition


def _refreshed(previous):
    """The scheme document just published, as a role that refreshed now reads it. The holders, which read
    ``scheme_client`` in this process, keep ``previous`` until it is forgotten: they have not refreshed yet."""
    return check(publication.in_force().token, previous)


def _fetch(scheme, holder_oin: str, type_id: str, citizen: Citizen) -> holders.Fetched:
    """What the portal makes of a holder's copy, reading ``scheme``."""

    async def run():
        async with holders.http_client() as client:
            fetched = await holders.fetch(client, scheme, scheme.organisation(holder_oin), type_id, citizen)
        await release_before_waiting()  # as a request's end would: PostgreSQL's test database is dropped later
        return fetched

    return asyncio.run(run())


def _with_income() -> str:
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]


def test_the_portal_takes_either_listed_version_of_the_type_it_asked_for_and_no_other_type(
    debtor_bsns,  # noqa: F811
    wallet,
):
    before = asyncio.run(scheme_client.current())
    publish_version(vorderingen_v4(), actor="beheerder-anna")
    after = _refreshed(before)
    assert document_types.of(after).get("vorderingen").vct == V4
    citizens = [Citizen(bsn, "midden", wallet.public_jwk) for bsn in debtor_bsns]
    # The portal has refreshed, the holders have not: they still issue version 3.
    for citizen in citizens:
        for holder in (BELASTING, GEMEENTE):
            fetched = _fetch(after, holder, "vorderingen", citizen)
            assert (fetched.kind, fetched.verified.vct) == (Kind.COPY, V3), fetched.reason
    # The holders have refreshed, the portal has not read it yet: version 4 is not known to it as the newest.
    # (A version the portal's document does not list at all cannot be read, so it waits for its own refresh.)
    scheme_client.forget()
    fetched = _fetch(after, GEMEENTE, "vorderingen", citizens[0])
    assert (fetched.kind, fetched.verified.vct) == (Kind.COPY, V4)
    # A genuine copy of another type is not the one asked for, whichever version of vorderingen is the newest.
    income = Citizen(_with_income(), "midden", wallet.public_jwk)
    other = _fetch(after, BELASTING, "inkomen", income)
    assert other.kind == Kind.COPY
    for scheme in (before, after):
        holder = scheme.organisation(BELASTING)
        assert holders._not_asked_for(other.verified, scheme, holder, "vorderingen", income) == "wrong_type"


def test_a_requester_takes_a_copy_of_the_older_version_on_a_legal_basis_and_no_other_type(demo_world, monkeypatch):
    bsn = _with_income()
    before = asyncio.run(scheme_client.current())
    publish_version(_inkomen_v3(), actor="beheerder-anna")
    after = _refreshed(before)
    requester = tenants.of_oin(after, GEMEENTE)  # refreshed; the tax office has not and issues version 2
    checked = []
    mismatch = fetching._mismatch
    monkeypatch.setattr(
        fetching, "_mismatch", lambda verified, *rest: checked.append(verified) or mismatch(verified, *rest)
    )
    received = fetching.lawful_fetch(requester, holder_oin=BELASTING, bsn=bsn, type_id="inkomen", **LAWFUL)
    assert received.vct == INKOMEN_V2 and set(received.claims) == {"belastingjaar", "verzamelinkomenInCenten"}
    # The same copy, had vorderingen been asked for: another type.
    (verified,) = checked
    assert mismatch(verified, requester, BELASTING, "vorderingen", LAWFUL["paths"], bsn) == "wrong_type"
    # Once the tax office has refreshed, it issues version 3, and that is taken too.
    scheme_client.forget()
    received = fetching.lawful_fetch(requester, holder_oin=BELASTING, bsn=bsn, type_id="inkomen", **LAWFUL)
    assert received.vct == INKOMEN_V3


def test_a_share_asked_before_a_new_version_is_answered_with_that_version_and_received(
    client,
    debtor,  # noqa: F811
):
    share_request = _ask(INCOME, DEBTS)
    assert V3 in json.dumps(share_request.asked)  # the newest when it was asked
    publish_version(vorderingen_v4(), actor="beheerder-anna")
    scheme_client.forget()  # every role's next refresh: the holders issue version 4 from now on
    citizen = _logged_in(client, debtor)
    form = {"besluit": "ja", "soort": ["vorderingen"]}
    done = citizen.get(citizen.post(_review(citizen, share_request), form)["Location"]).content.decode()
    assert "Uw gegevens zijn gedeeld" in done
    share_request.refresh_from_db()
    assert share_request.status == ShareRequest.State.APPROVED
    received = asking.received(share_request)
    debts = [r for r in received if r.query_id == "vorderingen"]
    assert len(debts) >= 2 and {r.vct for r in debts} == {V4}
    assert {r.vct for r in received if r.query_id == "inkomen"} == {INKOMEN_V2}
