"""Security headers: a strict CSP, no copies of personal data in caches, HSTS and `check --deploy` in production."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.portal.conftest import download_form
from tests.test_settings import production_environment

REPO = Path(__file__).resolve().parents[1]
BELASTING = "00000001003214345000"


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/controleren/", "/bestaat-niet/"])
def test_every_page_has_a_content_security_policy_without_inline_code(client, path):
    directives = policy(client.get(path))
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert not any("'unsafe-inline'" in sources or "'unsafe-eval'" in sources for sources in directives.values())
    assert "script-src" not in directives and "style-src" not in directives, "both fall back to default-src 'self'"


@pytest.mark.django_db(transaction=True)
def test_pages_and_downloads_with_personal_data_are_never_stored(client, demo_world):
    from blauweknop.holder.models import SourceRecord

    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    client.post("/inloggen/?next=/", {"bsn": bsn})
    pages = [client.get(f"/organisaties/{BELASTING}/"), client.get("/mijn-inzage/")]
    pressed = client.post(f"/organisaties/{BELASTING}/blauwe-knop/")
    pages.append(client.get(pressed["Location"]))
    download = client.post(
        f"/organisaties/{BELASTING}/downloaden/",
        download_form("inkomen", ["belastingjaar"], "json"),
    )
    assert [page.status_code for page in [*pages, download]] == [200, 200, 200, 200]
    assert {page["Cache-Control"] for page in [*pages, download]} == {"no-store"}


@pytest.mark.django_db(transaction=True)
def test_public_signed_documents_and_static_files_keep_their_own_caching(client, demo_world):
    assert client.get("/stelsel/api/v1/stelseldocument")["Cache-Control"] == "public, max-age=300"
    static = client.get("/static/blauweknop/site.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


def run_in_production(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_finds_nothing_to_warn_about_in_production(tmp_path):
    done = run_in_production(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


PRODUCTION_REQUESTS = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="blauweknop.example")
print(client.get("/knop/", secure=True)["Strict-Transport-Security"])
plain = client.get("/knop/")
print(plain.status_code, plain["Location"])
"""


def test_production_over_https_sends_hsts_and_redirects_plain_http(tmp_path):
    done = run_in_production(tmp_path, "-c", PRODUCTION_REQUESTS)
    assert done.returncode == 0, done.stderr
    hsts, redirect = done.stdout.splitlines()
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert redirect == "301 https://blauweknop.example/knop/"
