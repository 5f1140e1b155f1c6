"""The kit passes against every holder and requester of the demo, over real HTTP; its report and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from blauweknop import cli, keystore
from blauweknop.protocol.scheme_document import REQUESTER
from blauweknop.scheme import lifecycle
from tests.conformance.conftest import demo_holders, holder_args, run_kit, scheme_url, test_citizens


def key_file(oin: str) -> Path:
    """The demo's private key of ``oin``, in a file as a participant hands it to the kit."""
    keystore.signing_key(oin)  # made on first use in the demo
    return Path(settings.KEY_DIR) / f"{oin}.jwk"


def test_every_demo_holder_conforms(demo, scheme, app_manager_key, capsys):
    holders = demo_holders(scheme)
    assert len(holders) >= 13
    for holder in holders:
        code, report = run_kit(capsys, *holder_args(demo, holder, app_manager_key))
        failures = [(c["name"], c["reason"]) for c in report["checks"] if not c["passed"]]
        assert (code, failures) == (0, []), holder.name
        assert report["passed"] is True
        assert report["organisation"]["oin"] == holder.oin
        assert [c["name"] for c in report["checks"]] == [
            "scheme_entry",
            "issuer_metadata",
            "keys",
            "issuing",
            "copy_verifies",
            "disclosure",
            "status_list",
            "problem_json",
            "api_version",
            "openapi",
            "no_bsn_in_urls",
        ]


def test_every_demo_requester_conforms(demo, scheme, capsys):
    requesters = [p for p in scheme.organisations.values() if scheme.is_certified(p.oin, REQUESTER)]
    assert len(requesters) >= 4
    for requester in requesters:
        url = requester.endpoints["requester"]
        args = [
            "--requester",
            url,
            "--scheme-document",
            scheme_url(demo),
            "--requester-key",
            str(key_file(requester.oin)),
        ]
        code, report = run_kit(capsys, *args)
        failures = [(c["name"], c["reason"]) for c in report["checks"] if not c["passed"]]
        assert (code, failures) == (0, []), requester.name
        assert [c["name"] for c in report["checks"]] == [
            "scheme_entry",
            "request_object",
            "problem_json",
            "openapi",
            "api_version",
        ]


def test_a_suspended_requester_is_told_so_once(demo, scheme, capsys):
    requester = next(p for p in scheme.organisations.values() if scheme.is_certified(p.oin, REQUESTER))
    lifecycle.suspend(requester.oin, actor="beheerder-anna", reason="Conformance test")
    args = ["--requester", requester.endpoints["requester"], "--scheme-document", scheme_url(demo)]
    code, report = run_kit(capsys, *args, "--requester-key", str(key_file(requester.oin)))
    outcomes = {c["name"]: (c["outcome"], c["reason"]) for c in report["checks"]}
    assert code == 1
    assert outcomes["scheme_entry"][0] == "failed"
    assert f"this participant, {requester.name} (OIN {requester.oin}), is suspended" in outcomes["scheme_entry"][1]
    assert outcomes["request_object"] == (
        "notRun",
        f"Not checked: {requester.name} is suspended in the scheme document (see scheme_entry).",
    )


def test_the_text_report_names_each_check_and_the_verdict(demo, scheme, app_manager_key, capsys):
    holder = demo_holders(scheme)[0]
    assert cli.main(["conformance", *holder_args(demo, holder, app_manager_key)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Conformance of holder {holder.endpoints['issuer']}: {holder.name} (OIN {holder.oin})")
    assert "  PASS  issuer_metadata" in out and "  PASS  no_bsn_in_urls" in out
    assert out.rstrip().endswith("CONFORMS: 11 of 11 checks passed.")
    assert not any(bsn in out for bsn in test_citizens(holder))

    requester = next(p for p in scheme.organisations.values() if "requester" in p.endpoints)
    assert (
        cli.main(
            ["conformance", "--requester", requester.endpoints["requester"], "--scheme-document", scheme_url(demo)]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "  SKIP  request_object" in out and "Not checked: give --requester-key" in out
    assert "NOT FULLY CHECKED: 4 of 5 checks passed, 0 failed, 1 not run." in out


def test_usage_errors_exit_2_before_anything_is_sent(demo, scheme, app_manager_key, capsys):
    holder = demo_holders(scheme)[0]
    issuer, document = holder.endpoints["issuer"], scheme_url(demo)
    wrong = {
        "give --app-manager-key and --app-manager-oin together": ["--holder", issuer, "--app-manager-key", "k.jwk"],
        "--app-manager-oin must be an OIN": [
            "--holder", issuer, "--app-manager-key", str(app_manager_key), "--app-manager-oin", "123",
        ],
        "is not a valid BSN": ["--holder", issuer, "--bsn", "123456789"],
        "is not an http(s) URL": ["--holder", "file:///etc/passwd"],
        "go with --holder, not with --requester": ["--requester", issuer, "--bsn", "999993653"],
        "goes with --requester": ["--holder", issuer, "--requester-key", "k.jwk"],
        "cannot fetch the scheme operator keys": ["--holder", issuer, "--scheme-document", f"{demo.url}/x/y"],
        "cannot read the private key": [
            "--holder", issuer, "--app-manager-key", "/nowhere.jwk", "--app-manager-oin", settings.PORTAL_OIN,
        ],
    }  # fmt: skip
    for message, args in wrong.items():
        code = cli.main(
            ["conformance", *args, *([] if "--scheme-document" in args else ["--scheme-document", document])]
        )
        err = capsys.readouterr().err
        assert (code, message in err) == (2, True), (message, err)
    for args in (["--holder", issuer, "--requester", issuer], []):
        with pytest.raises(SystemExit) as exit:
            cli.main(["conformance", *args])
        assert exit.value.code == 2
