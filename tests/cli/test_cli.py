"""The ``blauweknop`` command's contract: outputs and exit codes on valid, tampered and garbage input."""

import json
import os
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blauweknop import pdf
from blauweknop.cli import main
from blauweknop.protocol import scheme_document, sdjwt, sdjwt_vc, status_list
from blauweknop.protocol.encoding import json_dumps
from blauweknop.protocol.jwk import SigningKey, jwks
from blauweknop.protocol.scheme_document import HOLDER, participant_entry
from blauweknop.protocol.status_list import INVALID, StatusList

from ..portal.hostile_pdfs import from_a_rogue_holder, in_a_thread, malformed
from ..protocol.hostile import (
    BOMB,
    VALUES,
    disclosure_text,
    mutated,
    refused_or_accepted,
    sign_text,
    status_list_payload,
)

CLAIMS = {
    "naam": {"voornaam": "Sem", "achternaam": "de Vries"},
    "adres": {"woonplaats": "Voorbeeldstad", "straat": "Kerkstraat 3"},
    "vorderingen": [{"bedragInCenten": 12_000}, {"bedragInCenten": 3_450}],
}
VCT = "https://stelsel.blauweknop.example/vct/persoonsgegevens/1"


def run_cli(*args):
    """Run the command in a separate process, exactly as a developer would."""
    return subprocess.run(
        [sys.executable, "-m", "blauweknop", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


class _Site:
    """A tiny web server on loopback that serves whatever documents a test puts in ``pages``."""

    def __init__(self):
        pages = self.pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path not in pages:
                    self.send_error(404)
                    return
                content_type, body = pages[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def site():
    served = _Site()
    yield served
    served.server.shutdown()


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder with an issuer key and a holder key, made with the command itself."""
    monkeypatch.chdir(tmp_path)
    assert main(["keys", "generate", "--out", "issuer.jwk"]) == 0
    assert main(["keys", "generate", "--alg", "EdDSA", "--out", "holder.jwk"]) == 0
    (tmp_path / "claims.json").write_text(json.dumps(CLAIMS))
    return tmp_path


def _capture(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def _public(capsys, key_file, out_file):
    code, out, _ = _capture(capsys, "keys", "public", key_file)
    assert code == 0
    with open(out_file, "w") as handle:
        handle.write(out)


def _issue(capsys, iss, *extra):
    _public(capsys, "holder.jwk", "holder.pub")
    code, out, err = _capture(
        capsys,
        "credential",
        "issue",
        "--issuer-key",
        "issuer.jwk",
        "--iss",
        iss,
        "--vct",
        VCT,
        "--claims",
        "claims.json",
        "--holder-jwk",
        "holder.pub",
        *extra,
    )
    assert code == 0, err
    with open("credential.sdjwt", "w") as handle:
        handle.write(out)
    return out.strip()


def test_keys_are_written_for_the_owner_only_and_never_overwritten(work, capsys):
    mode = stat.S_IMODE(os.stat("issuer.jwk").st_mode)
    assert mode == 0o600
    assert json.loads((work / "holder.jwk").read_text())["crv"] == "Ed25519"
    code, _, err = _capture(capsys, "keys", "generate", "--out", "issuer.jwk")
    assert code == 2 and "already exists" in err
    code, out, _ = _capture(capsys, "keys", "public", "issuer.jwk")
    assert code == 0 and '"d"' not in out and json.loads(out)["kty"] == "EC"


def test_issue_present_verify_shows_exactly_the_chosen_claims(work, capsys):
    _issue(capsys, "https://gemeente.example/bk")
    _public(capsys, "issuer.jwk", "issuer.pub")
    code, out, err = _capture(
        capsys,
        "credential",
        "present",
        "credential.sdjwt",
        "--disclose",
        "adres.woonplaats",
        "--disclose",
        "vorderingen.1",
        "--holder-key",
        "holder.jwk",
        "--aud",
        "https://bank.example",
        "--nonce",
        "n-42",
    )
    assert code == 0, err
    (work / "presentation.sdjwt").write_text(out)
    code, out, _ = _capture(
        capsys,
        "verify",
        "presentation.sdjwt",
        "--issuer-jwks",
        "issuer.pub",
        "--aud",
        "https://bank.example",
        "--nonce",
        "n-42",
        "--require-key-binding",
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    assert report["valid"] is True
    assert report["claims"] == {"adres": {"woonplaats": "Voorbeeldstad"}, "vorderingen": [{"bedragInCenten": 3_450}]}
    assert report["keyBinding"] == {"aud": "https://bank.example", "nonce": "n-42"}
    code, out, _ = _capture(capsys, "verify", "presentation.sdjwt", "--issuer-jwks", "issuer.pub")
    assert code == 0 and out.startswith("VALID") and "Voorbeeldstad" in out and "Kerkstraat" not in out


def test_tampered_and_misdirected_presentations_exit_1_with_the_reason(work, capsys):
    credential = _issue(capsys, "https://gemeente.example/bk")
    _public(capsys, "issuer.jwk", "issuer.pub")
    jwt, rest = credential.split("~", 1)
    tampered = jwt[:-4] + ("AAAA" if not jwt.endswith("AAAA") else "BBBB") + "~" + rest
    (work / "tampered.sdjwt").write_text(tampered)
    code, out, _ = _capture(capsys, "verify", "tampered.sdjwt", "--issuer-jwks", "issuer.pub", "--json")
    assert code == 1 and json.loads(out)["code"] == "bad_signature"
    code, out, _ = _capture(
        capsys, "verify", "credential.sdjwt", "--issuer-jwks", "issuer.pub", "--require-key-binding"
    )
    assert code == 1 and out.startswith("NOT VALID (key_binding_required)")
    _, presentation, _ = _capture(
        capsys,
        "credential",
        "present",
        "credential.sdjwt",
        "--disclose",
        "naam",
        "--holder-key",
        "holder.jwk",
        "--aud",
        "https://other.example",
        "--nonce",
        "n",
    )
    (work / "elsewhere.sdjwt").write_text(presentation)
    code, out, _ = _capture(
        capsys,
        "verify",
        "elsewhere.sdjwt",
        "--issuer-jwks",
        "issuer.pub",
        "--aud",
        "https://bank.example",
        "--nonce",
        "n",
    )
    assert code == 1 and "aud_mismatch" in out
    code, out, _ = _capture(capsys, "verify", "credential.sdjwt", "--issuer-jwks", "holder.pub")
    assert code == 1 and "unknown_key" in out


@pytest.mark.parametrize("content", ["", "garbage", "a~b~c", "\x00\xff" * 10, "eyJ~" * 1000, "~~~~"])
def test_garbage_exits_1_without_a_traceback(work, content):
    (work / "bad.sdjwt").write_text(content, errors="surrogateescape")
    (work / "any.jwk").write_text(json.dumps(jwks([json.loads((work / "issuer.jwk").read_text())])))
    result = run_cli("verify", "bad.sdjwt", "--issuer-jwks", "any.jwk")
    assert result.returncode == 1
    assert "NOT VALID" in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["verify"],
        ["verify", "missing.sdjwt", "--issuer-jwks", "issuer.jwk"],
        ["verify", "claims.json", "--issuer-jwks", "nothing.jwk"],
        ["verify", "claims.json", "--issuer-jwks", "claims.json", "--scheme-document", "claims.json"],
        ["verify", "claims.json", "--scheme-document", "claims.json"],
        ["keys", "generate", "--alg", "HS256", "--out", "x.jwk"],
        ["keys", "public", "claims.json"],
        [
            "credential",
            "issue",
            "--issuer-key",
            "issuer.jwk",
            "--iss",
            "not a url",
            "--vct",
            VCT,
            "--claims",
            "claims.json",
        ],
        [
            "credential",
            "issue",
            "--issuer-key",
            "issuer.jwk",
            "--iss",
            "https://x.example",
            "--vct",
            VCT,
            "--claims",
            "issuer.jwk",
            "--status-uri",
            "https://x.example/s",
        ],
        ["credential", "present", "claims.json", "--disclose", "naam"],
        ["credential", "present", "claims.json", "--holder-key", "holder.jwk"],
    ],
)
def test_usage_errors_exit_2_with_a_message(work, args):
    result = run_cli(*args)
    assert result.returncode == 2, result
    assert "usage" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_path_that_is_not_there_is_a_usage_error(work, capsys):
    _issue(capsys, "https://gemeente.example/bk")
    code, _, err = _capture(capsys, "credential", "present", "credential.sdjwt", "--disclose", "adres.postcode")
    assert code == 2 and "adres.postcode" in err


def test_status_is_fetched_over_http_and_a_withdrawn_credential_is_refused(work, site, capsys):
    issuer = SigningKey(json.loads((work / "issuer.jwk").read_text()))
    uri = site.url + "/statuslijsten/1"
    statuses = StatusList(64, 2)

    def publish():
        site.pages["/statuslijsten/1"] = (
            "application/statuslist+jwt",
            status_list.sign(statuses, issuer, uri=uri, iss=site.url + "/bk"),
        )

    publish()
    _issue(capsys, site.url + "/bk", "--status-uri", uri, "--status-idx", "17")
    _public(capsys, "issuer.jwk", "issuer.pub")
    code, out, _ = _capture(capsys, "verify", "credential.sdjwt", "--issuer-jwks", "issuer.pub", "--json")
    assert code == 0 and json.loads(out)["status"] == "valid"
    statuses.set(17, INVALID)
    publish()
    code, out, _ = _capture(capsys, "verify", "credential.sdjwt", "--issuer-jwks", "issuer.pub", "--json")
    assert code == 1 and json.loads(out)["code"] == "revoked"
    del site.pages["/statuslijsten/1"]
    code, out, _ = _capture(capsys, "verify", "credential.sdjwt", "--issuer-jwks", "issuer.pub", "--json")
    assert code == 1 and json.loads(out)["code"] == "status_unavailable"


def test_a_scheme_document_url_names_the_issuing_organisation(work, site, capsys):
    operator = SigningKey(json.loads(_generated(work, capsys, "operator.jwk")))
    issuer = SigningKey(json.loads((work / "issuer.jwk").read_text()))
    iss = site.url + "/gemeente"
    entry = participant_entry(
        oin="00000001001234567000",
        name="Gemeente Voorbeeldstad",
        roles=[HOLDER],
        jwks=jwks([issuer.public_jwk]),
        endpoints={"issuer": iss},
    )
    token = scheme_document.sign(scheme_document.build(iss=site.url, version=1, organisations=[entry]), operator)
    site.pages["/stelsel/api/v1/stelseldocument"] = ("application/jwt", token)
    site.pages["/stelsel/api/v1/jwks.json"] = ("application/json", json.dumps(jwks([operator.public_jwk])))
    _issue(capsys, iss)
    code, out, _ = _capture(
        capsys, "verify", "credential.sdjwt", "--scheme-document", site.url + "/stelsel/api/v1/stelseldocument"
    )
    assert code == 0 and "Gemeente Voorbeeldstad (OIN 00000001001234567000)" in out
    (work / "stelsel.jwt").write_text(token)
    (work / "operator.pub").write_text(json.dumps(jwks([operator.public_jwk])))
    from_files = ("verify", "credential.sdjwt", "--scheme-document", "stelsel.jwt", "--scheme-jwks", "operator.pub")
    code, out, _ = _capture(capsys, *from_files, "--json")
    assert code == 0 and json.loads(out)["issuer"]["name"] == "Gemeente Voorbeeldstad"
    _issue(capsys, site.url + "/onbekend")
    code, out, _ = _capture(capsys, *from_files, "--json")
    assert code == 1 and json.loads(out)["code"] == "unknown_issuer"


def test_without_trust_options_the_issuer_metadata_is_used(work, site, capsys):
    issuer = SigningKey(json.loads((work / "issuer.jwk").read_text()))
    iss = site.url + "/belastingen"
    site.pages["/.well-known/jwt-vc-issuer/belastingen"] = (
        "application/json",
        json.dumps(sdjwt_vc.issuer_metadata(iss, [issuer.public_jwk])),
    )
    _issue(capsys, iss)
    code, out, _ = _capture(capsys, "verify", "credential.sdjwt", "--json")
    assert code == 0 and json.loads(out)["iss"] == iss
    _issue(capsys, site.url + "/elders")
    code, out, _ = _capture(capsys, "verify", "credential.sdjwt", "--json")
    assert code == 1 and json.loads(out)["code"] == "unknown_issuer"


def _generated(work, capsys, name):
    assert _capture(capsys, "keys", "generate", "--out", name)[0] == 0
    return (work / name).read_text()


# --- hostile input (issue 6, items 8-10) --------------------------------------------------------


def _issuer_key(work):
    return SigningKey(json.loads((work / "issuer.jwk").read_text()))


def test_broken_and_hostile_pdfs_exit_1_without_a_traceback(work, capsys):
    issuer = _issuer_key(work)
    credential = sdjwt_vc.issue(CLAIMS, issuer, iss="https://gemeente.example/bk", vct=VCT)
    page = pdf.Page("Kopie", [], [("Naam", "Sem")], "Controleer dit.", "https://x.example/", "nl")
    genuine = in_a_thread(pdf.make, page, credential, issuer, signer_name="Gemeente", oin="00000001003214345000")
    _public(capsys, "issuer.jwk", "issuer.pub")
    (work / "genuine.pdf").write_bytes(genuine)
    assert _capture(capsys, "verify", "genuine.pdf", "--issuer-jwks", "issuer.pub")[0] == 0
    hostile = {**malformed(genuine), **from_a_rogue_holder(issuer.cryptography_key)}
    for name, content in hostile.items():
        (work / f"{name}.pdf").write_bytes(content)
        for trust in (["--issuer-jwks", "issuer.pub"], []):
            code, out, err = _capture(capsys, "verify", f"{name}.pdf", *trust)
            assert code == 1 and "NOT VALID" in out, (name, trust, out, err)


def _serve_status_list(site, issuer, lst_json, *, iat=None, ttl=300):
    uri = site.url + "/statuslijsten/1"
    iat = int(time.time()) if iat is None else iat
    payload = status_list_payload(lst_json, iss=site.url + "/bk", sub=uri, iat=iat, ttl=ttl)
    token = sign_text(payload, issuer, status_list.TYP)
    site.pages["/statuslijsten/1"] = ("application/statuslist+jwt", token)
    return uri


def _verify_with_status(work, site, capsys, lst_json, **times):
    uri = _serve_status_list(site, _issuer_key(work), lst_json, **times)
    _issue(capsys, site.url + "/bk", "--status-uri", uri, "--status-idx", "3")
    _public(capsys, "issuer.jwk", "issuer.pub")
    return _capture(capsys, "verify", "credential.sdjwt", "--issuer-jwks", "issuer.pub", "--json")


def test_a_status_list_that_inflates_to_64_mib_is_refused_in_bounded_memory(work, site, capsys):
    # A list of 1.9 MB from a hostile issuer made the command use 3.2 GB; the command itself never raises.
    result = []
    assert refused_or_accepted(lambda: result.append(_verify_with_status(work, site, capsys, BOMB))) is None
    code, out, _ = result[0]
    assert code == 1 and json.loads(out)["code"] == "malformed"


def test_a_status_list_larger_than_any_list_is_not_read(work, site, capsys):
    code, out, _ = _verify_with_status(work, site, capsys, json.dumps("A" * status_list.MAX_TOKEN_BYTES))
    assert code == 1 and json.loads(out)["code"] == "status_unavailable"


def test_a_status_list_older_than_its_ttl_is_refused(work, site, capsys):
    fresh = json.dumps(StatusList(64).encode()["lst"])
    code, out, _ = _verify_with_status(work, site, capsys, fresh, iat=int(time.time()) - 3600, ttl=300)
    assert code == 1 and json.loads(out)["code"] == "status_unavailable"
    code, out, _ = _verify_with_status(work, site, capsys, fresh)
    assert code == 0 and json.loads(out)["status"] == "valid"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_signed_hostile_credential_makes_the_command_fail(work, capsys, data):
    issuer = _issuer_key(work)
    shown = disclosure_text(f'["c2FsdHNhbHRzYWx0","naam",{data.draw(VALUES)}]')
    base = {
        "iss": "https://gemeente.example/bk",
        "vct": VCT,
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
        "_sd_alg": "sha-256",
        "_sd": [sdjwt.digest(shown)],
    }
    token = sign_text(data.draw(st.one_of(st.just(json_dumps(base)), mutated(base))), issuer, sdjwt_vc.TYP)
    (work / "hostile.sdjwt").write_text(f"{token}~{shown}~")
    _public(capsys, "issuer.jwk", "issuer.pub")
    for output in ([], ["--json"]):
        code, out, _ = _capture(capsys, "verify", "hostile.sdjwt", "--issuer-jwks", "issuer.pub", *output)
        assert code in (0, 1) and ("VALID" in out or '"valid"' in out)
