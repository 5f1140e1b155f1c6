"""Impostors cannot bury an organisation's application nor make its status unreadable (attack review 2, F1).

Anyone may apply under a real OIN with any key id. Before, 50 impostor applications with the real applicant's kid,
each with a fresh key, pushed the real one out of the 50 tried for a status question: its correctly signed
question got 401. Now a second waiting application with the same OIN and kid is refused (409 ``kid_taken``), at
most five of one OIN wait at once (409 ``too_many_waiting``, and the operator's page says so), an application
nobody decided on lapses after 30 days, and a status question is answered from the one waiting application of its
OIN and kid.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blauweknop.protocol.jwk import generate_jwk, public_jwk
from blauweknop.scheme import applications, publication
from blauweknop.scheme.models import Application, AuditEntry
from tests.scheme.test_apply_api import (
    KEYS,
    WATERSCHAP,
    WONINGCORPORATIE,
    ask,
    assertion,
    described,
    post,
    refused,
    signed,
)
from tests.scheme.test_operator_pages import operator, page_of  # noqa: F401

pytestmark = pytest.mark.django_db


def impostor(kid: str | None = None, oin: str = WATERSCHAP) -> tuple[dict, str]:
    """A fresh key (with ``kid``, else its own) and an application under ``oin`` signed with it."""
    key = generate_jwk()
    if kid is not None:
        key = {**key, "kid": kid}
    token = signed(described(oin, base_url="https://evil.example", jwks={"keys": [public_jwk(key)]}), key)
    return key, token


def test_impostors_with_the_real_kid_are_refused_and_the_real_applicant_reads_its_status(client):
    publication.publish()
    real = KEYS[WATERSCHAP][0]
    assert post(client, signed(described())).status_code == 201
    problem = refused(post(client, impostor(real["kid"])[1]), 409, "kid_taken")
    assert "another key id" in problem["detail"]
    for _ in range(applications.MAX_CANDIDATES):  # from many addresses: past the limit of one
        with pytest.raises(applications.NotAccepted) as refusal:
            applications.apply(impostor(real["kid"])[1])
        assert refusal.value.code == "kid_taken"
    assert Application.objects.filter(oin=WATERSCHAP).count() == 1
    assert ask(client, WATERSCHAP).json()["status"] == "aangemeld"


def test_at_most_five_applications_of_one_oin_wait_and_the_real_one_still_reads_its_status(client, operator):  # noqa: F811
    publication.publish()
    assert post(operator, signed(described())).status_code == 201
    keys = [impostor()[0] for _ in range(applications.MAX_WAITING)]
    for key in keys[:-1]:
        token = signed(described(base_url="https://evil.example", jwks={"keys": [public_jwk(key)]}), key)
        assert post(operator, token).status_code == 201
    last = keys[-1]
    token = signed(described(base_url="https://evil.example", jwks={"keys": [public_jwk(last)]}), last)
    assert "decide on them" in refused(post(operator, token), 409, "too_many_waiting")["detail"]
    assert Application.objects.filter(oin=WATERSCHAP).count() == applications.MAX_WAITING
    assert ask(operator, WATERSCHAP).json()["status"] == "aangemeld"
    assert ask(operator, WATERSCHAP, assertion(WATERSCHAP, keys[0])).json()["status"] == "aangemeld"
    # Another OIN applies as before: the limit is per OIN.
    assert post(operator, signed(described(WONINGCORPORATIE))).status_code == 201

    page = operator.get(page_of(Application.objects.filter(oin=WATERSCHAP).first())).content.decode()
    assert "Er wachten 5 aanmeldingen met dit OIN. Dat is het hoogste aantal." in page
    assert "dan vervalt zij na 30 dagen" in page
    other = operator.get(page_of(Application.objects.get(oin=WONINGCORPORATIE))).content.decode()
    assert "hoogste aantal" not in other and "dan vervalt zij na 30 dagen" in other
    operator.cookies["django_language"] = "en"
    page = operator.get(page_of(Application.objects.filter(oin=WATERSCHAP).first())).content.decode()
    assert "5 applications with this OIN are waiting. That is the most." in page
    assert "it lapses after 30 days" in page


def test_an_application_nobody_decided_on_lapses_after_thirty_days_and_frees_its_kid(client, operator):  # noqa: F811
    publication.publish()
    assert post(client, signed(described())).status_code == 201
    assert post(client, signed(described(WONINGCORPORATIE))).status_code == 201
    old = Application.objects.get(oin=WATERSCHAP)
    Application.objects.filter(pk=old.pk).update(received_at=timezone.now() - applications.LAPSE_AFTER)
    now = timezone.now()
    assert applications.lapse(now - timedelta(seconds=1)) == 0  # not yet
    assert applications.lapse(now) == 1
    assert applications.lapse(now) == 0  # once
    old.refresh_from_db()
    assert (old.state, old.decided_at) == (Application.State.REFUSED, now)
    assert Application.objects.get(oin=WONINGCORPORATIE).state == Application.State.WAITING
    entry = AuditEntry.objects.get(action=applications.LAPSED)
    assert (entry.subject, entry.details["aanmelding"], entry.actor) == (WATERSCHAP, old.pk, "systeem")
    assert ask(client, WATERSCHAP).json()["status"] == "geweigerd"  # its sender reads it with its own key
    # Its kid is free again: an impostor may now apply with it, and the real one can still read its own status.
    _, token = impostor(KEYS[WATERSCHAP][0]["kid"])
    assert post(client, token).status_code == 201
    assert ask(client, WATERSCHAP).json()["status"] == "geweigerd"
    assert "Aanmelding vervallen: geen besluit op tijd" in operator.get("/stelsel/beheer/logboek/").content.decode()
