"""The kit's shared judgements, on answers made up here: no server needed."""

from __future__ import annotations

import json

import httpx

from blauweknop.conformance import report
from blauweknop.conformance.checks import failed, holds_bsn, masked, not_run, passed, problem_fault, sentence
from blauweknop.conformance.probe import Exchange
from blauweknop.protocol.jwk import KeySet
from blauweknop.protocol.scheme_document import Participant

BSN = "999993653"  # a test BSN: passes the 11-proef


def answer(status: int, content_type: str, body: object) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(
        "POST", "http://h/api/v1/x", "a bad request", status, httpx.Headers({"Content-Type": content_type}), raw
    )


def test_a_bsn_is_found_in_any_spelling_of_an_address():
    assert holds_bsn(f"http://h/lijst?b={BSN}", [])  # any number that passes the 11-proef
    assert holds_bsn("http://h/lijst/%3999993653", [])  # %-escaped
    assert holds_bsn("http://h/lijst/%253999993653", [])  # escaped twice
    assert holds_bsn(f"http://h/x{BSN}0", [BSN])  # the test citizen's, even inside a longer number
    assert not holds_bsn("http://h/statuslijsten/123456789", [BSN])  # fails the 11-proef
    assert not holds_bsn("http://h/organisaties/00000001001806418000", [BSN])  # an OIN


def test_the_report_never_shows_nine_digits():
    assert masked(f"at http://h/{BSN}/x") == "at http://h/*********/x"
    assert masked("OIN 00000001001806418000") == "OIN 00000001001806418000"


def test_a_proper_problem_passes_and_each_fault_is_named():
    good = {"type": "urn:x", "title": "x", "status": 400, "detail": "x", "code": "invalid_input"}
    assert problem_fault(answer(400, "application/problem+json; charset=utf-8", good)) is None
    assert "not a 4xx refusal" in problem_fault(answer(500, "application/problem+json", {**good, "status": 500}))
    assert "not application/problem+json" in problem_fault(answer(400, "application/json", good))
    assert "without code" in problem_fault(answer(400, "application/problem+json", {**good, "code": None}))
    assert "whose status is 404" in problem_fault(answer(400, "application/problem+json", {**good, "status": 404}))
    assert "not a JSON object" in problem_fault(answer(400, "application/problem+json", b"<html>"))
    nothing = Exchange("GET", "http://h/x", "x", None, httpx.Headers(), b"", "ConnectError: refused")
    assert "no answer (ConnectError: refused)" in problem_fault(nothing)


def test_a_reason_ends_in_one_full_stop_whatever_its_parts_end_in():
    assert (
        sentence(["HTTP 404: See openapi.json for the API.", "no copy"])
        == "HTTP 404: See openapi.json for the API; no copy."
    )
    assert sentence(["may not issue now.."]) == "may not issue now."


def test_a_check_not_run_neither_passes_nor_fails():
    result = not_run("issuing", "Issuing", "give --app-manager-key.")
    assert (result.passed, result.outcome, result.reason) == (False, "not_run", "Not checked: give --app-manager-key.")


def test_the_report_masks_every_reason_once_whatever_check_made_it(capsys):
    # A holder that echoes the citizen into the wrong field: its issuer URL and documentsoort end up in reasons.
    results = [
        failed("issuer_metadata", "Issuer metadata", f"says issuer 'http://h/evil/{BSN}'; it must be 'http://h/evil'."),
        failed("issuing", f"Issuing for {BSN}", f"answered documentsoort {BSN!r}; expected 'vorderingen'."),
        passed("keys", "Keys", "the same 1 key(s)."),
    ]
    entry = Participant("00000001001806418000", f"Evil {BSN}", frozenset({"holder"}), "certified", None, {}, KeySet([]))
    for as_json in (False, True):
        report("holder", f"http://h/evil/{BSN}", entry, 7, results, as_json=as_json)
        out = capsys.readouterr().out
        assert BSN not in out
        assert "'http://h/evil/*********'" in out and "documentsoort '*********'" in out
        assert "00000001001806418000" in out  # an OIN is twenty digits: not masked
    document = json.loads(out)
    assert document["address"] == "http://h/evil/*********" and document["schemeVersion"] == 7
