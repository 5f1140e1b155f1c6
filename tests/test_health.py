"""/gezondheid/live and /gezondheid/klaar: probes in every role, without login (issue 7, item 4)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.http import HttpResponse
from django.test import AsyncClient

from blauweknop import keystore
from blauweknop.holder import tenants
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme.client import scheme_client
from tests.holder.test_issue_credential import BELASTING
from tests.test_settings import production_environment

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import json, os, django
django.setup()
from django.core.management import call_command
from django.test import Client
if os.environ.get("MIGRATE_FIRST"):
    call_command("migrate", verbosity=0)
client = Client(HTTP_HOST="blauweknop.example")
for path in ("/gezondheid/live", "/gezondheid/klaar"):
    answer = client.get(path)
    print(json.dumps([answer.status_code, answer["Content-Type"], json.loads(answer.content)]))
"""


def closed_port() -> int:
    """A port where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def probe(tmp_path: Path, **environment: str) -> list[list]:
    """Both probes, over plain http, in a fresh production process with ``environment``."""
    env = production_environment(
        tmp_path,
        **{
            "DATABASE_URL": f"sqlite:///{tmp_path / 'health.sqlite3'}",
            "BLAUWEKNOP_SCHEME_URL": f"http://127.0.0.1:{closed_port()}/stelsel",
            **environment,
        },
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


MIGRATED = {"database": "ok", "migrations": "ok"}
NO_SCHEME = {"status": "unavailable", "checks": {**MIGRATED, "scheme": "scheme_unavailable"}}
HOLDER_NO_SCHEME = {"status": "unavailable", "checks": {**MIGRATED, "scheme": "scheme_unavailable", "source": "ok"}}


def test_it_is_not_ready_before_the_migrations_of_its_version_ran(tmp_path):
    # Kubernetes starts new web pods beside the migrate job: they must get no traffic before it is done.
    live, klaar = probe(tmp_path, BLAUWEKNOP_ROLES="scheme")
    assert live[0] == 200
    assert [klaar[0], klaar[2]] == [
        503,
        {"status": "unavailable", "checks": {"database": "ok", "migrations": "pending"}},
    ]


@pytest.mark.parametrize(
    ("roles", "ready"),
    [
        ("scheme", [200, {"status": "ok", "checks": MIGRATED}]),
        ("holder", [503, HOLDER_NO_SCHEME]),
        ("portal", [503, NO_SCHEME]),
        ("scheme,holder,portal", [503, HOLDER_NO_SCHEME]),
    ],
)
def test_every_role_answers_both_probes_over_plain_http_without_login(tmp_path, roles, ready):
    # Production settings redirect http to https; probes inside the cluster are exempt.
    live, klaar = probe(tmp_path, BLAUWEKNOP_ROLES=roles, MIGRATE_FIRST="1")
    assert live == [200, "application/json", {"status": "ok"}]
    assert [klaar[0], klaar[2]] == ready


def test_it_is_not_ready_but_alive_when_the_database_does_not_answer(tmp_path):
    live, klaar = probe(
        tmp_path,
        BLAUWEKNOP_ROLES="scheme",
        DATABASE_URL=f"postgres://blauweknop@127.0.0.1:{closed_port()}/blauweknop",
        BLAUWEKNOP_DB_POOL_TIMEOUT="1",
    )
    assert live[0] == 200
    assert [klaar[0], klaar[2]] == [
        503,
        {"status": "unavailable", "checks": {"database": "unavailable", "migrations": "unavailable"}},
    ]


@pytest.mark.django_db(transaction=True)
def test_it_is_ready_with_the_database_and_a_scheme_document(demo_world):
    answer = httpx.get(demo_world.url + "/gezondheid/klaar", timeout=30)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": {**MIGRATED, "scheme": "ok", "source": "ok"}}
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_a_holder_whose_key_the_scheme_does_not_list_is_not_ready(demo_world, monkeypatch, caplog):
    # A key from another key folder than the one the operator admitted: every copy would be refused.
    stray = SigningKey(generate_jwk())
    real = keystore.signing_key
    monkeypatch.setattr(keystore, "signing_key", lambda name, kid=None: stray if name == BELASTING else real(name, kid))
    answer = httpx.get(demo_world.url + "/gezondheid/klaar", timeout=30)
    assert answer.status_code == 503
    assert answer.json()["checks"] == {**MIGRATED, "scheme": "key_not_in_scheme", "source": "ok"}
    assert f"{BELASTING} signs with a key the scheme document does not list" in caplog.text


@pytest.mark.django_db
def test_it_is_not_ready_when_the_scheme_operator_is_down_and_no_document_is_in_hand(client, settings):
    settings.SCHEME_URL = f"http://127.0.0.1:{closed_port()}/stelsel"
    scheme_client.forget()
    try:
        answer = client.get("/gezondheid/klaar")
    finally:
        scheme_client.forget()
    assert answer.status_code == 503
    assert answer.json()["checks"] == {**MIGRATED, "scheme": "scheme_unavailable", "source": "ok"}


def asgi_get(path: str) -> tuple[HttpResponse, float]:
    """GET through the ASGI handler, as uvicorn runs it, and the seconds until the answer.

    The event loop is closed without waiting for the threads it started: as under uvicorn, whose
    loop lives on, a fetch left running in the background does not hold the answer back.
    """
    loop = asyncio.new_event_loop()
    try:
        started = time.monotonic()
        answer = loop.run_until_complete(AsyncClient().get(path))
        return answer, time.monotonic() - started
    finally:
        loop.close()


@pytest.mark.django_db(transaction=True)
def test_a_hanging_scheme_operator_does_not_hang_the_probe(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        settings.SCHEME_URL = f"http://127.0.0.1:{sock.getsockname()[1]}/stelsel"
        scheme_client.forget()
        answer, waited = asgi_get("/gezondheid/klaar")
    scheme_client.forget()
    assert answer.status_code == 503
    assert answer.json()["checks"] == {**MIGRATED, "scheme": "timeout", "source": "ok"}
    assert waited < 5  # the fetch itself would wait 10 s for an answer


def test_a_holder_whose_source_adapter_cannot_be_made_is_not_ready(tmp_path):
    # It passed every check and failed at the first press.
    _live, klaar = probe(
        tmp_path, BLAUWEKNOP_ROLES="holder", BLAUWEKNOP_SOURCE_ADAPTER="gemeente.bron.BestaatNiet", MIGRATE_FIRST="1"
    )
    assert klaar[0] == 503 and klaar[2]["checks"]["source"] == "unavailable"


@pytest.mark.django_db(transaction=True)
def test_a_holder_two_of_whose_tenants_share_an_address_is_not_ready(demo_world, monkeypatch, caplog):
    # The second could never be reached: its requests were answered as the first one's.
    monkeypatch.setattr(tenants, "issuer_slug", lambda issuer: "zelfde")
    answer = httpx.get(demo_world.url + "/gezondheid/klaar", timeout=30)
    assert answer.status_code == 503
    assert answer.json()["checks"] == {**MIGRATED, "scheme": "address_shared", "source": "ok"}
    assert "two tenants of this holder share the address zelfde" in caplog.text
