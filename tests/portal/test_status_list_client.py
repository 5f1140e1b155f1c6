"""The portal's status-list client under a slow or dead list server (security review F2).

Copies whose list is not in memory are verified in a small pool of threads: a list server that
sends a byte a second (slowloris), or one that is down, must not hold those threads or be asked
by every verification. Each test talks real HTTP to a stand-in list server.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from blauweknop.portal import verification
from blauweknop.portal.verification import StatusLists
from blauweknop.protocol import sdjwt_vc, status_list
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.protocol.status_list import StatusList, StatusReference

from .stand_in import Answering, serving

pytestmark = pytest.mark.django_db(transaction=True)  # the shared cache is a database table

DEADLINE = 1  # seconds, instead of the deployment's 3: the tests wait less
MARGIN = 1.0  # for a busy test machine
DRIP = 0.5  # seconds between two bytes of a slowloris answer
LIST = "/api/v1/statuslijsten/1"


@pytest.fixture(autouse=True)
def deadline(settings):
    settings.STATUS_LIST_DEADLINE = DEADLINE


class _Dripping(Answering):
    """Writes ``server.at_once`` (raw HTTP), then ``server.drip`` one byte at a time (slowloris)."""

    def do_GET(self):
        self.server.asked += 1
        drip = self.server.drip
        try:
            self.wfile.write(self.server.at_once)
            for i in range(len(drip)):
                time.sleep(DRIP)
                self.wfile.write(drip[i : i + 1])
        except OSError:  # the client gave up: that is the point
            pass
        self.close_connection = True


@pytest.mark.parametrize(
    ("at_once", "drip"),
    [
        # The headers in one go, then the body a byte at a time: ~6 s in all.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", b"abcdefghijkl"),
        # Even the status line and headers a byte at a time: ~10 s in all.
        (b"", b"HTTP/1.1 200 OK\r\n\r\nabc"),
    ],
    ids=["body", "headers"],
)
def test_it_gives_up_a_slowloris_status_list_download_at_the_deadline(at_once, drip):
    with serving(_Dripping) as server:
        server.asked, server.at_once, server.drip = 0, at_once, drip
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            verification.download(f"http://127.0.0.1:{server.server_port}{LIST}")
        assert time.monotonic() - started < DEADLINE + MARGIN
        assert server.asked == 1


class _Issuer:
    """An issuer at the stand-in's address: its key, and copies whose status list it publishes there."""

    def __init__(self, port: int) -> None:
        self.key = SigningKey(generate_jwk())
        self.iss = f"http://127.0.0.1:{port}"
        self.uri = self.iss + LIST

    def copy(self, idx: int) -> str:
        return sdjwt_vc.issue({"x": idx}, self.key, iss=self.iss, vct="urn:test", status=StatusReference(self.uri, idx))

    def token(self) -> str:
        return status_list.sign(StatusList(64), self.key, uri=self.uri, iss=self.iss)


class _Slow(Answering):
    """Answers its issuer's genuine status list after half a second (within the deadline)."""

    def do_GET(self):
        with self.server.counting:
            self.server.asked += 1
        time.sleep(DEADLINE / 2)
        self.answer(200, "application/statuslist+jwt", self.server.issuer.token().encode())


class _Down(Answering):
    def do_GET(self):
        self.server.asked += 1
        self.answer(503, "text/plain", b"down")


def test_it_downloads_a_list_once_for_every_verification_that_needs_it_at_the_same_time():
    with serving(_Slow) as server:
        server.asked, server.counting = 0, threading.Lock()
        server.issuer = issuer = _Issuer(server.server_port)
        lists, keys = StatusLists(), KeySet([issuer.key.public_jwk])

        def verify(idx: int) -> sdjwt_vc.VerifiedCredential:
            return sdjwt_vc.verify(issuer.copy(idx), keys, status_lists=lists, require_key_binding=False)

        with ThreadPoolExecutor(20) as pool:
            verified = list(pool.map(verify, range(20)))
    assert [v.claims for v in verified] == [{"x": idx} for idx in range(20)]
    assert server.asked == 1


def test_it_does_not_ask_a_dead_list_server_again_for_a_while(monkeypatch):
    monkeypatch.setattr(verification, "FAILURE_KEPT", 1.0, raising=False)  # (absent before F2)
    with serving(_Down) as server:
        server.asked = 0
        issuer = _Issuer(server.server_port)
        lists, keys = StatusLists(), KeySet([issuer.key.public_jwk])
        for _ in range(3):
            with pytest.raises(VerificationError) as caught:
                lists.token(issuer.uri, keys)
            assert caught.value.code == "status_unavailable"
        assert server.asked == 1
        time.sleep(1.1)  # the failure is forgotten: the server may be back
        with pytest.raises(VerificationError):
            lists.token(issuer.uri, keys)
        assert server.asked == 2


def test_it_lets_every_waiting_verification_know_the_download_failed():
    with serving(_Down) as server:
        server.asked = 0
        issuer = _Issuer(server.server_port)
        lists, keys = StatusLists(), KeySet([issuer.key.public_jwk])

        def code(_: int) -> str:
            try:
                lists.token(issuer.uri, keys)
            except VerificationError as exc:
                return exc.code
            return "valid"

        with ThreadPoolExecutor(10) as pool:
            assert set(pool.map(code, range(10))) == {"status_unavailable"}
        assert server.asked == 1
