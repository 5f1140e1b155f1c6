"""``blauweknop scheme apply`` and ``scheme status`` against a real scheme operator over HTTP: words and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from blauweknop.cli import main
from blauweknop.protocol.jwk import generate_jwk, public_jwk
from blauweknop.scheme import keys, lifecycle, publication
from blauweknop.scheme.management.admission import admission
from blauweknop.scheme.models import Application, AuditEntry, Organisation

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
    participant, key = files(tmp_path / "waterschap", described(WATERSCHAP), KEYS[WATERSCHAP][0])
    applied = run_cli("scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "received the application of Waterschap Voorbeeld (OIN 00000009876543210000)" in applied.stdout
    assert "Its status is now applied (aangemeld): waiting for the scheme operator" in applied.stdout
    assert "  api: https://waterschap.example/waterschap-voorbeeld/api/v1\n" in applied.stdout
    assert "  issuer: https://waterschap.example/waterschap-voorbeeld\n" in applied.stdout
    assert f"blauweknop scheme status --oin {WATERSCHAP} --key {key} --scheme {scheme}" in applied.stdout
    waterschap_key = key

    participant, key = files(tmp_path / "wonen", described(WONINGCORPORATIE), KEYS[WONINGCORPORATIE][0])
    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)
    assert code == 0 and "Its status is now applied (aangemeld)" in out
    assert "  requester: https://wonen.example/vragers/woningcorporatie-voorbeeld/api/v1\n" in out
    assert "issuer:" not in out

    assert set(Application.objects.values_list("oin", "state")) == {
        (WATERSCHAP, "waiting"),
        (WONINGCORPORATIE, "waiting"),
    }
    status = run_cli("scheme", "status", "--oin", WATERSCHAP, "--key", waterschap_key, "--scheme", scheme)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"OIN {WATERSCHAP}: applied (aangemeld): waiting for the scheme operator" in status.stdout
    assert "Applied on" in status.stdout and "UTC" in status.stdout and "Certified since" not in status.stdout

    publication.publish()
    number = Application.objects.get(oin=WONINGCORPORATIE).pk
    lifecycle.certify(number, actor="beheerder", reason="Conformiteitstest geslaagd.")
    code, out = cli(capsys, "scheme", "status", "--oin", WONINGCORPORATIE, "--key", key, "--scheme", scheme)
    assert code == 0 and "certified (gecertificeerd): the organisation takes part in the scheme" in out
    assert "Certified since" in out


def test_applying_again_is_refused_and_says_whom_to_ask(deployment, tmp_path, capsys):
    scheme = f"{deployment.url}/stelsel"
    participant, key = files(tmp_path, described(), KEYS[WATERSCHAP][0])
    assert cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)[0] == 0

    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)
    assert code == 1
    assert "did not accept the application (already_applied)" in out
    assert "blauweknop scheme status" in out


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
    code, out = cli(capsys, "scheme", "status", "--oin", "123", "--key", key)
    assert code == 2 and "20 digits" in out
    code, out = cli(capsys, "scheme", "status", "--oin", WATERSCHAP, "--key", tmp_path / "nergens.jwk")
    assert code == 2
    for incomplete in (["apply", "--file", str(participant)], ["status", "--oin", WATERSCHAP]):
        with pytest.raises(SystemExit) as usage:
            main(["scheme", *incomplete])
        assert usage.value.code == 2


def test_an_operator_that_cannot_be_reached_fails_in_plain_words(tmp_path, capsys):
    participant, key = files(tmp_path, described(), KEYS[WATERSCHAP][0])
    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", "http://127.0.0.1:9/x")
    assert code == 1
    assert "Could not reach the scheme operator" in out and "Nothing was sent" in out
    code, out = cli(capsys, "scheme", "status", "--oin", WATERSCHAP, "--key", key, "--scheme", "http://127.0.0.1:9/x")
    assert code == 1 and "Could not ask the scheme operator at http://127.0.0.1:9/x/api/v1/aanmeldingen/" in out
    assert "sent" not in out  # asking sends nothing worth mentioning
    assert "the operator's /stelsel address" in out


def test_the_status_of_an_oin_nobody_applied_with(deployment, tmp_path, capsys):
    _, key = files(tmp_path, described(), KEYS[WATERSCHAP][0])
    code, out = cli(
        capsys, "scheme", "status", "--oin", WATERSCHAP, "--key", key, "--scheme", f"{deployment.url}/stelsel"
    )
    assert code == 1 and "did not answer (invalid_client)" in out
    assert f"The operator has no key {KEYS[WATERSCHAP][0]['kid']} for OIN {WATERSCHAP}: check the OIN" in out
    assert "Not applied yet? Apply with: blauweknop scheme apply" in out


def test_only_the_applicant_with_a_key_it_applied_with_hears_how_it_stands(deployment, tmp_path, capsys):
    """Review F11: the status said to anyone that an OIN applied and was refused."""
    scheme = f"{deployment.url}/stelsel"
    participant, key = files(tmp_path / "wonen", described(WONINGCORPORATIE), KEYS[WONINGCORPORATIE][0])
    assert cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)[0] == 0
    publication.publish()
    refused = Application.objects.get(oin=WONINGCORPORATIE)
    lifecycle.refuse(refused.pk, actor="beheerder", reason="Geen geldig doel.")

    code, out = cli(capsys, "scheme", "status", "--oin", WONINGCORPORATIE, "--key", key, "--scheme", scheme)
    assert code == 0 and "refused (geweigerd): the scheme operator refused the application" in out
    assert "Geen geldig doel" not in out

    # A key of another organisation, a key never applied with: nothing about the application, the same words.
    _, other = files(tmp_path / "waterschap", described(), KEYS[WATERSCHAP][0])
    _, stranger = files(tmp_path / "vreemde", described(), generate_jwk())
    answers = []
    for wrong in (other, stranger):
        code, out = cli(capsys, "scheme", "status", "--oin", WONINGCORPORATIE, "--key", wrong, "--scheme", scheme)
        assert code == 1 and "did not answer (invalid_client)" in out and "geweigerd" not in out
        answers.append(out.replace(json.loads(wrong.read_text())["kid"], "KID"))
    assert answers[0] == answers[1]

    # Applied again with the same key and certified; once that key is revoked it proves nothing, nor the old refusal.
    assert cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", scheme)[0] == 0
    lifecycle.certify(Application.objects.exclude(pk=refused.pk).get().pk, actor="beheerder", reason="Nu goed.")
    keys.revoke(WONINGCORPORATIE, KEYS[WONINGCORPORATIE][0]["kid"], actor="beheerder", reason="Gestolen.")
    code, out = cli(capsys, "scheme", "status", "--oin", WONINGCORPORATIE, "--key", key, "--scheme", scheme)
    assert code == 1 and "(invalid_client)" in out and "not one that was revoked" in out


DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "participant.json"


def test_the_help_of_apply_describes_every_field_and_points_to_the_guide(capsys):
    with pytest.raises(SystemExit) as shown:
        main(["scheme", "apply", "--help"])
    assert shown.value.code == 0
    out = capsys.readouterr().out
    for name in json.loads(EXAMPLE.read_text()):
        assert f"\n  {name} " in out, name
    for words in ("WITHOUT the slug", "holder and/or requester", "app_manager alone", "catalogue ids", "/stelsel"):
        assert words in out, words
    assert "docs/scheme-operator.md, section Joining" in out and "docs/examples/participant.json" in out


def test_the_guide_shows_the_example_file_whole():
    guide = (DOCS / "scheme-operator.md").read_text()
    joining = guide[guide.index("## Joining") : guide.index("## The operator's pages")]
    shown = re.search(r"```json\n(.*?)```", joining, re.DOTALL)
    assert shown is not None and json.loads(shown.group(1)) == json.loads(EXAMPLE.read_text())
    assert "examples/participant.json" in joining


def test_the_example_file_of_the_guide_is_accepted_by_a_live_operator(deployment, tmp_path, capsys):
    example = json.loads(EXAMPLE.read_text())
    assert admission(example).oin == example["oin"]  # as it stands, public key and all
    # Step 1 of the guide: the organisation's own key, whose public part goes into the jwks.
    key = generate_jwk()
    participant, private = files(tmp_path, {**example, "jwks": {"keys": [public_jwk(key)]}}, key)
    scheme = f"{deployment.url}/stelsel"
    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", private, "--scheme", scheme)
    assert code == 0, out
    assert "  api: https://blauweknop.waterschapnoord.example/waterschap-noord/api/v1\n" in out
    assert Application.objects.get(oin=example["oin"]).state == "waiting"
    code, out = cli(capsys, "scheme", "status", "--oin", example["oin"], "--key", private, "--scheme", scheme)
    assert code == 0 and "applied (aangemeld)" in out


def test_a_base_url_with_the_slug_in_it_is_refused_with_the_base_url_to_give(deployment, tmp_path, capsys):
    example = json.loads(EXAMPLE.read_text())
    key = generate_jwk()
    doubled = {**example, "base_url": example["base_url"] + "/waterschap-noord", "jwks": {"keys": [public_jwk(key)]}}
    participant, private = files(tmp_path, doubled, key)
    code, out = cli(
        capsys, "scheme", "apply", "--file", participant, "--key", private, "--scheme", f"{deployment.url}/stelsel"
    )
    assert code == 2
    assert "waterschap-noord/waterschap-noord/api/v1" in out and f"without it: {example['base_url']}." in out
    assert Organisation.objects.count() == 0


def test_an_application_signed_for_another_address_of_the_operator_is_refused_in_plain_words(
    deployment, tmp_path, capsys
):
    # The same operator, reached under another name than the one it publishes: its aud is not this one.
    other = deployment.url.replace("localhost", "127.0.0.1") + "/stelsel"
    assert other != f"{deployment.url}/stelsel"
    participant, key = files(tmp_path, described(), KEYS[WATERSCHAP][0])
    code, out = cli(capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", other)
    assert code == 2 and "did not accept the application (aud_mismatch)" in out
    assert f"signed for {other}/api/v1/aanmeldingen" in out and "Give --scheme exactly" in out
    assert not Organisation.objects.exists()
    code, out = cli(
        capsys, "scheme", "apply", "--file", participant, "--key", key, "--scheme", f"{deployment.url}/stelsel"
    )
    assert code == 0 and "received the application" in out
