"""What keeps the overview's fan-out fast (issue 9, item 5) without skipping a check or losing an answer."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blauweknop import keystore
from blauweknop.portal import session, verification
from blauweknop.portal.holders import Citizen, Kind, close_fan_out_clients, fan_out_client, fetch
from blauweknop.portal.models import SessionCopies
from blauweknop.portal.verification import status_lists, verify_received
from blauweknop.protocol import sdjwt_vc, status_list
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.scheme_document import HOLDER
from blauweknop.scheme.client import scheme_client

from .conftest import BELASTING, GEMEENTE
from .stand_in import Answering, serving
from .test_holder_failures import _move


def _scheme():
    return asyncio.run(scheme_client.current())


def _list(scheme) -> str:
    """The tax office's status list: on its issuer's own origin, as verifiers require (never fetched: see below)."""
    return scheme.organisations[BELASTING].endpoints["issuer"] + "/statuslijsten/1"


def _copy_and_list(scheme, revoked: bool) -> tuple[str, str]:
    """A copy from the tax office at index 3 of its list, and that list (index 3 revoked, or not)."""
    holder = scheme.organisations[BELASTING]
    key = keystore.signing_key(BELASTING)
    statuses = status_list.StatusList(16)
    if revoked:
        statuses.set(3, status_list.INVALID)
    token = status_list.sign(statuses, key, uri=_list(scheme), iss=holder.endpoints["issuer"])
    copy = sdjwt_vc.issue(
        {"naam": "Iemand"},
        key,
        iss=holder.endpoints["issuer"],
        vct=next(t["vct"] for t in scheme.document_types if t["id"] == "inkomen"),
        status=status_list.StatusReference(_list(scheme), 3),
    )
    return copy, token


@pytest.fixture
def published_list(monkeypatch):
    """Serve the status list from the given token, noting which thread fetched it; nothing kept before or after."""
    fetched_in = []

    def serve(token: str) -> None:
        def fetch(uri: str) -> str:
            fetched_in.append(threading.current_thread())
            return token

        monkeypatch.setattr(status_lists, "_fetch", fetch)

    status_lists.forget()
    yield serve, fetched_in
    status_lists.forget()


@pytest.mark.django_db
@pytest.mark.parametrize("kept", [True, False])
def test_it_refuses_a_revoked_copy_whether_its_status_list_is_kept_or_not(demo_world, published_list, kept):
    serve, _ = published_list
    scheme = _scheme()
    copy, token = _copy_and_list(scheme, revoked=True)
    serve(token)
    if kept:
        status_lists.token(_list(scheme), scheme.issuer_keys())
    with pytest.raises(VerificationError) as refused:
        asyncio.run(verify_received(copy, scheme))
    assert refused.value.code == "revoked"


@pytest.mark.django_db
def test_it_verifies_on_the_event_loop_when_the_list_is_kept_and_fetches_a_list_in_a_thread(
    demo_world, published_list, monkeypatch
):
    serve, fetched_in = published_list
    scheme = _scheme()
    copy, token = _copy_and_list(scheme, revoked=False)
    serve(token)
    verified = asyncio.run(verify_received(copy, scheme))  # not kept: fetched, never on the event loop's thread
    assert verified.claims == {"naam": "Iemand"}
    assert fetched_in and threading.main_thread() not in fetched_in

    def no_thread(*args, **kwargs):
        raise AssertionError("a kept list needs no thread")

    monkeypatch.setattr(verification, "verify_credential", no_thread)
    assert asyncio.run(verify_received(copy, scheme)).claims == {"naam": "Iemand"}
    assert len(fetched_in) == 1


@pytest.mark.django_db
def test_it_refuses_a_tampered_copy_even_when_its_status_list_is_kept(demo_world, published_list):
    serve, _ = published_list
    scheme = _scheme()
    copy, token = _copy_and_list(scheme, revoked=False)
    serve(token)
    status_lists.token(_list(scheme), scheme.issuer_keys())
    jwt, _, rest = copy.partition("~")
    header, payload, signature = jwt.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA~{rest}"
    with pytest.raises(VerificationError):
        asyncio.run(verify_received(tampered, scheme))


@pytest.mark.django_db
def test_it_keeps_a_pool_of_connections_per_holder_and_per_event_loop(demo_world):
    scheme = _scheme()
    tax, town = scheme.organisations[BELASTING], scheme.organisations[GEMEENTE]

    async def clients():
        first, again, other = fan_out_client(tax), fan_out_client(tax), fan_out_client(town)
        await close_fan_out_clients()
        return first, again, other, fan_out_client(tax)

    first, again, other, after_closing = asyncio.run(clients())
    assert first is again  # its connections are kept alive for the next fan-out
    assert first is not other  # one pool per holder: a request checks only that holder's idle connections
    assert first.is_closed and after_closing is not first
    assert asyncio.run(clients())[0] is not first  # a connection belongs to the event loop that opened it


class _SettingCookies(Answering):
    """A holder that answers every request with a cookie, and notes the cookies each request brought."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.brought.append(self.headers.get("Cookie"))
        self.send_response(404)
        self.send_header("Set-Cookie", "volger=burger-1; Path=/")
        body = b'{"code": "no_data"}'
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_carry_a_holders_cookie_from_one_citizen_to_the_next(demo_world, wallet):
    with serving(_SettingCookies) as server:
        server.brought = []
        _move(BELASTING, f"http://127.0.0.1:{server.server_port}")
        scheme = _scheme()
        holder = scheme.organisations[BELASTING]

        async def both():
            for bsn in ("999990019", "999990020"):
                citizen = Citizen(bsn, "midden", wallet.public_jwk)
                fetched = await fetch(fan_out_client(holder), scheme, holder, "inkomen", citizen)
                assert fetched.kind == Kind.ABSENT
            await close_fan_out_clients()

        asyncio.run(both())
    assert server.brought == [None, None]


def _session_key() -> str:
    store = SessionStore()
    store.set_expiry(timezone.now() + timedelta(minutes=15))
    store.create()
    return store.session_key


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_answers_of_several_holders_in_one_write(demo_world):
    key = _session_key()
    scheme = _scheme()
    holders = sorted(p.oin for p in scheme.organisations.values() if HOLDER in p.roles)[:3]
    answers = [session.Answered(oin, SessionCopies.Outcome.NONE, {}, ["inkomen"]) for oin in holders]
    with CaptureQueriesContext(connection) as queries:
        session._keep(key, answers)  # what keep_answers runs in the database's thread
    assert [q["sql"].split()[0] for q in queries.captured_queries if "session" in q["sql"].lower()] == ["INSERT"]
    kept = SessionCopies.objects.filter(session_id=key).order_by("holder_oin")
    assert [(k.holder_oin, k.outcome, k.absent) for k in kept] == [(oin, "geen", ["inkomen"]) for oin in holders]
    asyncio.run(session.keep_answers(key, [session.Answered(holders[0], SessionCopies.Outcome.UNREACHABLE, {}, [])]))
    assert SessionCopies.objects.get(session_id=key, holder_oin=holders[0]).outcome == "onbereikbaar"


@pytest.mark.django_db(transaction=True)
def test_answers_for_a_session_that_ended_are_not_kept_and_raise_nothing(demo_world):
    key = _session_key()
    SessionStore(session_key=key).delete()
    asyncio.run(session.keep_answers(key, [session.Answered(BELASTING, SessionCopies.Outcome.NONE, {}, [])]))
    assert not SessionCopies.objects.filter(session_id=key).exists()
