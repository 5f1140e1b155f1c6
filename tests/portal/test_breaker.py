"""The circuit breaker: a holder that kept failing is skipped for a while, then tried once; all processes agree."""

import time

import pytest
from django.core.cache import caches

from blauweknop import shared_cache
from blauweknop.portal.breaker import CLOSED, Circuit, _admitted, _key, admit, after
from blauweknop.portal.fanout import down
from blauweknop.portal.holders import Citizen, Fetched, Kind

from .conftest import BELASTING, GEMEENTE
from .test_fanout_faults import _503, _about_another_citizen, _good, fan_out, stand_in  # noqa: F401 (a fixture)

RULES = {"threshold": 3, "wait": 60}


def test_a_circuit_opens_at_the_threshold_of_failures_in_a_row():
    circuit = CLOSED
    for _ in range(2):
        circuit = after(circuit, True, 100, **RULES)
        assert circuit.open_until is None and admit(circuit, 100, 5) == (True, circuit)
    circuit = after(circuit, True, 100, **RULES)
    assert circuit == Circuit(3, 160)
    assert admit(circuit, 159.9, 5) == (False, circuit)


def test_a_good_answer_or_no_data_closes_the_circuit_and_resets_the_count():
    assert after(Circuit(2), False, 100, **RULES) == CLOSED
    assert after(Circuit(3, 160), False, 170, **RULES) == CLOSED
    assert after(after(Circuit(2), False, 100, **RULES), True, 101, **RULES) == Circuit(1)


def test_after_the_wait_one_trial_is_let_through_and_the_others_wait_for_it():
    allowed, trial = admit(Circuit(3, 160), 160, 5)
    assert allowed and trial == Circuit(3, 165)
    assert admit(trial, 162, 5) == (False, trial)  # a second asker while the trial runs
    assert after(trial, True, 163, **RULES) == Circuit(4, 223)  # the trial failed: open again for the wait
    assert after(trial, False, 163, **RULES) == CLOSED


def test_a_circuit_in_the_cache_that_is_not_one_counts_as_closed(demo_world):
    shared_cache.write(_key(GEMEENTE), {"failures": "veel", "open_until": "morgen"}, 60)
    assert _admitted([GEMEENTE], 5) == {GEMEENTE}


@pytest.fixture
def failing(stand_in, settings):  # noqa: F811
    """The municipality in error (503) at every request; it opens after 2 failed fan-outs, for a short wait."""
    settings.BREAKER_FAILURES, settings.BREAKER_WAIT = 2, 1.5
    stand_in.respond = _503
    return stand_in


def _breaker_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "blauweknop.portal.breaker" and r.levelno >= 30]


@pytest.fixture
def citizen(citizen_bsn, wallet):
    return Citizen(citizen_bsn, "midden", wallet.public_jwk)


def test_a_holder_that_keeps_failing_is_skipped_without_being_asked(failing, citizen, caplog):
    for _ in range(2):
        assert fan_out(citizen)[0][GEMEENTE].outcome == "onbereikbaar"
    assert any(f"holder {GEMEENTE}: circuit open" in line for line in _breaker_warnings(caplog))
    asked = len(failing.asked)
    results, _ = fan_out(citizen)
    assert results[GEMEENTE].outcome == "overgeslagen" and not results[GEMEENTE].credentials
    assert len(failing.asked) == asked  # not contacted at all
    assert results[BELASTING].outcome == "opgehaald"  # the others are asked as always
    assert any(
        f"holder {GEMEENTE}" in r.getMessage() and "reason circuit_open" in r.getMessage() for r in caplog.records
    )


def test_after_the_wait_one_trial_closes_the_circuit_when_it_answers(failing, citizen, caplog):
    for _ in range(2):
        fan_out(citizen)
    assert fan_out(citizen)[0][GEMEENTE].outcome == "overgeslagen"
    time.sleep(1.6)
    failing.respond = lambda server, type_id, attempt: (404, "application/problem+json", b'{"code": "no_data"}')
    asked = len(failing.asked)
    assert fan_out(citizen)[0][GEMEENTE].outcome == "geen"  # no data is a good answer
    assert len(failing.asked) > asked
    assert any(f"holder {GEMEENTE}: circuit closed" in line for line in _breaker_warnings(caplog))
    assert fan_out(citizen)[0][GEMEENTE].outcome == "geen"


def test_a_failed_trial_opens_the_circuit_again(failing, citizen):
    for _ in range(2):
        fan_out(citizen)
    time.sleep(1.6)
    assert fan_out(citizen)[0][GEMEENTE].outcome == "onbereikbaar"  # the trial, still in error
    asked = len(failing.asked)
    assert fan_out(citizen)[0][GEMEENTE].outcome == "overgeslagen"
    assert len(failing.asked) == asked


def test_another_process_skips_the_holder_too_for_the_state_is_in_the_shared_cache(failing, citizen, monkeypatch):
    for _ in range(2):
        fan_out(citizen)
    # Another web process: its own cache client, on the same shared cache.
    other = caches.create_connection("default")
    monkeypatch.setattr(shared_cache, "cache", other)
    asked = len(failing.asked)
    assert fan_out(citizen)[0][GEMEENTE].outcome == "overgeslagen"
    assert len(failing.asked) == asked
    other.clear()  # nothing of it is kept in this process: with the cache emptied, the holder is asked again
    assert fan_out(citizen)[0][GEMEENTE].outcome == "onbereikbaar"
    assert len(failing.asked) > asked


@pytest.mark.parametrize(
    ("kind", "reason", "counts"),
    [
        (Kind.UNREACHABLE, "timeout", True),
        (Kind.UNREACHABLE, "unreachable", True),
        (Kind.UNREACHABLE, "http_503", True),
        (Kind.UNREACHABLE, "status_unavailable", True),
        (Kind.UNREACHABLE, "portal_error", False),  # a fault of ours
        (Kind.REFUSED, "http_403", False),
        (Kind.UNTRUSTED, "bad_signature", False),
        (Kind.UNTRUSTED, "wrong_subject", False),
        (Kind.ABSENT, "", False),
    ],
)
def test_only_the_holder_s_own_failures_count_towards_its_circuit(kind, reason, counts):
    assert down([Fetched("inkomen", Kind.COPY), Fetched("vorderingen", kind, reason=reason)]) is counts


def _403(server, type_id, attempt):
    return 403, "application/problem+json", b'{"code": "forbidden"}'


@pytest.mark.parametrize("failure", [_403, _about_another_citizen], ids=["refused", "untrusted"])
def test_it_refuses_to_open_the_circuit_for_everyone_over_one_citizen_s_failures(
    stand_in,  # noqa: F811
    two_citizen_bsns,
    wallet,
    settings,
    failure,
):
    settings.BREAKER_FAILURES = 2
    one, other = (Citizen(bsn, "midden", wallet.public_jwk) for bsn in two_citizen_bsns)
    # The municipality fails for the one citizen only: it refuses them, or sends a copy about someone else.
    stand_in.respond = lambda server, *args: (failure if server.asked_about.bsn == one.bsn else _good)(server, *args)
    for _ in range(3):
        assert fan_out(one)[0][GEMEENTE].outcome in ("onbereikbaar", "onbetrouwbaar")
    assert fan_out(other)[0][GEMEENTE].outcome == "opgehaald"
