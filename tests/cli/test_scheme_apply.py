"""``blauweknop scheme apply`` and ``scheme status`` against a real scheme operator over HTTP: words and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from blauweknop.cli import main
from blauweknop.protocol.jwk import generate_jwk
from blauweknop.scheme import lifecycle, publication
from blauweknop.scheme.models import AuditEntry, Organisation

from ..scheme.test_apply_api import KEYS, WATERSCHAP, WONINGCORPORATIE, described
from .test_cli import run_cli

pytestmark = pytest.mark.django_db(transaction=True)


def files(folder: Path, description: Any, key: dict[str, Any]) -> tuple[Path, Path]:
    """The participant file and the private key file an organisation applies with."""
    folder.mkdir(parents=True, exist_ok=True)
    participant, private = folder / "deelnemer.json", folder / "private.jwk"
    participant.write_text(description if isinstance(description, str) else json.dumps(description))
    private.write_text(json.dumps(key))
    return participant, private


def cli(capsys, *args: Any) -> tuple[int, str]:
    """Run the command in this process; its exit code and everything it printed."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


def test_two_organisations_apply_and_ask_how_it_stands(deployment, tmp_path, capsys):
    scheme = f"{deployment.url}/stelsel"
    participant, key = files(tmp_path / "waterschap", described(WATERSCHAP), KEYS[WATERSCHAP][1])
    applied = run_cli("scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "received the application of Waterschap Voorbeeld (OIN 00000009876543210000)" in applied.stdout
    assert "the operator reviews it" in applied.stdout
    assert f"blauweknop scheme status --oin {WATERSCHAP} --scheme {scheme}" in applied.stdout

    participant, key = files(tmp_path / "wonen", described(WONINGCORPORATIE), KEYS[WONINGCORPORATIE][0])
    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)
    assert code == 0 and "Its status is now: aangemeld" in out

    assert set(Organisation.objects.values_list("oin", "certification")) == {
        (WATERSCHAP, "applied"),
        (WONINGCORPORATIE, "applied"),
    }
    status = run_cli("scheme", "status", "--oin", WATERSCHAP, "--scheme", scheme)
    assert status.returncode == 0, status.stderr
    assert "aangemeld (the scheme operator has your application and has not decided yet)" in status.stdout
    assert "Applied on" in status.stdout and "UTC" in status.stdout and "Certified since" not in status.stdout

    publication.publish()
    lifecycle.certify(WONINGCORPORATIE, actor="beheerder", reason="Conformiteitstest geslaagd.")
    code, out = cli(capsys, "scheme", "status", "--oin", WONINGCORPORATIE, "--scheme", scheme)
    assert code == 0 and "gecertificeerd (the organisation takes part in the scheme)" in out
    assert "Certified since" in out


def test_applying_again_is_refused_and_says_whom_to_ask(deployment, tmp_path, capsys):
    scheme = f"{deployment.url}/stelsel"
    participant, key = files(tmp_path, described(), KEYS[WATERSCHAP][0])
    assert cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)[0] == 0

    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)
    assert code == 1
    assert "did not accept the application (oin_taken)" in out
    assert "Ask the scheme operator" in out


def test_a_file_the_operator_would_not_admit_lists_every_problem_and_stores_nothing(deployment, tmp_path, capsys):
    bad = described(slug="geen slug", roles=["holder", "bank"])
    participant, key = files(tmp_path, bad, KEYS[WATERSCHAP][0])
    code, out = cli(
        capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", f"{deployment.url}/stelsel"
    )
    assert code == 2
    assert "(invalid_application)" in out
    assert "- The slug may only hold letters" in out and "- Unknown roles: bank" in out
    assert "Fix this in your file or key" in out
    assert Organisation.objects.count() == 0 and not AuditEntry.objects.filter(action="applied").exists()


@pytest.mark.parametrize(
    ("description", "key", "words"),
    [
        (described(), generate_jwk(), "is not in the jwks of"),
        (described(), {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "cannot be used"),
        ("{not json", KEYS[WATERSCHAP][0], "is not valid JSON"),
        ([], KEYS[WATERSCHAP][0], "is not in the jwks of"),
        (described(iat=1), KEYS[WATERSCHAP][0], "may not hold iat"),
    ],
)
def test_a_key_or_file_that_cannot_be_used_is_a_usage_error_before_anything_is_sent(
    deployment, tmp_path, capsys, description, key, words
):
    participant, private = files(tmp_path, description, key)
    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", private, "--scheme", deployment.url)
    assert (code, words in out) == (2, True), out
    assert Organisation.objects.count() == 0


def test_missing_files_and_bad_arguments_are_usage_errors(tmp_path, capsys):
    participant, key = files(tmp_path, described(), KEYS[WATERSCHAP][0])
    assert cli(capsys, "scheme", "apply", "--file", tmp_path / "nergens.json", "--key", key)[0] == 2
    assert cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", "ftp://stelsel")[0] == 2
    code, out = cli(capsys, "scheme", "status", "--oin", "123")
    assert code == 2 and "20 digits" in out
    with pytest.raises(SystemExit) as usage:
        main(["scheme", "apply", "--file", str(participant)])
    assert usage.value.code == 2


def test_an_operator_that_cannot_be_reached_fails_in_plain_words(tmp_path, capsys):
    participant, key = files(tmp_path, described(), KEYS[WATERSCHAP][0])
    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", "http://127.0.0.1:9/x")
    assert code == 1
    assert "Could not reach the scheme operator" in out and "Nothing was sent" in out
    assert cli(capsys, "scheme", "status", "--oin", WATERSCHAP, "--scheme", "http://127.0.0.1:9/x")[0] == 1


def test_the_status_of_an_oin_nobody_applied_with(deployment, capsys):
    code, out = cli(capsys, "scheme", "status", "--oin", WATERSCHAP, "--scheme", f"{deployment.url}/stelsel")
    assert code == 1 and "knows no application or participant with OIN" in out
