"""/metrics: Prometheus metrics for the operator's monitoring only, with the application's own counters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from blauweknop.holder.models import SourceRecord
from blauweknop.scheme.client import scheme_client
from tests.holder.test_issue_credential import BELASTING, _assertion
from tests.test_health import closed_port
from tests.test_settings import production_environment

REPO = Path(__file__).resolve().parents[1]
TOKEN = "monitoring-token-for-the-tests"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(url: str) -> httpx.Response:
    return httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


def test_it_does_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"])
def test_it_refuses_a_missing_or_wrong_token(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert b"django_http" not in answer.content


def test_it_shows_the_metrics_to_the_right_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")
    assert b"django_http_requests_before_middlewares_total" in answer.content
    assert b"# TYPE blauweknop_credentials_issued_total counter" in answer.content


@pytest.mark.django_db(transaction=True)
def test_issuance_and_refusals_move_the_counters_and_no_bsn_reaches_them(demo_world, wallet, settings):
    settings.METRICS_TOKEN = TOKEN
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    issued = {"holder": BELASTING, "document_type": "inkomen"}
    replayed = {"holder": BELASTING, "code": "assertion_replayed"}
    wrong_audience = {"holder": BELASTING, "code": "aud_mismatch"}
    before = [
        value("blauweknop_credentials_issued_total", **issued),
        value("blauweknop_assertion_refusals_total", **replayed),
    ]
    before.append(value("blauweknop_assertion_refusals_total", **wrong_audience))

    url = f"{demo_world.url}/belastingkantoor/api/v1/verklaringen"
    body = {"appbeheerderverklaring": _assertion(bsn, wallet), "documentsoort": "inkomen"}
    assert httpx.post(url, json=body, timeout=30).status_code == 201
    assert httpx.post(url, json=body, timeout=30).status_code == 401  # the same assertion again
    elsewhere = {"appbeheerderverklaring": _assertion(bsn, wallet, holder_oin="0" * 20), "documentsoort": "inkomen"}
    assert httpx.post(url, json=elsewhere, timeout=30).status_code == 401

    after = [
        value("blauweknop_credentials_issued_total", **issued),
        value("blauweknop_assertion_refusals_total", **replayed),
    ]
    after.append(value("blauweknop_assertion_refusals_total", **wrong_audience))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    text = scrape(demo_world.url).text
    assert f'blauweknop_credentials_issued_total{{document_type="inkomen",holder="{BELASTING}"}}' in text
    assert bsn not in text


@pytest.mark.django_db
def test_a_failed_scheme_refresh_and_the_refusal_it_causes_are_counted(client, settings):
    settings.SCHEME_URL = f"http://127.0.0.1:{closed_port()}/stelsel"
    failures, refusals = (
        value("blauweknop_scheme_refresh_failures_total", reason="ConnectError"),
        value("blauweknop_scheme_unavailable_total"),
    )
    scheme_client.forget()
    try:
        assert client.get("/gezondheid/klaar").status_code == 503
    finally:
        scheme_client.forget()
    assert value("blauweknop_scheme_refresh_failures_total", reason="ConnectError") == failures + 1
    assert value("blauweknop_scheme_unavailable_total") == refusals + 1


@pytest.mark.django_db(transaction=True)
def test_the_scheme_documents_expiry_is_shown(demo_world):
    httpx.get(demo_world.url + "/gezondheid/klaar", timeout=30)
    document = scheme_client._document
    assert document is not None
    assert value("blauweknop_scheme_document_expiry_timestamp_seconds") == document.exp


COUNT_ONE = """
import django
django.setup()
from blauweknop import metrics
metrics.credentials_issued.labels("00000001003214345000", "inkomen").inc()
"""
SCRAPE = f"""
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="blauweknop.example")
answer = client.get("/metrics", secure=True, headers={{"Authorization": "Bearer {TOKEN}"}})
print(answer.status_code)
print(answer.content.decode())
"""


def test_with_several_worker_processes_the_counts_add_up(tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = production_environment(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder), BLAUWEKNOP_METRICS_TOKEN=TOKEN)

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run(COUNT_ONE)
    run(COUNT_ONE)
    status, _, page = run(SCRAPE).partition("\n")
    assert status == "200"
    assert 'blauweknop_credentials_issued_total{document_type="inkomen",holder="00000001003214345000"} 2.0' in page


def test_it_answers_over_plain_http_where_pages_redirect_to_https(client, settings):
    # Prometheus scrapes each pod inside the cluster over plain http; a redirect would lose every scrape.
    settings.METRICS_TOKEN = TOKEN
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/controleren/").status_code == 301
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
