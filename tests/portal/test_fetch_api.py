"""A requester fetches under standing access: only under its own consent, while it runs, and once per assertion."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from blauweknop import keystore
from blauweknop.portal import consents, fetch_api, presenting
from blauweknop.portal.models import Consent, ConsentEvent
from blauweknop.protocol import client_assertion, sdjwt, sdjwt_vc
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.portal.consent_world import ASKED, SPAARBANK, WONINGCORPORATIE, citizen, given

NONCE = "requester-nonce-0123456789"


def fetch_url() -> str:
    """The fetch endpoint as the scheme document publishes it (the live server's address)."""
    return f"{settings.BASE_URL}/appbeheerder/api/v1/ophalingen"


def assertion(requester_oin: str = WONINGCORPORATIE, audience: str | None = None) -> str:
    """A client assertion of ``requester_oin`` for the fetch endpoint as the scheme document publishes it."""
    audience = audience or fetch_url()
    return client_assertion.sign(keystore.signing_key(requester_oin), client_id=requester_oin, audience=audience)


def fetch(consent_id: str, *, token: str | None = None, requester_oin: str = WONINGCORPORATIE) -> httpx.Response:
    body = {
        "toestemming": consent_id,
        "nonce": NONCE,
        "client_assertion_type": client_assertion.ASSERTION_TYPE,
        "client_assertion": token or assertion(requester_oin),
    }
    return httpx.post(fetch_url(), json=body, timeout=30)


def refused(response: httpx.Response, status: int, code: str) -> bool:
    problem = response.json()
    return (
        response.status_code == status
        and response.headers["Content-Type"].startswith("application/problem+json")
        and problem["code"] == code
    )


def events(consent: Consent) -> list[tuple[str, dict]]:
    return list(ConsentEvent.objects.filter(consent=consent).order_by("pk").values_list("kind", "detail"))


@pytest.fixture
def standing(demo_world, citizen_bsn):
    """A citizen's standing consent for the housing corporation: their income, for 30 days."""
    return given(citizen(citizen_bsn))


def test_a_fetch_gives_fresh_copies_bound_to_the_consent_key_the_requester_and_its_nonce(standing, citizen_bsn):
    consent, key = standing
    response = fetch(consent.pk)
    assert response.status_code == 200, response.text
    (presentation,) = response.json()["vp_token"]["inkomen"]
    scheme = asyncio.run(scheme_client.current())
    verified = sdjwt.verify(
        presentation,
        scheme.issuer_keys(),
        typ=sdjwt_vc.TYP,
        require_key_binding=True,
        aud=WONINGCORPORATIE,
        nonce=NONCE,
    )
    assert verified.claims["cnf"]["jwk"]["x"] == key.public_jwk["x"]  # the consent's own key, not the session's
    assert verified.disclosed == set(ASKED)  # only what the citizen approved; not even the BSN
    kinds = [kind for kind, _detail in events(consent)]
    assert kinds == ["gegeven", "geleverd"]
    detail = events(consent)[-1][1]
    assert detail["velden"] == {"inkomen": list(ASKED)} and detail["houders"]["inkomen"]
    assert citizen_bsn not in str(detail)


def test_withdrawal_takes_effect_on_the_very_next_fetch(standing, citizen_bsn):
    consent, _ = standing
    assert fetch(consent.pk).status_code == 200
    assert consents.withdraw(citizen(citizen_bsn).pseudonym, consent.pk)
    assert refused(fetch(consent.pk), 403, "consent_withdrawn")
    assert [kind for kind, _ in events(consent)] == ["gegeven", "geleverd", "ingetrokken", "ophalen-geweigerd"]
    assert events(consent)[-1][1] == {"code": "consent_withdrawn"}


def test_a_withdrawal_while_the_holders_are_asked_stops_that_very_fetch(standing, citizen_bsn, monkeypatch):
    consent, _ = standing
    asked = presenting.gather_and_present

    async def withdrawn_meanwhile(*args, **kwargs):
        presented = await asked(*args, **kwargs)
        await sync_to_async(consents.withdraw)(citizen(citizen_bsn).pseudonym, consent.pk)
        return presented

    monkeypatch.setattr(presenting, "gather_and_present", withdrawn_meanwhile)
    assert refused(fetch(consent.pk), 403, "consent_withdrawn")
    assert [kind for kind, _ in events(consent)] == ["gegeven", "ingetrokken", "ophalen-geweigerd"]


def test_a_consent_past_its_date_is_refused_before_the_task_has_ended_it(standing, monkeypatch):
    consent, _ = standing
    later = timezone.now() + timedelta(days=31)
    monkeypatch.setattr(fetch_api, "timezone", SimpleNamespace(now=lambda: later))  # the portal's clock moved on
    assert refused(fetch(consent.pk), 403, "consent_expired")
    assert Consent.objects.get(pk=consent.pk).state == "gegeven"  # not ended yet: the fetch itself refused
    assert consents.expire_due(later) == 1
    monkeypatch.undo()
    assert refused(fetch(consent.pk), 403, "consent_expired")
    assert [kind for kind, _ in events(consent)][-3:] == ["ophalen-geweigerd", "verlopen", "ophalen-geweigerd"]


def test_a_requester_cannot_fetch_under_another_requesters_consent_nor_learn_that_it_exists(standing):
    consent, _ = standing
    theirs = fetch(consent.pk, requester_oin=SPAARBANK)
    nowhere = fetch("no-such-consent-id", requester_oin=SPAARBANK)
    assert refused(theirs, 403, "not_your_consent") and refused(nowhere, 403, "not_your_consent")
    assert theirs.json()["detail"] == nowhere.json()["detail"]
    assert [kind for kind, _ in events(consent)] == ["gegeven"]  # nothing was fetched


def test_a_replayed_client_assertion_is_refused(standing):
    consent, _ = standing
    token = assertion()
    assert fetch(consent.pk, token=token).status_code == 200
    assert refused(fetch(consent.pk, token=token), 401, "assertion_replayed")
    assert [kind for kind, _ in events(consent)] == ["gegeven", "geleverd"]


def test_an_assertion_for_another_address_is_refused(standing):
    consent, _ = standing
    token = assertion(audience=f"{settings.BASE_URL}/vragers/elders/api/v1/antwoorden")
    assert refused(fetch(consent.pk, token=token), 401, "aud_mismatch")


def test_a_suspended_requester_is_refused_and_the_citizen_sees_that_it_tried(standing):
    consent, _ = standing
    forged = client_assertion.sign(SigningKey(generate_jwk()), client_id=WONINGCORPORATIE, audience=fetch_url())
    Organisation.objects.filter(oin=WONINGCORPORATIE).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    scheme_client.forget()  # as if the refresh interval had passed
    assert refused(fetch(consent.pk), 403, "not_certified")
    assert events(consent)[-1] == ("ophalen-geweigerd", {"code": "not_certified"})
    assert refused(fetch(consent.pk, token=forged), 403, "not_certified")  # a forgery in its name leaves no trace
    assert refused(fetch("no-such-consent-id"), 403, "not_your_consent")
    assert [kind for kind, _ in events(consent)] == ["gegeven", "ophalen-geweigerd"]


def test_a_refused_or_one_time_consent_gives_nothing(demo_world, citizen_bsn):
    once, _ = given(citizen(citizen_bsn), access="eenmalig")
    assert refused(fetch(once.pk), 403, "not_standing")
    consents.delivered(once, {})
    assert refused(fetch(once.pk), 403, "consent_expired")


def test_hostile_bodies_are_problems_not_errors(standing):
    consent, _ = standing
    url = fetch_url()
    for body in (
        {},
        {"toestemming": consent.pk, "nonce": NONCE, "client_assertion_type": "x", "client_assertion": "y" * 30},
        {"toestemming": "a" * 500, "nonce": NONCE, "client_assertion_type": client_assertion.ASSERTION_TYPE},
    ):
        response = httpx.post(url, json=body, timeout=30)
        assert response.status_code == 400 and response.headers["Content-Type"].startswith("application/problem+json")
    garbage = fetch(consent.pk, token="eyJ" + "x" * 40)
    assert refused(garbage, 401, "invalid_client")
