"""With BLAUWEKNOP_CACHE_URL set, processes share the scheme document through a real Redis server (issue 7, item 4).

A throwaway ``redis-server`` (Debian's, installed by scripts/install-test-tools.sh) on a free port;
two separate Python processes configured only through the environment, as a deployment is. The
first fetches the document from the operator and leaves it in Redis; the second, which cannot
reach the operator at all, gets it from Redis and verifies it against the trust anchor.
"""

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blauweknop.scheme.publication import operator_jwks
from tests.test_settings import production_environment

pytestmark = pytest.mark.django_db(transaction=True)

SHARE = """
import asyncio, json, os, sys, django
django.setup()
from django.core.management import call_command
os.makedirs(os.environ["BLAUWEKNOP_DATA_DIR"], exist_ok=True)
call_command("migrate", verbosity=0)  # as a deployment does: the client keeps what it learnt in the database
from blauweknop.scheme import client
if sys.argv[1] == "share":
    client.download = lambda: sys.exit("the second process asked the operator")
process = client.SchemeClient()
process.refresh()
document = asyncio.run(process.current())
print(json.dumps([document.version, document.iat]))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url(tmp_path: Path):
    """A redis-server of its own, in memory only, on a free loopback port; stopped after the test."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server must be installed (scripts/install-test-tools.sh)"
    port = _free_port()
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    server = subprocess.Popen([binary, *options], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not _answers_ping(port):
            assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _process(tmp_path: Path, redis_url: str, scheme_url: str, step: str) -> list[int]:
    env = production_environment(
        tmp_path / step,
        BLAUWEKNOP_ROLES="portal",  # two web processes of a portal, say
        BLAUWEKNOP_CACHE_URL=redis_url,
        BLAUWEKNOP_SCHEME_URL=scheme_url,
        BLAUWEKNOP_SCHEME_JWKS=json.dumps(operator_jwks()),
    )
    done = subprocess.run(
        [sys.executable, "-c", SHARE, step], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_two_processes_share_the_scheme_document_through_redis(demo_world, redis_url, tmp_path):
    scheme_url = demo_world.url + "/stelsel"
    fetched = _process(tmp_path, redis_url, scheme_url, "fetch")
    assert _process(tmp_path, redis_url, scheme_url, "share") == fetched
