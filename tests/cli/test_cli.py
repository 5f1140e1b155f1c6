"""The ``blauweknop`` command's contract: outputs and exit codes on valid, tampered and garbage input."""

import json
import os
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from blauweknop.cli import main
from blauweknop.protocol import scheme_document, sdjwt_vc, status_list
from blauweknop.protocol.jwk import SigningKey, jwks
from blauweknop.protocol.scheme_document import HOLDER, participant_entry
from blauweknop.protocol.status_list import INVALID, StatusList

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
