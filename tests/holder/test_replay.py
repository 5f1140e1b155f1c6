"""A used session assertion is refused for as long as it could still verify (issue 6, item 2)."""

import time
from datetime import UTC, datetime

import httpx
import pytest
from asgiref.sync import async_to_sync

from blauweknop.holder import sessions
from blauweknop.holder.errors import Replayed
from blauweknop.holder.models import SourceRecord, UsedAssertion
from blauweknop.protocol import session_assertion
from blauweknop.protocol.errors import VerificationError
from blauweknop.scheme.client import scheme_client
from tests.holder.test_issue_credential import BELASTING, _assertion

pytestmark = pytest.mark.django_db(transaction=True)
SIGNED_AT = 1_900_000_000
BSN = "999990019"  # passes the 11-proef; the holder only looks it up after the assertion checks


def _signed(bsn, wallet, now):
    return _assertion(bsn, wallet, now=now)


@pytest.fixture
def scheme(demo_world):
    return async_to_sync(scheme_client.current)()


@pytest.mark.parametrize("seconds_after_exp", [1, 59])
def test_it_refuses_a_replay_after_exp_within_the_leeway(scheme, wallet, seconds_after_exp):
    token = _signed(BSN, wallet, SIGNED_AT)
    exp = SIGNED_AT + session_assertion.MAX_LIFETIME
    now = exp + seconds_after_exp
    sessions.accept(BELASTING, token, scheme, now=now)
    UsedAssertion.forget_expired(datetime.fromtimestamp(now, UTC))  # housekeeping may run in between
    with pytest.raises(Replayed) as caught:
        sessions.accept(BELASTING, token, scheme, now=now)
    assert caught.value.code == "assertion_replayed"


def test_an_id_is_forgotten_only_when_the_assertion_can_no_longer_verify(scheme, wallet):
    token = _signed(BSN, wallet, SIGNED_AT)
    exp = SIGNED_AT + session_assertion.MAX_LIFETIME
    sessions.accept(BELASTING, token, scheme, now=SIGNED_AT)
    assert UsedAssertion.forget_expired(datetime.fromtimestamp(exp + sessions.LEEWAY - 1, UTC)) == 0
    assert UsedAssertion.forget_expired(datetime.fromtimestamp(exp + sessions.LEEWAY + 1, UTC)) == 1
    with pytest.raises(VerificationError) as caught:
        sessions.accept(BELASTING, token, scheme, now=exp + sessions.LEEWAY + 1)
    assert caught.value.code == "expired"


def test_over_http_a_replay_one_second_after_exp_is_refused(demo_world, wallet):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    token = _signed(bsn, wallet, int(time.time()) - session_assertion.MAX_LIFETIME - 1)
    body = {"appbeheerderverklaring": token, "documentsoort": "inkomen"}
    url = f"{demo_world.url}/belastingkantoor/api/v1/verklaringen"
    assert httpx.post(url, json=body, timeout=30).status_code == 201
    replay = httpx.post(url, json=body, timeout=30)
    assert replay.status_code == 401  # it was 201: the id had been forgotten at exp
    assert replay.json()["code"] == "assertion_replayed"
