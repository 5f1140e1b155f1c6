"""docs/conformance.md's command against the demo works as written, on any port and with any data folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from blauweknop import keystore
from tests.conformance.conftest import test_citizens

ROOT = Path(__file__).resolve().parents[2]


def demo_command() -> str:
    """The shell command of the guide's "Against the demo" example."""
    guide = (ROOT / "docs" / "conformance.md").read_text()
    shown = re.search(r"Against the demo.*?```sh\n(.*?)```", guide, re.DOTALL)
    assert shown is not None
    return shown.group(1)


def test_the_demo_example_works_on_another_port_and_data_folder(demo, scheme, tmp_path):
    address = urlsplit(demo.url)
    port = address.port
    assert port != 8000  # the live server's port: the example may not lean on the default
    holder = scheme.issuer(f"{demo.url}/gemeente-voorbeeldstad")
    # The demo's data folder as make demo leaves it: the portal's key under keys/.
    keystore.signing_key(settings.PORTAL_OIN)
    (tmp_path / "keys").mkdir()
    shutil.copy(Path(settings.KEY_DIR) / f"{settings.PORTAL_OIN}.jwk", tmp_path / "keys")
    bsns = " ".join(f"--bsn {bsn}" for bsn in test_citizens(holder))
    # The live server answers as localhost where the demo answers as 127.0.0.1: the port is what matters here.
    command = demo_command().replace("--bsn <a BSN make demo printed>", bsns).replace("127.0.0.1", address.hostname)
    environment = {**os.environ, "PORT": str(port), "BLAUWEKNOP_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [shutil.which("bash"), "-euc", command], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("CONFORMS: 11 of 11 checks passed.")


def test_the_readme_says_how_to_run_the_demo_on_another_port_and_data_folder():
    readme = (ROOT / "README.md").read_text()
    assert "`make demo PORT=8411 BLAUWEKNOP_DATA_DIR=/tmp/demo`" in readme
    assert "PORT must be the one seed_demo ran with" in (ROOT / "scripts" / "run-demo.sh").read_text()
