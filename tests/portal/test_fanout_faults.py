"""Fault injection: each way a holder can fail costs that holder only, and nothing unverified gets through.

One holder (the municipality) is moved to a stand-in that fails in one way; every other holder of
the demo world answers for real. The stand-in's copies carry a marker that must reach no result.
Copies are signed for real, with the municipality's own key (or a key the scheme does not know).
"""

import asyncio
import base64
import contextlib
import json
import logging
import threading
import time

import pytest

from blauweknop import keystore
from blauweknop.db import release_before_waiting
from blauweknop.portal.fanout import ask_all
from blauweknop.portal.holders import MAX_ANSWER_BYTES, Citizen, fetch, http_client
from blauweknop.protocol import sdjwt, sdjwt_vc, status_list
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.scheme_document import HOLDER
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation

from .conftest import BELASTING, GEMEENTE, log_in
from .stand_in import Answering, serving
from .test_fanout import asker, collect
from .test_holder_failures import _move
from .test_overview import sections, streamed

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "Vergiftigde Waarde 4711"  # in every copy the stand-in sends; must never reach a result
TIMEOUT = 4.0  # seconds: the demo world's dozen real holders answer well within it, also on a busy machine
MARGIN = 0.3  # seconds the fan-out may take beyond its timeout
JSON = "application/json"


class _Holder(Answering):
    """A holder's API: every POST answered by ``server.respond(server, type_id, attempt)``; GET: its status list.

    Whom each POST asks about is in ``server.asked_about`` (this request's thread only): see :func:`_copy`.
    """

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        type_id = body.get("documentsoort")
        self.server.asked_about.bsn, self.server.asked_about.wallet_jwk = asker(body)
        with self.server.lock:
            self.server.asked.append(type_id)
            attempt = self.server.asked.count(type_id)
        time.sleep(self.server.delay)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the portal gave up waiting, as it should
            self.answer(*self.server.respond(self.server, type_id, attempt))

    def do_GET(self):
        self.answer(200, "application/statuslist+jwt", self.server.status_token().encode())


def _issuer():
    scheme = asyncio.run(scheme_client.current())
    return scheme.organisations[GEMEENTE].endpoints["issuer"]


def _status_token(server, invalid=False):
    """The stand-in's status list, signed by the municipality's key: every copy valid, or index 0 invalid."""
    statuses = status_list.StatusList(16)
    if invalid:
        statuses.set(0, status_list.INVALID)
    key = keystore.signing_key(GEMEENTE)
    return status_list.sign(statuses, key, uri=server.status_uri, iss=_issuer())


def _copy(server, type_id, key=None, iss=None, bsn=None, wallet_jwk=None, status=True):
    """A copy of ``type_id`` with the marker in it, signed by ``key`` (default: the municipality's own).

    About the citizen asked about and bound to their wallet key, unless ``bsn`` or ``wallet_jwk`` says otherwise.
    """
    scheme = asyncio.run(scheme_client.current())
    vct = next(t["vct"] for t in scheme.document_types if t["id"] == type_id)
    credential = sdjwt_vc.issue(
        {"burgerservicenummer": bsn or server.asked_about.bsn, "naam": MARKER},
        key or keystore.signing_key(GEMEENTE),
        iss=iss or _issuer(),
        vct=vct,
        holder_jwk=wallet_jwk or server.asked_about.wallet_jwk,
        status=status_list.StatusReference(server.status_uri, 0) if status else None,
    )
    server.sent.append(credential)
    return credential


def _created(credential):
    return 201, JSON, json.dumps({"verklaring": credential}).encode()


def _good(server, type_id, attempt):
    return _created(_copy(server, type_id))


@pytest.fixture
def stand_in(demo_world):
    """The municipality, moved to a stand-in that answers with a good copy until a test says otherwise."""
    with serving(_Holder) as server:
        server.lock = threading.Lock()
        server.asked, server.sent, server.delay, server.respond = [], [], 0.0, _good
        server.asked_about = threading.local()
        server.status_uri = f"http://127.0.0.1:{server.server_port}/status/1"
        server.status_token = lambda: _status_token(server)
        _move(GEMEENTE, f"http://127.0.0.1:{server.server_port}")
        yield server


@pytest.fixture
def citizen(citizen_bsn, wallet):
    return Citizen(citizen_bsn, "midden", wallet.public_jwk)


@pytest.fixture
def page(client, citizen_bsn, settings):
    """Mijn overzicht as the citizen's browser gets it (a session's first visit asks every holder)."""
    settings.OVERVIEW_TIMEOUT = TIMEOUT
    assert log_in(client, citizen_bsn).status_code == 302
    return lambda: streamed(client.get("/overzicht/"))


def assert_the_page_says(page, outcome):
    """The page shows the municipality's section with ``outcome``, and no value the stand-in sent."""
    html = page()
    assert sections(html)[GEMEENTE] == outcome
    assert MARKER not in html


def fan_out(citizen, timeout=TIMEOUT):
    """Every result of one fan-out, by holder OIN, and the seconds it took."""
    results, took = collect(citizen, timeout)
    assert len({r.holder.oin for r in results}) == len(results)
    return {r.holder.oin: r for r in results}, took


def _data(credential):
    return json.dumps(sdjwt.unverified_claims(credential), ensure_ascii=False)


def assert_nothing_of_the_stand_in_passed(results, stand_in):
    """No copy the stand-in sent, nor any value in one, is in any result."""
    for result in results.values():
        for credential in result.credentials.values():
            assert credential not in stand_in.sent
            assert MARKER not in _data(credential)
            assert MARKER not in credential


def assert_the_others_came(results):
    """Every other holder answered for real: the tax office with verified copies, none failed."""
    scheme = asyncio.run(scheme_client.current())
    others = {p.oin for p in scheme.organisations.values() if HOLDER in p.roles} - {GEMEENTE}
    assert others <= set(results)
    assert results[BELASTING].outcome == "opgehaald" and results[BELASTING].credentials
    assert {results[oin].outcome for oin in others} <= {"opgehaald", "geen"}


def reasons(caplog, oin=GEMEENTE):
    """The reason codes logged for ``oin``'s failures."""
    return {
        r.getMessage().split("reason ")[1].split(" ")[0]
        for r in caplog.records
        if r.levelno == logging.WARNING and oin in r.getMessage() and "reason " in r.getMessage()
    }


def test_a_good_stand_in_is_trusted_so_the_faults_below_are_its_faults(stand_in, citizen):
    results, _ = fan_out(citizen)
    gemeente = results[GEMEENTE]
    assert gemeente.outcome == "opgehaald"
    assert set(gemeente.credentials) == set(gemeente.holder.document_types)
    assert all(MARKER in _data(c) for c in gemeente.credentials.values())


def test_a_holder_that_is_down_is_unreachable_and_the_others_come(demo_world, citizen, caplog, page):
    _move(GEMEENTE, "http://127.0.0.1:9")
    results, took = fan_out(citizen)
    assert results[GEMEENTE].outcome == "onbereikbaar" and not results[GEMEENTE].credentials
    assert_the_others_came(results)
    assert reasons(caplog) == {"unreachable"}
    assert took < TIMEOUT
    assert_the_page_says(page, "onbereikbaar")


def test_a_slow_holder_is_unreachable_at_the_timeout_and_holds_no_one_up(stand_in, citizen, caplog, page):
    stand_in.delay = TIMEOUT + 2
    results, took = fan_out(citizen)
    assert TIMEOUT - 0.05 <= took <= TIMEOUT + MARGIN
    assert results[GEMEENTE].outcome == "onbereikbaar" and not results[GEMEENTE].credentials
    assert_the_others_came(results)
    assert_nothing_of_the_stand_in_passed(results, stand_in)
    assert reasons(caplog) == {"timeout"}
    assert_the_page_says(page, "onbereikbaar")


def test_a_slow_holder_yields_last_and_the_others_as_they_come(stand_in, citizen):
    stand_in.delay = TIMEOUT + 2

    async def run():
        scheme = await scheme_client.current()
        started, order = time.monotonic(), []
        async for result in ask_all(scheme, citizen, timeout=TIMEOUT):
            order.append((result.holder.oin, time.monotonic() - started))
        await release_before_waiting()
        return order

    order = asyncio.run(run())
    assert order[-1][0] == GEMEENTE
    assert all(took < TIMEOUT - 0.5 for _, took in order[:-1])  # not held back until the slow one is done


def _503(server, type_id, attempt):
    return 503, "application/problem+json", b'{"code": "busy"}'


def test_a_holder_in_error_is_asked_once_more_then_unreachable(stand_in, citizen, caplog, page):
    stand_in.respond = _503
    results, took = fan_out(citizen)
    assert results[GEMEENTE].outcome == "onbereikbaar" and not results[GEMEENTE].credentials
    types = results[GEMEENTE].holder.document_types
    assert sorted(stand_in.asked) == sorted(types * 2)  # each type once more, not again after that
    assert_the_others_came(results)
    assert reasons(caplog) == {"http_503"}
    assert took < TIMEOUT
    assert_the_page_says(page, "onbereikbaar")


def _503_then_201(server, type_id, attempt):
    return _503(server, type_id, attempt) if attempt == 1 else _good(server, type_id, attempt)


def test_a_holder_that_answers_on_the_second_try_gives_its_copies(stand_in, citizen):
    stand_in.respond = _503_then_201
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "opgehaald"
    assert set(results[GEMEENTE].credentials) == set(results[GEMEENTE].holder.document_types)


def test_a_holder_in_error_is_not_asked_again_without_time_for_it(stand_in, citizen):
    stand_in.respond, stand_in.delay = _503, 0.8
    results, took = fan_out(citizen, timeout=1.0)
    assert results[GEMEENTE].outcome == "onbereikbaar"
    assert len(stand_in.asked) == len(results[GEMEENTE].holder.document_types)
    assert took <= 1.0 + MARGIN


@pytest.mark.parametrize(
    "answer",
    [
        (201, "text/html", b"<html>" + MARKER.encode() + b"</html>"),
        (201, JSON, json.dumps({"gegevens": MARKER}).encode()),
        (201, JSON, b'{"verklaring": "' + b"a" * MAX_ANSWER_BYTES + b'"}'),
    ],
    ids=["not-json", "no-verklaring", "huge"],
)
def test_a_holder_answering_garbage_is_untrusted(stand_in, citizen, caplog, answer, page):
    stand_in.respond = lambda server, type_id, attempt: answer
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "onbetrouwbaar" and not results[GEMEENTE].credentials
    assert MARKER not in repr(results) and MARKER not in json.dumps([r.credentials for r in results.values()])
    assert_the_others_came(results)
    assert reasons(caplog) == {"malformed"}
    assert len(stand_in.asked) == len(results[GEMEENTE].holder.document_types)  # not asked again
    assert_the_page_says(page, "onbetrouwbaar")


def _bad_signature(server, type_id, attempt):
    credential = _copy(server, type_id)
    jwt, _, rest = credential.partition("~")
    head, payload, signature = jwt.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 1
    flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    server.sent.append(forged := f"{head}.{payload}.{flipped}~{rest}")
    return _created(forged)


def _unknown_key(server, type_id, attempt):
    return _created(_copy(server, type_id, key=SigningKey(generate_jwk())))


def _unknown_address(server, type_id, attempt):
    return _created(_copy(server, type_id, iss="http://127.0.0.1:9/nergens"))


@pytest.mark.parametrize(
    ("respond", "reason"),
    [(_bad_signature, "bad_signature"), (_unknown_key, "unknown_issuer"), (_unknown_address, "unknown_issuer")],
    ids=["bad-signature", "key-not-in-scheme", "issuer-not-in-scheme"],
)
def test_a_copy_that_does_not_verify_is_untrusted(stand_in, citizen, caplog, respond, reason, page):
    stand_in.respond = respond
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "onbetrouwbaar" and not results[GEMEENTE].credentials
    assert stand_in.sent
    assert_nothing_of_the_stand_in_passed(results, stand_in)
    assert_the_others_came(results)
    assert reasons(caplog) == {reason}
    assert_the_page_says(page, "onbetrouwbaar")


def test_a_suspended_holder_is_not_asked(stand_in, citizen, caplog, page):
    Organisation.objects.filter(oin=GEMEENTE).update(certification="suspended")
    _move(GEMEENTE, f"http://127.0.0.1:{stand_in.server_port}")
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "doet-niet-mee" and not results[GEMEENTE].credentials
    assert stand_in.asked == []
    assert_the_others_came(results)
    assert reasons(caplog) == {"suspended_participant"}
    assert_the_page_says(page, "doet-niet-mee")


def test_a_copy_signed_by_a_suspended_holder_whose_key_still_signs_is_refused(stand_in, citizen, caplog, page):
    scheme = asyncio.run(scheme_client.current())
    # A third holder, suspended in the scheme; its key still signs, and the stand-in sends a copy made with it.
    other = next(p for p in scheme.organisations.values() if HOLDER in p.roles and p.oin not in (GEMEENTE, BELASTING))
    Organisation.objects.filter(oin=other.oin).update(certification="suspended")
    _move(GEMEENTE, f"http://127.0.0.1:{stand_in.server_port}")

    def signed_by_the_suspended(server, type_id, attempt):
        return _created(_copy(server, type_id, key=keystore.signing_key(other.oin), iss=other.endpoints["issuer"]))

    stand_in.respond = signed_by_the_suspended
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "onbetrouwbaar" and not results[GEMEENTE].credentials
    assert results[other.oin].outcome == "doet-niet-mee"
    assert_nothing_of_the_stand_in_passed(results, stand_in)
    assert reasons(caplog) == {"suspended_participant"}
    assert_the_page_says(page, "onbetrouwbaar")


def test_a_withdrawn_copy_is_untrusted(stand_in, citizen, caplog, page):
    stand_in.status_token = lambda: _status_token(stand_in, invalid=True)
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "onbetrouwbaar" and not results[GEMEENTE].credentials
    assert_nothing_of_the_stand_in_passed(results, stand_in)
    assert_the_others_came(results)
    assert reasons(caplog) == {"revoked"}
    assert_the_page_says(page, "onbetrouwbaar")


# A genuine copy that answers another question: verified, but not the copy asked for (portal/addressed.py).
ANOTHER_BSN = "111222333"  # passes the eleven test; no demo citizen has it


def _about_another_citizen(server, type_id, attempt):
    return _created(_copy(server, type_id, bsn=ANOTHER_BSN))


def _bound_to_another_wallet(server, type_id, attempt):
    return _created(_copy(server, type_id, wallet_jwk=SigningKey(generate_jwk()).public_jwk))


def _of_another_type(server, type_id, attempt):
    return _created(_copy(server, "vorderingen" if type_id == "inkomen" else "inkomen"))


def _from_another_holder(server, type_id, attempt):
    scheme = asyncio.run(scheme_client.current())
    other = scheme.organisations[BELASTING]  # certified, and its own copy verifies: but it was not asked
    # No status: a status list must be the issuer's own, and the tax office's is not the stand-in's to sign.
    key = keystore.signing_key(BELASTING)
    return _created(_copy(server, type_id, key=key, iss=other.endpoints["issuer"], status=False))


def _without_status(server, type_id, attempt):
    return _created(_copy(server, type_id, status=False))


def basis_page(client, oin=GEMEENTE):
    """The holder's data page after a press of its Blauwe Knop, as the logged-in citizen's browser gets it."""
    pressed = client.post(f"/organisaties/{oin}/blauwe-knop/")
    assert pressed.status_code == 302
    return client.get(pressed["Location"]).content.decode()


@pytest.mark.parametrize(
    ("respond", "reason"),
    [
        (_about_another_citizen, "wrong_subject"),
        (_bound_to_another_wallet, "wrong_wallet"),
        (_of_another_type, "wrong_type"),
        (_from_another_holder, "wrong_issuer"),
        (_without_status, "no_status"),
    ],
    ids=["another-citizen", "another-wallet", "another-type", "another-holder", "no-status"],
)
def test_it_refuses_a_genuine_copy_that_is_not_the_one_asked_for(
    stand_in, citizen, caplog, respond, reason, page, client
):
    stand_in.respond = respond
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "onbetrouwbaar" and not results[GEMEENTE].credentials
    assert stand_in.sent
    assert_nothing_of_the_stand_in_passed(results, stand_in)
    assert_the_others_came(results)
    assert reasons(caplog) == {reason}
    assert len(stand_in.asked) == len(results[GEMEENTE].holder.document_types)  # not asked again
    assert_the_page_says(page, "onbetrouwbaar")
    data = basis_page(client)
    assert MARKER not in data and "stuurde gegevens die we niet konden controleren" in data


def test_it_refuses_a_copy_of_a_type_the_holder_does_not_issue(stand_in, citizen, caplog):
    scheme = asyncio.run(scheme_client.current())
    gemeente = scheme.organisations[GEMEENTE]
    # Asked for a type it does not issue, it sends a genuine copy of that very type: still not a copy to show.
    foreign = next(t["id"] for t in scheme.document_types if t["id"] not in gemeente.document_types)

    async def ask():
        async with http_client() as client:
            return await fetch(client, scheme, gemeente, foreign, citizen)

    fetched = asyncio.run(ask())
    assert stand_in.sent and fetched.kind == "untrusted" and fetched.credential is None and fetched.verified is None
    assert reasons(caplog) == {"wrong_type"}
