"""A holder that cannot be reached, or answers with something the portal cannot trust: told apart, logged."""

import contextlib
import logging
import re
import time

import pytest

from blauweknop.portal.holders import MAX_ANSWER_BYTES
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.portal.conftest import scheme_lists_another_key

from .conftest import BELASTING, GEMEENTE, checkbox_paths
from .stand_in import Answering, serving

pytestmark = pytest.mark.django_db(transaction=True)

UNREACHABLE = "is nu niet bereikbaar. Probeer het later nog eens."
UNTRUSTED = (
    "{name} stuurde gegevens die we niet konden controleren. We laten ze daarom niet zien. "
    "Probeer het later nog eens of neem contact op met {name}."
)
REFUSED = "gaf nu geen gegevens. Probeer het later nog eens."


def _move(oin, base_url):
    """Publish ``oin`` at another address, as the operator would, and let the portal see it at once."""
    Organisation.objects.filter(oin=oin).update(base_url=base_url)
    publication.publish()
    scheme_client.forget()


def _press(client, oin):
    response = client.post(f"/organisaties/{oin}/blauwe-knop/")
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def _warnings(caplog, oin):
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "blauweknop.portal.holders" and r.levelno == logging.WARNING and oin in r.getMessage()
    ]


def test_a_copy_that_fails_verification_is_named_untrusted_and_logged(citizen, citizen_bsn, caplog):
    scheme_lists_another_key(BELASTING)
    page = _press(citizen, BELASTING)
    assert UNTRUSTED.format(name="Belastingkantoor Voorbeeldland") in page
    assert UNREACHABLE not in page and not checkbox_paths(page)
    logged = _warnings(caplog, BELASTING)
    assert logged and all("reason bad_signature (code bad_signature)" in line for line in logged)
    assert all(pseudonym(citizen_bsn) in line for line in logged)
    # The other holder, whose copies do verify, is not affected.
    other = _press(citizen, GEMEENTE)
    assert checkbox_paths(other) and "Gemeente Voorbeeldstad stuurde" not in other


def test_an_unreachable_holder_is_named_unreachable_and_logged(citizen, caplog):
    _move(GEMEENTE, "http://127.0.0.1:9")
    page = _press(citizen, GEMEENTE)
    assert f"Gemeente Voorbeeldstad {UNREACHABLE}" in page
    assert "stuurde gegevens die we niet konden controleren" not in page
    logged = _warnings(caplog, GEMEENTE)
    assert logged and all("reason unreachable (ConnectError)" in line for line in logged)
    assert checkbox_paths(_press(citizen, BELASTING))


class _Hostile(Answering):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.answer(*self.server.answer)


@pytest.fixture
def hostile_holder(demo_world):
    """The municipality's API answered by a server that says whatever the test sets in ``.answer``."""
    with serving(_Hostile) as server:
        _move(GEMEENTE, f"http://127.0.0.1:{server.server_port}")
        yield server


JSON, PROBLEM = "application/json", "application/problem+json"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ((201, "text/html", b"<html>hallo</html>"), UNTRUSTED),
        ((201, JSON, b'{"verklaring": 12}'), UNTRUSTED),
        ((201, JSON, b'["verklaring"]'), UNTRUSTED),
        ((201, JSON, b'{"verklaring": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln~"}'), UNTRUSTED),
        ((201, JSON, b'{"verklaring": "' + b"a" * MAX_ANSWER_BYTES + b'"}'), UNTRUSTED),
        ((503, PROBLEM, b"{niet af"), REFUSED),
        ((400, PROBLEM, b'[{"code": "no_data"}]'), REFUSED),
        ((403, PROBLEM, b'{"code": "999999990 is het BSN"}'), REFUSED),
    ],
)
def test_a_hostile_holder_answer_is_refused_in_plain_words_never_a_crash(citizen, hostile_holder, caplog, answer, said):
    hostile_holder.answer = answer
    page = _press(citizen, GEMEENTE)
    assert said.format(name="Gemeente Voorbeeldstad") in page
    assert not checkbox_paths(page)
    assert _warnings(caplog, GEMEENTE)


@pytest.mark.parametrize(
    "answer",
    [
        (200, JSON, b"geen json"),
        (200, JSON, b'{"inzages": "alles"}'),
        (200, JSON, b'{"inzages": [{"tijdstip": 5}]}'),
        (
            200,
            JSON,
            b'{"inzages": [{"tijdstip": "2026-13-45T10:00:00Z", "gevraagdDoor": "x", '
            b'"documentsoort": "x", "activiteit": "x"}]}',
        ),
        (500, PROBLEM, b"{}"),
    ],
)
def test_a_hostile_holder_leaves_the_access_log_standing(citizen, hostile_holder, caplog, answer):
    hostile_holder.answer = answer
    response = citizen.get("/mijn-inzage/")
    assert response.status_code == 200
    assert "Kijk later nog eens: Gemeente Voorbeeldstad" in response.content.decode()
    assert _warnings(caplog, GEMEENTE)


def test_an_unknown_document_type_in_the_access_log_is_named_in_english_too(citizen, hostile_holder):
    record = (
        b'{"tijdstip": "2026-11-01T10:00:00+00:00", "kenmerk": "0123456789abcdef", '
        b'"gevraagdDoor": "x", "documentsoort": "nieuwe-soort", '
    )
    hostile_holder.answer = (200, JSON, b'{"inzages": [' + record + b'"activiteit": "x"}]}')
    citizen.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = citizen.get("/mijn-inzage/").content.decode()
    assert '<html lang="en"' in page
    assert 'data-label="Which data">nieuwe-soort</td>' in page


class _Slow(Answering):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.server.delay)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the portal stopped waiting
            self.answer(200, JSON, b'{"inzages": []}')


def test_a_slow_holder_holds_up_the_access_log_no_longer_than_the_timeout(citizen, settings, caplog):
    settings.OVERVIEW_TIMEOUT = 3
    with serving(_Slow) as server:
        server.delay = 8
        _move(GEMEENTE, f"http://127.0.0.1:{server.server_port}")
        started = time.monotonic()
        response = citizen.get("/mijn-inzage/")
        took = time.monotonic() - started
    assert response.status_code == 200
    silent = re.search(r"Kijk later nog eens: ([^<]+)</p>", response.content.decode())
    assert silent and "Gemeente Voorbeeldstad" in silent.group(1).split(", ")
    assert took < 4.5  # before: as long as the holder took (up to the client's 10 s read timeout)
    assert any("code timeout" in line for line in _warnings(caplog, GEMEENTE))
