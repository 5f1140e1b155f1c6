"""scripts/plus-walkthrough.sh against the real demo server: the whole Plus flow over HTTP exits 0 and names each
step; signed with another requester's key, it fails and says so instead of pretending."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deployments import REPO, clean_environment

pytestmark = pytest.mark.e2e

SCRIPT = REPO / "scripts" / "plus-walkthrough.sh"
HOUSING = "00000003271247970000"  # Woningcorporatie Thuisbasis, the script's requester
BANK = "00000003334469140000"  # Spaarbank Voorbeeld: another requester
STEPS = [
    "==> The scheme document at",
    "==> The housing corporation asks for income (required) and an address (optional), standing access",
    "==> The citizen logs in with the DigiD mock and opens the link",
    "==> The citizen unticks the address and approves",
    "==> The housing corporation looks at what it received",
    "==> Standing access: the corporation fetches fresh data without asking the citizen again",
    "==> The citizen withdraws the consent at Mijn toestemmingen",
    "==> The corporation's next standing fetch is refused",
    "==> Done: exactly the approved fields arrived, and withdrawal stopped the next fetch",
]


def walk(base_url: str, key: Path | None = None, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the script with the requester's key named, or found in the demo's data folder as ``make demo`` left it."""
    env = clean_environment()
    if key is not None:
        assert key.exists(), f"the demo made no key at {key}"
        env["BLAUWEKNOP_WALKTHROUGH_KEY"] = str(key)
    if data_dir is not None:
        env["BLAUWEKNOP_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(SCRIPT), base_url], env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_walkthrough_runs_every_step_against_the_demo(demo_server):
    """Against a demo in another data folder, as the README starts one: the script finds the key there."""
    done = walk(demo_server.base_url, data_dir=demo_server.data_dir)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    missing = [step for step in STEPS if step not in done.stdout]
    assert not missing, f"the output does not name the steps {missing}:\n{done.stdout}"
    assert "received [('inkomen'," in done.stdout and "HTTP 403" in done.stdout
    assert not demo_server.bsn_leaks(done.stdout + done.stderr), "the walkthrough printed a BSN"


def test_with_another_requesters_key_it_fails_and_says_so(demo_server):
    done = walk(demo_server.base_url, demo_server.data_dir / "keys" / f"{BANK}.jwk")
    assert done.returncode != 0, f"signed with the bank's key it still passed:\n{done.stdout}"
    assert "FAILED" in done.stderr and "making the request" in done.stderr, done.stderr
    assert STEPS[-1] not in done.stdout and "==> The citizen" not in done.stdout


def test_without_the_key_it_says_where_it_looked(tmp_path):
    done = walk("http://127.0.0.1:9", data_dir=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{tmp_path}/keys/{HOUSING}.jwk" in done.stderr and "BLAUWEKNOP_DATA_DIR" in done.stderr
