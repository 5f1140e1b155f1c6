"""The kit fails, for the right reason, against a holder that gets exactly one thing wrong.

Each test puts a proxy in front of a real demo holder that breaks one thing on the way out (an answer,
a header, a signed copy re-signed with the holder's own key), then checks which checks failed and why.
"""

from __future__ import annotations

import copy
import json
import re
import time
from dataclasses import replace

import pytest

from blauweknop import cli, document_types, keystore
from blauweknop.conformance.holder import NEEDS_CERTIFICATION
from blauweknop.protocol import jws, sdjwt, sdjwt_vc, session_assertion, status_list
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.protocol.scheme_document import Participant
from blauweknop.scheme import catalogue, lifecycle
from blauweknop.scheme.catalogue.versions import publish_version
from tests.conformance.conftest import holder_args, run_kit, scheme_url, test_citizens
from tests.conformance.proxy import Answer, Request

HOLDER = "toeslagendienst"  # issues two types (toeslagen, vorderingen) about the demo's first citizens


@pytest.fixture
def holder(proxied) -> Participant:
    scheme = cli._scheme(scheme_url(proxied), None)
    return next(p for p in scheme.organisations.values() if p.endpoints.get("issuer", "").endswith(f"/{HOLDER}"))


def failures(report: dict) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in report["checks"] if c["outcome"] == "failed"}


def not_run(report: dict) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in report["checks"] if c["outcome"] == "notRun"}


def kit_report(proxied, holder, app_manager_key, capsys, **kwargs) -> dict:
    code, report = run_kit(capsys, *holder_args(proxied, holder, app_manager_key, **kwargs))
    assert code == 1
    assert report["passed"] is False
    assert not any(".." in c["reason"] for c in report["checks"])
    return report


def kit(proxied, holder, app_manager_key, capsys, **kwargs) -> dict[str, str]:
    return failures(kit_report(proxied, holder, app_manager_key, capsys, **kwargs))


def reissued(
    credential: str,
    holder: Participant,
    *,
    visible: tuple[str, ...] = (),
    wallet: dict | None = None,
    status_uri: str | None = None,
) -> str:
    """The holder's copy signed again with the holder's own key, with one thing changed."""
    claims = sdjwt.unverified_claims(credential)
    plain = {name: claims.pop(name) for name in list(claims) if name in sdjwt_vc.PLAIN_CLAIMS}
    if wallet is not None:
        plain["cnf"] = {"jwk": wallet}
    if status_uri is not None:
        plain["status"]["status_list"]["uri"] = status_uri
    key = keystore.signing_key(holder.oin)
    return sdjwt.issue({**plain, **claims}, key, typ=sdjwt_vc.TYP, visible={*plain, *visible})


def on_copies(change):
    """A handler that changes each issued copy with ``change(credential, request)``."""

    def handler(request: Request, upstream) -> Answer:
        answer = upstream()
        if request.method == "POST" and request.path.endswith("/verklaringen") and answer.status == 201:
            body = json.loads(answer.body)
            body["verklaring"] = change(body["verklaring"], request)
            return answer.with_body(json.dumps(body).encode())
        return answer

    return handler


def asks_a_copy(request: Request) -> bool:
    """Whether ``request`` is a well-formed request for a copy (not one of the kit's bad requests)."""
    if request.method != "POST" or not request.path.endswith("/verklaringen"):
        return False
    try:
        body = json.loads(request.body)
    except ValueError:
        return False
    return isinstance(body, dict) and len(body.get("appbeheerderverklaring", "")) > 100


def bsn_of(request: Request) -> str:
    """The citizen's BSN in the app manager's assertion the kit sent (read, not verified: this is the proxy)."""
    return jws.unverified_parts(json.loads(request.body)["appbeheerderverklaring"])[1]["bsn"]


def test_an_issuer_url_the_scheme_does_not_list(proxied, holder, app_manager_key, capsys):
    failed = kit(proxied, holder, app_manager_key, capsys, issuer=f"{proxied.url}/bestaat-niet")
    assert "no organisation in scheme document" in failed["scheme_entry"]
    report = kit_report(proxied, holder, app_manager_key, capsys, issuer=f"{proxied.url}/bestaat-niet")
    assert not_run(report)["issuing"].startswith("Not checked")


def test_metadata_about_another_issuer(proxied, holder, app_manager_key, capsys):
    def handler(request, upstream):
        answer = upstream()
        if request.path.startswith("/.well-known/jwt-vc-issuer/"):
            document = json.loads(answer.body)
            document["issuer"] = f"{proxied.url}/iemand-anders"
            return answer.with_body(json.dumps(document).encode())
        return answer

    proxied.handler = handler
    report = kit_report(proxied, holder, app_manager_key, capsys)
    failed = failures(report)
    assert set(failed) == {"issuer_metadata"}
    assert set(not_run(report)) == {"keys"}
    assert "says issuer" in failed["issuer_metadata"] and "iemand-anders" in failed["issuer_metadata"]


def test_a_bsn_the_holder_sends_back_is_masked_in_every_reason(proxied, holder, app_manager_key, capsys):
    # The very fault the kit is for: a holder that puts the citizen where another value belongs.
    def handler(request, upstream):
        if asks_a_copy(request):
            bsn = bsn_of(request)
            body = {"verklaring": "x", "documentsoort": bsn, "vct": f"https://x/{bsn}"}
            return Answer(201, {"Content-Type": "application/json", "API-Version": "1.0.0"}, json.dumps(body).encode())
        answer = upstream()
        if request.path.startswith("/.well-known/jwt-vc-issuer/"):
            document = json.loads(answer.body)
            document["issuer"] = f"{document['issuer']}/{test_citizens(holder)[0]}"
            return answer.with_body(json.dumps(document).encode())
        return answer

    proxied.handler = handler
    for as_json in (True, False):
        code = cli.main(["conformance", *holder_args(proxied, holder, app_manager_key), *(["--json"] * as_json)])
        out = capsys.readouterr().out
        assert code == 1
        assert not any(bsn in out for bsn in test_citizens(holder))
        assert f"{holder.endpoints['issuer']}/*********'" in out and "documentsoort '*********'" in out


@pytest.mark.timeout(60)  # without deadlines this run takes hours: fail, do not hang the test run
def test_a_holder_that_trickles_its_answers_fails_within_the_run_deadline(proxied, holder, app_manager_key, capsys):
    # One byte every 0.2 s: every read comes in time, the whole answer takes hours.
    def handler(request, upstream):
        answer = upstream()
        return answer if request.path.startswith("/stelsel/") else replace(answer, trickle=0.2)

    proxied.handler = handler
    started = time.monotonic()
    code, report = run_kit(capsys, *holder_args(proxied, holder, app_manager_key), "--deadline", "3")
    assert time.monotonic() - started < 15
    assert code == 1
    metadata = sdjwt_vc.issuer_metadata_url(holder.endpoints["issuer"])
    # What was left of the 3 seconds: the scheme document and the entry came first.
    assert re.match(
        rf"GET {metadata} no answer \(it did not come whole within [23]\.?[0-9]* seconds\)",
        failures(report)["issuer_metadata"],
    )
    used_up = "no answer (not asked: the 3 seconds for the whole run were used up)"
    assert used_up in failures(report)["problem_json"] and used_up in failures(report)["openapi"]
    assert report["counts"]["passed"] == 1  # scheme_entry: read from the scheme document, not from the holder


def test_metadata_with_a_key_the_scheme_does_not_list(proxied, holder, app_manager_key, capsys):
    stranger = SigningKey(generate_jwk())

    def handler(request, upstream):
        answer = upstream()
        if request.path.startswith("/.well-known/jwt-vc-issuer/"):
            document = json.loads(answer.body)
            document["jwks"]["keys"] = [stranger.public_jwk]
            return answer.with_body(json.dumps(document).encode())
        return answer

    proxied.handler = handler
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"keys"}
    assert f"the metadata has key '{stranger.kid}' that the scheme does not list" in failed["keys"]
    assert "the scheme lists key" in failed["keys"]


def test_a_holder_that_cannot_issue(proxied, holder, app_manager_key, capsys):
    def handler(request, upstream):
        if asks_a_copy(request):
            return Answer(503, {"Content-Type": "application/problem+json", "API-Version": "1.0.0"}, b"{}")
        return upstream()

    proxied.handler = handler
    report = kit_report(proxied, holder, app_manager_key, capsys)
    # One cause, one failure: what needs a copy is not run, not failed.
    assert set(failures(report)) == {"issuing"}
    assert "HTTP 503" in failures(report)["issuing"]
    assert set(not_run(report)) == {"copy_verifies", "disclosure", "status_list", "no_bsn_in_urls"}
    assert "see issuing" in not_run(report)["copy_verifies"]
    assert report["counts"] == {"passed": 6, "failed": 1, "notRun": 4}


def test_a_refusal_whose_detail_ends_in_a_full_stop_is_reported_with_one(proxied, holder, app_manager_key, capsys):
    problem = {"type": "about:blank", "title": "x", "status": 403, "detail": "You may not ask this.", "code": "no"}

    def handler(request, upstream):
        if asks_a_copy(request):
            headers = {"Content-Type": "application/problem+json", "API-Version": "1.0.0"}
            return Answer(403, headers, json.dumps(problem).encode())
        return upstream()

    proxied.handler = handler
    failed = kit(proxied, holder, app_manager_key, capsys)  # no ".." in any reason
    assert "HTTP 403" in failed["issuing"] and "code no: You may not ask this; expected 201" in failed["issuing"]
    assert failed["issuing"].endswith("expected 201 with the copy.")


def test_without_an_app_manager_key_issuing_is_not_run_and_not_failed(proxied, holder, capsys):
    code, report = run_kit(capsys, "--holder", holder.endpoints["issuer"], "--scheme-document", scheme_url(proxied))
    assert code == 1  # not shown to conform
    assert report["passed"] is False
    assert failures(report) == {}
    skipped = not_run(report)
    assert set(skipped) == {"issuing", "copy_verifies", "disclosure", "status_list", "no_bsn_in_urls"}
    assert skipped["issuing"].startswith("Not checked: give --app-manager-key")
    assert report["counts"] == {"passed": 6, "failed": 0, "notRun": 5}

    assert cli.main(["conformance", "--holder", holder.endpoints["issuer"], "--scheme-document", scheme_url(proxied)])
    out = capsys.readouterr().out
    assert "  SKIP  issuing" in out and "  FAIL" not in out
    assert "NOT FULLY CHECKED: 6 of 11 checks passed, 0 failed, 5 not run." in out


def test_a_suspended_holder_is_told_so_once_and_not_sent_after_its_metadata(proxied, holder, app_manager_key, capsys):
    lifecycle.suspend(holder.oin, actor="beheerder-anna", reason="Conformance test")
    report = kit_report(proxied, holder, app_manager_key, capsys)
    failed = failures(report)
    assert set(failed) == {"scheme_entry"}
    assert (
        f"this participant, {holder.name} (OIN {holder.oin}), is suspended in scheme document" in failed["scheme_entry"]
    )
    skipped = not_run(report)
    assert set(skipped) == {*NEEDS_CERTIFICATION, "no_bsn_in_urls"}
    assert all("suspended in the scheme document (see scheme_entry)" in skipped[n] for n in NEEDS_CERTIFICATION)
    assert not any("serve the issuer metadata" in c["reason"] for c in report["checks"])
    assert {c["name"] for c in report["checks"] if c["passed"]} == {"problem_json", "api_version", "openapi"}


def test_a_copy_of_a_type_the_scheme_does_not_list_says_what_is_expected(proxied, holder, app_manager_key, capsys):
    def wrong_vct(request, upstream):
        answer = upstream()
        if asks_a_copy(request) and answer.status == 201:
            body = json.loads(answer.body)
            body["vct"] = body["vct"].rpartition("/")[0] + "/99"
            return answer.with_body(json.dumps(body).encode())
        return answer

    proxied.handler = wrong_vct
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"issuing"}
    toeslagen = document_types.of(cli._scheme(scheme_url(proxied), None)).document_type("toeslagen").vct
    assert f"answered vct '{toeslagen[:-1]}99'" in failed["issuing"]
    assert f"lists for toeslagen '{toeslagen}' (new copies use '{toeslagen}')" in failed["issuing"]


def test_a_holder_that_has_not_yet_read_a_new_catalogue_version_conforms(proxied, holder, app_manager_key, capsys):
    code, _ = run_kit(capsys, *holder_args(proxied, holder, app_manager_key))
    assert code == 0  # and the holder has read the scheme document of now
    definition = copy.deepcopy(catalogue.document_type("toeslagen").publish())
    old_vct = definition["vct"]
    definition.update(
        version=definition["version"] + 1, vct=f"{old_vct.rpartition('/')[0]}/{definition['version'] + 1}"
    )
    publish_version(definition, actor="beheerder-anna")

    code, report = run_kit(capsys, *holder_args(proxied, holder, app_manager_key))
    assert (code, failures(report), not_run(report)) == (0, {}, {})
    reasons = {c["name"]: c["reason"] for c in report["checks"]}
    assert f"toeslagen {definition['version'] - 1} (the newest is {definition['version']})" in reasons["issuing"]
    assert "2 copies (toeslagen, vorderingen) verify" in reasons["copy_verifies"]


def test_a_copy_bound_to_another_wallet(proxied, holder, app_manager_key, capsys):
    other = SigningKey(generate_jwk()).public_jwk
    proxied.handler = on_copies(lambda credential, request: reissued(credential, holder, wallet=other))
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"copy_verifies"}
    assert "wrong_wallet" in failed["copy_verifies"] and "cnf.jwk" in failed["copy_verifies"]


def test_a_copy_with_a_field_in_plain_view(proxied, holder, app_manager_key, capsys):
    proxied.handler = on_copies(
        lambda credential, request: reissued(credential, holder, visible=("burgerservicenummer",))
    )
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"disclosure"}
    assert "burgerservicenummer is signed in plain view" in failed["disclosure"]


def test_a_status_list_signed_with_a_key_the_scheme_does_not_list(proxied, holder, app_manager_key, capsys):
    stranger = SigningKey(generate_jwk())

    def handler(request, upstream):
        answer = upstream()
        if "/statuslijsten/" in request.path and answer.status == 200:
            payload = jws.unverified_parts(answer.body.decode())[1]
            return answer.with_body(jws.sign(payload, stranger, status_list.TYP).encode())
        return answer

    proxied.handler = handler
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"status_list", "copy_verifies"}
    assert "unknown_key" in failed["status_list"]
    assert "its status could not be confirmed, see status_list" in failed["copy_verifies"]


def test_a_fresh_copy_that_its_status_list_calls_invalid(proxied, holder, app_manager_key, capsys):
    key = keystore.signing_key(holder.oin)

    def handler(request, upstream):
        answer = upstream()
        if "/statuslijsten/" in request.path and answer.status == 200:
            payload = jws.unverified_parts(answer.body.decode())[1]
            every = status_list.StatusList.decode(payload["status_list"])
            for idx in range(every.size):
                every.set(idx, status_list.INVALID)
            payload["status_list"] = every.encode()
            return answer.with_body(jws.sign(payload, key, status_list.TYP).encode())
        return answer

    proxied.handler = handler
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"status_list", "copy_verifies"}
    assert "has status 0x01" in failed["status_list"]


def test_bad_input_answered_with_an_html_server_error(proxied, holder, app_manager_key, capsys):
    def handler(request, upstream):
        answer = upstream()
        if answer.status >= 400 and not asks_a_copy(request):  # "no data" answers stay: the copies are asked well
            return Answer(500, {"Content-Type": "text/html", "API-Version": "1.0.0"}, b"<h1>Server Error</h1>")
        return answer

    proxied.handler = handler
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"problem_json"}
    assert "a body that is not JSON" in failed["problem_json"]
    assert "HTTP 500 text/html, not a 4xx refusal" in failed["problem_json"]


def test_answers_without_api_version(proxied, holder, app_manager_key, capsys):
    proxied.handler = lambda request, upstream: upstream().without("API-Version")
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"api_version"}
    assert "has no API-Version" in failed["api_version"]


def test_the_openapi_description_hidden(proxied, holder, app_manager_key, capsys):
    def handler(request, upstream):
        if request.path.endswith("/openapi.json"):
            problem = {"type": "about:blank", "title": "x", "status": 404, "detail": "x", "code": "not_found"}
            headers = {"Content-Type": "application/problem+json", "API-Version": "1.0.0"}
            return Answer(404, headers, json.dumps(problem).encode())
        return upstream()

    proxied.handler = handler
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"openapi"}
    assert "openapi.json HTTP 404" in failed["openapi"]


def test_a_bsn_in_the_status_list_uri(proxied, holder, app_manager_key, capsys):
    key = keystore.signing_key(holder.oin)

    def with_bsn(credential, request):
        uri = sdjwt.unverified_claims(credential)["status"]["status_list"]["uri"]
        return reissued(credential, holder, status_uri=f"{uri}?burger={bsn_of(request)}")

    def handler(request, upstream):
        answer = on_copies(with_bsn)(request, upstream)
        if "/statuslijsten/" in request.path and "?burger=" in request.path:
            # The list itself is signed for the address with the BSN: only the URI is wrong.
            payload = jws.unverified_parts(answer.body.decode())[1]
            payload["sub"] = proxied.url + request.path
            return answer.with_body(jws.sign(payload, key, status_list.TYP).encode())
        return answer

    proxied.handler = handler
    code, report = run_kit(capsys, *holder_args(proxied, holder, app_manager_key))
    assert code == 1
    failed = failures(report)
    assert set(failed) == {"no_bsn_in_urls"}
    assert "?burger=********* in the status claim of the toeslagen copy" in failed["no_bsn_in_urls"]
    assert not any(bsn in json.dumps(report) for bsn in test_citizens(holder))


def test_a_bsn_in_a_location_header(proxied, holder, app_manager_key, capsys):
    def handler(request, upstream):
        answer = upstream()
        if request.method == "POST" and request.path.endswith("/verklaringen") and answer.status == 201:
            headers = {**answer.headers, "Location": f"{proxied.url}{request.path}/{bsn_of(request)}"}
            return Answer(answer.status, headers, answer.body)
        return answer

    proxied.handler = handler
    failed = kit(proxied, holder, app_manager_key, capsys)
    assert set(failed) == {"no_bsn_in_urls"}
    assert "/verklaringen/********* in the Location header" in failed["no_bsn_in_urls"]


def test_the_kit_asks_as_the_portal_does(proxied, holder, app_manager_key, capsys):
    from django.conf import settings

    seen = []

    def handler(request, upstream):
        if asks_a_copy(request):
            seen.append(jws.unverified_parts(json.loads(request.body)["appbeheerderverklaring"]))
        return upstream()

    proxied.handler = handler
    code, _ = run_kit(capsys, *holder_args(proxied, holder, app_manager_key))
    assert code == 0
    header, payload = seen[0]
    assert header["typ"] == session_assertion.TYP
    assert (payload["iss"], payload["aud"]) == (settings.PORTAL_OIN, holder.oin)
    assert payload["exp"] - payload["iat"] <= session_assertion.MAX_LIFETIME


def test_a_copy_that_is_not_an_sd_jwt(proxied, holder, app_manager_key, capsys):
    proxied.handler = on_copies(lambda credential, request: "not~a~credential~")
    report = kit_report(proxied, holder, app_manager_key, capsys)
    failed = failures(report)
    assert set(failed) == {"copy_verifies", "status_list"}
    assert "no copy with a valid signature" in not_run(report)["disclosure"]
    assert "toeslagen: malformed" in failed["copy_verifies"]
    assert "the status claim is not usable" in failed["status_list"]
