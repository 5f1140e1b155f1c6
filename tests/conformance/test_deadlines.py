"""The kit and the command's downloads are bounded in time: a server that sends its answer a byte at a time is cut off.

Every read on its own comes in time (a byte every 0.2 s), so a timeout per read never fires: only a deadline for
the whole answer, and one for the whole run, stop it. The deadlines are short here so the tests take seconds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from blauweknop import cli
from blauweknop.conformance.probe import Probe

BYTE_EVERY = 0.2  # seconds
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"


class SlowServer:
    """A loopback server that answers every request one byte at a time, forever; ``url`` is where it listens."""

    def __init__(self, head_too: bool) -> None:
        self.head_too = head_too  # trickle the status line and headers too, not only the body
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            if not self.head_too:
                connection.sendall(HEAD)
            answer = HEAD if self.head_too else b" " * 100_000
            for byte in answer * 1000:
                if self._stopped.is_set():
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:  # the client gave up: what these tests want
                    return
                time.sleep(BYTE_EVERY)

    def close(self) -> None:
        self._stopped.set()
        self._socket.close()


@pytest.fixture(params=[False, True], ids=["body", "headers"])
def slow(request) -> Iterator[SlowServer]:
    server = SlowServer(head_too=request.param)
    yield server
    server.close()


@pytest.mark.timeout(30)  # without a deadline the answer takes hours: fail, do not hang the run
def test_a_trickled_answer_is_cut_off_at_its_deadline(slow):
    started = time.monotonic()
    with Probe(answer_deadline=1, run_deadline=60) as probe:
        exchange = probe.get(f"{slow.url}/.well-known/jwt-vc-issuer/h", "the issuer metadata")
    assert time.monotonic() - started < 3
    assert exchange.status is None
    assert exchange.described() == "no answer (it did not come whole within 1 seconds)"


@pytest.mark.timeout(30)
def test_once_the_run_deadline_is_used_up_nothing_more_is_asked(slow):
    started = time.monotonic()
    with Probe(answer_deadline=1, run_deadline=1.5) as probe:
        first, second, third = (probe.get(f"{slow.url}/{n}", "x") for n in range(3))
    assert time.monotonic() - started < 3.5
    assert first.error == "it did not come whole within 1 seconds"
    assert second.error.startswith("it did not come whole within 0.")  # what was left of the run
    assert third.error == "not asked: the 1.5 seconds for the whole run were used up"
    assert len(probe.exchanges) == 3  # each one recorded: the later checks judge them


@pytest.mark.timeout(30)
def test_the_commands_downloads_are_cut_off_at_their_deadline(slow, monkeypatch):
    monkeypatch.setattr(cli, "FETCH_DEADLINE", 1, raising=False)
    started = time.monotonic()
    with pytest.raises(cli.UsageError) as refused:
        cli._fetch(f"{slow.url}/stelsel/jwks.json", "scheme operator keys")
    assert time.monotonic() - started < 3
    assert str(refused.value) == (
        f"cannot fetch the scheme operator keys from {slow.url}/stelsel/jwks.json: "
        "no answer (it did not come whole within 1 seconds)"
    )


@pytest.mark.timeout(30)
def test_a_slow_scheme_document_is_a_usage_error_in_seconds(slow, monkeypatch, capsys):
    monkeypatch.setattr(cli, "FETCH_DEADLINE", 1, raising=False)
    started = time.monotonic()
    code = cli.main(["conformance", "--holder", f"{slow.url}/h", "--scheme-document", f"{slow.url}/stelseldocument"])
    assert time.monotonic() - started < 3
    assert code == cli.EXIT_USAGE
    assert "did not come whole within 1 seconds" in capsys.readouterr().err


@pytest.mark.timeout(30)
def test_asking_how_an_application_stands_is_cut_off_at_its_deadline(slow, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "FETCH_DEADLINE", 1, raising=False)
    key = tmp_path / "key.jwk"
    assert cli.main(["keys", "generate", "--out", str(key)]) == cli.EXIT_OK
    started = time.monotonic()
    code = cli.main(["scheme", "status", "--oin", "00000009876543210000", "--key", str(key), "--scheme", slow.url])
    assert time.monotonic() - started < 3
    assert code == cli.EXIT_INVALID
    assert "did not come whole within 1 seconds" in capsys.readouterr().out


def test_the_run_deadline_is_an_option_within_bounds(capsys):
    for wrong in ("0", "-1", "3601", "nan"):
        code = cli.main(["conformance", "--holder", "http://127.0.0.1:9/h", "--deadline", wrong])
        assert code == cli.EXIT_USAGE
        assert "--deadline must be more than 0 and at most 3600 seconds" in capsys.readouterr().err
