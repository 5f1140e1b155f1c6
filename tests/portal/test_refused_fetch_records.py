"""A standing fetch the portal refuses is an access record at every holder that delivered under the consent.

Issue 10, item 8: "Every delivery, fetch and refusal writes an access record at the holder." The debt counsellor
has standing access to a citizen's debts, delivered by two holders that both issue ``vorderingen``. After the
citizen withdraws, its next fetch is refused by the portal, which does not ask the holders; the worker then tells
both holders (``POST /<holder>/api/v1/geweigerde-ophalingen``), and the citizen sees the refusal in plain words
on "Wie heeft mijn gegevens ingezien?". Another citizen's records stay as they were. All roles behind one real
HTTP server.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from blauweknop import document_types, keystore
from blauweknop.api import ApiProblem
from blauweknop.audit.models import AccessRecord
from blauweknop.display import FETCH_REFUSED_ACTIVITIES, SHARED
from blauweknop.holder import refused_fetches
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import consents, refusal_notices
from blauweknop.portal.models import Consent, ConsentEvent, RefusalNotice
from blauweknop.protocol import client_assertion, dcql
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme import keys, publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.portal.conftest import log_in
from tests.portal.consent_world import asked, citizen
from tests.portal.test_fetch_api import assertion, fetch, refused

pytestmark = pytest.mark.django_db(transaction=True)

SCHULDHULP = "00000003512873460000"  # the demo's debt counsellor, a requester
OTHER_APP_MANAGER = "00000009555666777000"
DEBTS = ("vorderingen.schuldeiser", "vorderingen.kenmerk", "vorderingen.openstaandBedragInCenten")
WITHDRAWN_NL = (
    "Schuldhulp Voorbeeldstad wilde uw gegevens ophalen. Dat mocht niet meer: u had uw toestemming ingetrokken."
)
WITHDRAWN_EN = (
    "Schuldhulp Voorbeeldstad wanted to fetch your data. That was no longer allowed: you had withdrawn your consent."
)


def debtors(count: int = 2) -> list[str]:
    """``count`` demo citizens with debts at two holders or more, those with the most holders first."""
    holders = Counter(
        bsn
        for bsn, _holder in SourceRecord.objects.filter(document_type="vorderingen").values_list("bsn", "holder_oin")
    )
    found = sorted((bsn for bsn, n in holders.items() if n >= 2), key=lambda bsn: (-holders[bsn], bsn))
    assert len(found) >= count
    return found[:count]


def another_app_manager() -> SigningKey:
    """A second certified app manager in the scheme, and its key."""
    Organisation.objects.create(
        oin=OTHER_APP_MANAGER, name="Andere app", slug="andere-app", is_app_manager=True, base_url="https://app.example"
    )
    key = SigningKey({**generate_jwk(), "kid": "andere-app-1"})
    keys.add(OTHER_APP_MANAGER, key.public_jwk, actor="beheerder")
    publication.publish()
    scheme_client.forget()
    return key


def standing_for_debts(bsn: str) -> Consent:
    """A standing consent of ``bsn`` for the debt counsellor: their debts from every holder, for 90 days."""
    scheme = asyncio.run(scheme_client.current())
    vct = document_types.of(scheme).by_id["vorderingen"].vct
    claims = tuple(dcql.ClaimQuery(path.rsplit(".", 1)[1], path, True) for path in DEBTS)
    query = dcql.Query((dcql.CredentialQuery("schulden", vct, claims, multiple=True, required=True),))
    request = dataclasses.replace(asked(SCHULDHULP), query=query)
    consent, _key = consents.give(
        citizen(bsn),
        request,
        requester_name="Schuldhulp Voorbeeldstad",
        request_object="eyJ.request.object",
        approved={"schulden": list(DEBTS)},
        valid_until=timezone.now() + timedelta(days=90),
    )
    return consent


def counsellor_fetches(consent: Consent) -> httpx.Response:
    return fetch(consent.pk, token=assertion(SCHULDHULP), requester_oin=SCHULDHULP)


def delivered_by(consent: Consent) -> list[str]:
    return consents.sources(ConsentEvent.objects.filter(consent=consent))


def records(bsn: str) -> list[tuple[str, str, str, str]]:
    """Every access record about ``bsn``: holder, actor, activity and document type."""
    about = AccessRecord.objects.filter(subject=pseudonym(bsn)).order_by("at", "pk")
    return list(about.values_list("holder_id", "actor_oin", "activity", "document_type"))


def refusals(bsn: str) -> list[AccessRecord]:
    return list(
        AccessRecord.objects.filter(
            subject=pseudonym(bsn), activity=FETCH_REFUSED_ACTIVITIES["consent_withdrawn"]
        ).order_by("pk")
    )


@pytest.fixture
def withdrawn(demo_world):
    """Two debtors, each with standing access for the debt counsellor, delivered once; the first then withdrew."""
    first, second = debtors()
    mine, theirs = standing_for_debts(first), standing_for_debts(second)
    for consent in (mine, theirs):
        response = counsellor_fetches(consent)
        assert response.status_code == 200, response.text
    assert len(delivered_by(mine)) >= 2  # two holders that issue the same type delivered under one consent
    assert consents.withdraw(citizen(first).pseudonym, mine.pk)
    return (first, mine), (second, theirs)


def test_both_holders_record_the_refused_fetch_and_the_citizen_sees_it_in_words(withdrawn):
    (bsn, consent), (other_bsn, _) = withdrawn
    others_before = records(other_bsn)
    response = counsellor_fetches(consent)
    assert refused(response, 403, "consent_withdrawn")
    holders = delivered_by(consent)
    # The fetch itself told no holder: the notices wait for the worker, one per holder that delivered.
    assert refusals(bsn) == []
    assert sorted(RefusalNotice.objects.filter(consent=consent).values_list("holder_oin", flat=True)) == holders

    assert refusal_notices.tell_pending() == len(holders)

    written = refusals(bsn)
    assert sorted(r.holder_id for r in written) == holders
    share = AccessRecord.objects.filter(subject=pseudonym(bsn), activity=SHARED).first()
    for record in written:
        assert (record.actor_oin, record.document_type, record.fields) == (SCHULDHULP, "vorderingen", [])
        assert (record.purpose, record.legal_basis, record.consent) == (share.purpose, "toestemming", consent.pk)
    assert records(other_bsn) == others_before
    assert not RefusalNotice.objects.filter(done_at__isnull=True).exists()

    page = Client()
    assert log_in(page, bsn).status_code == 302
    assert page.get("/mijn-inzage/").content.decode().count(WITHDRAWN_NL) == len(holders)
    page.cookies["django_language"] = "en"
    assert page.get("/mijn-inzage/").content.decode().count(WITHDRAWN_EN) == len(holders)
    other = Client()
    assert log_in(other, other_bsn).status_code == 302
    assert WITHDRAWN_NL not in other.get("/mijn-inzage/").content.decode()


def test_a_holder_that_is_down_is_told_later_and_records_it_once(withdrawn, monkeypatch):
    (bsn, consent), _ = withdrawn
    holders = delivered_by(consent)
    down = holders[0]
    record = refused_fetches.record

    def unavailable(holder, *args):
        if holder.oin == down:
            raise ApiProblem(503, "unavailable", "Down in this test.")
        return record(holder, *args)

    monkeypatch.setattr(refused_fetches, "record", unavailable)
    assert refused(counsellor_fetches(consent), 403, "consent_withdrawn")
    assert refusal_notices.tell_pending() == len(holders) - 1
    assert down not in [r.holder_id for r in refusals(bsn)]
    waiting = RefusalNotice.objects.get(holder_oin=down, done_at__isnull=True)
    assert waiting.tries == 1 and waiting.next_try > timezone.now()
    assert refusal_notices.tell_pending() == 0  # not before its wait is over

    monkeypatch.setattr(refused_fetches, "record", record)
    RefusalNotice.objects.filter(pk=waiting.pk).update(next_try=timezone.now() - timedelta(seconds=1))
    assert refusal_notices.tell_pending() == 1
    assert refusal_notices.tell_pending() == 0
    assert Counter(r.holder_id for r in refusals(bsn)) == dict.fromkeys(holders, 1)


def test_a_requester_hammering_a_withdrawn_consent_makes_one_notice_per_holder(withdrawn):
    (bsn, consent), _ = withdrawn
    holders = delivered_by(consent)
    for _ in range(100):
        assert refused(counsellor_fetches(consent), 403, "consent_withdrawn")
    assert RefusalNotice.objects.filter(consent=consent).count() == len(holders)
    assert refusal_notices.tell_pending() == len(holders)
    for _ in range(10):
        counsellor_fetches(consent)
    assert refusal_notices.tell_pending() == 0
    assert len(refusals(bsn)) == len(holders)
    kinds = Counter(ConsentEvent.objects.filter(consent=consent).values_list("kind", flat=True))
    # The portal's own register keeps a day's worth, not every one: the citizen's page stays readable.
    assert kinds[ConsentEvent.Kind.FETCH_REFUSED] == consents.REFUSALS_RECORDED_PER_DAY


def portal_assertion(url: str) -> str:
    """A client assertion of this portal (the app manager) for ``url``."""
    return client_assertion.sign(keystore.signing_key(settings.PORTAL_OIN), client_id=settings.PORTAL_OIN, audience=url)


def _notice(url: str, consent_id: str, token: str | None = None, **changes) -> httpx.Response:
    body = {
        "toestemming": consent_id,
        "code": "consent_withdrawn",
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": token if token is not None else portal_assertion(url),
        **changes,
    }
    return httpx.post(url, json=body, timeout=30)


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_the_holder_takes_a_notice_only_from_the_app_manager_of_the_consent_once(withdrawn):
    (bsn, consent), (_, theirs) = withdrawn
    scheme = asyncio.run(scheme_client.current())
    holder = scheme.organisations[delivered_by(consent)[0]]
    url = f"{holder.endpoints['api'].rstrip('/')}/geweigerde-ophalingen"
    other_url = f"{scheme.organisations[delivered_by(consent)[1]].endpoints['api'].rstrip('/')}/geweigerde-ophalingen"

    _problem(_notice(url, consent.pk, token="x" * 40), 400, "invalid_client")
    body = {"toestemming": consent.pk, "code": "consent_withdrawn"}
    _problem(httpx.post(url, json=body, timeout=30), 400, "invalid_input")  # no assertion at all
    _problem(_notice(url, consent.pk, code="not_your_consent"), 400, "invalid_input")
    _problem(_notice(url, consent.pk, token=portal_assertion(other_url)), 401, "aud_mismatch")
    # A requester (not an app manager) cannot write refusals into a citizen's records, even naming the consent.
    as_requester = client_assertion.sign(keystore.signing_key(SCHULDHULP), client_id=SCHULDHULP, audience=url)
    _problem(_notice(url, consent.pk, token=as_requester), 400, "invalid_client")
    # Another app manager's claim on this consent id finds nothing, as an id nobody knows: 404 alike.
    other = client_assertion.sign(another_app_manager(), client_id=OTHER_APP_MANAGER, audience=url)
    _problem(_notice(url, consent.pk, token=other), 404, "unknown_consent")
    _problem(_notice(url, "no-such-consent"), 404, "unknown_consent")
    assert refusals(bsn) == []

    token = client_assertion.sign(
        keystore.signing_key(settings.PORTAL_OIN), client_id=settings.PORTAL_OIN, audience=url
    )
    assert _notice(url, consent.pk, token=token).status_code == 204
    _problem(_notice(url, consent.pk, token=token), 401, "assertion_replayed")
    assert _notice(url, consent.pk).status_code == 204  # within the hour: recorded once
    assert [r.holder_id for r in refusals(bsn)] == [holder.oin]
    assert not AccessRecord.objects.filter(consent=theirs.pk, activity__in=FETCH_REFUSED_ACTIVITIES.values()).exists()
