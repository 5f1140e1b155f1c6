"""When an app manager says a standing consent ended, the date must be one it can have ended on (attack review 2, F4).

Before, ``beeindigdOp=0001-01-01T00:00:00+14:00`` gave a 500 at the requester (a time with no UTC form), and any
past date, 1900 too, was kept and shown to staff ("ingetrokken op 1 januari 1900"). Now a date before the consent
was given, or ahead of the requester's clock by more than a few minutes, is a 400 problem and nothing is written.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from blauweknop.requester import endings
from blauweknop.requester.models import ShareRequest

from .test_ended_consents import portal_assertion, tell, two  # noqa: F401
from .world import BANK, BANK_SLUG, is_problem
from .world import state_of as state_at

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_date_the_consent_cannot_have_ended_on_is_refused_and_nothing_is_written(two):  # noqa: F811
    (_, woning), (_, bank) = two
    consent = woning["toestemming"]
    given = ShareRequest.objects.get(consent=consent).answered_at
    token = portal_assertion()
    for when in (
        "0001-01-01T00:00:00+14:00",  # no UTC time: was a 500
        "0001-01-01T00:00:00-14:00",
        "9999-12-31T23:59:59-14:00",
        "1900-01-01T00:00:00Z",
        (given - timedelta(seconds=1)).isoformat(),  # before the citizen gave it
        (timezone.now() + endings.SKEW + timedelta(minutes=1)).isoformat(),  # ahead of our clock
    ):
        assert is_problem(tell(consent, token=token, beeindigdOp=when), 400, "invalid_input"), when
    assert ShareRequest.objects.filter(status="goedgekeurd").count() == 2
    assert state_at(woning["code"]).json()["beeindigdOp"] is None

    # A clock a minute ahead is taken as now; the same assertion still counts once (nothing used it yet).
    ahead = timezone.now() + timedelta(minutes=1)
    assert tell(consent, token=token, beeindigdOp=ahead.isoformat()).status_code == 204
    ended = ShareRequest.objects.get(consent=consent).ended_at
    assert given <= ended <= timezone.now()
    assert is_problem(tell(consent, token=token), 401, "assertion_replayed")
    assert state_at(bank["code"], slug=BANK_SLUG, oin=BANK).json()["status"] == "goedgekeurd"


def test_a_date_between_given_and_now_is_kept(two):  # noqa: F811
    (_, woning), _ = two
    consent = woning["toestemming"]
    given = ShareRequest.objects.get(consent=consent).answered_at
    when = given + (timezone.now() - given) / 2
    assert tell(consent, beeindigdOp=when.astimezone(UTC).isoformat()).status_code == 204
    found = ShareRequest.objects.get(consent=consent)
    assert (found.status, found.ended_at) == ("ingetrokken", when)
