"""The wheel carries everything a deployment needs besides code (issue 7, item 6)."""

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_templates_static_files_catalogue_and_translations(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("blauweknop-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "blauweknop/templates/base.html",
        "blauweknop/templates/500.html",
        "blauweknop/portal/templates/portal/home.html",
        "blauweknop/portal/templates/portal/outage.html",
        "blauweknop/static/blauweknop/site.css",
        "blauweknop/static/blauweknop/theme.css",
        "blauweknop/static/blauweknop/knop.css",
        "blauweknop/static/blauweknop/mark.svg",
        "blauweknop/portal/templates/portal/help/help.html",  # a template one folder deeper
        "blauweknop/scheme/catalogue/vorderingen.json",
        "blauweknop/scheme/catalogue/legal_bases.json",
        "blauweknop/requester/demo_presets.json",  # what the demo requesters ask
        "blauweknop/locale/en/LC_MESSAGES/django.po",
        "blauweknop/locale/en/LC_MESSAGES/django.mo",  # compiled by the setup before the tests
    }
    assert expected <= names, sorted(expected - names)
    assert not any("/var/" in name or name.endswith((".sqlite3", ".jwk")) for name in names)


def test_the_lock_file_pins_every_declared_dependency_with_hashes():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    names = {canonical(re.match(r"[A-Za-z0-9_.-]+", requirement)[0]) for requirement in declared}
    lock = (REPO / "requirements.lock").read_text()
    pinned = {canonical(name) for name in re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.MULTILINE)}
    assert names <= pinned, f"run make lock: {sorted(names - pinned)} are not in requirements.lock"
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", lock, flags=re.MULTILINE)[1:]
    assert blocks and all("--hash=sha256:" in block for block in blocks), "every pin carries its hashes"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
