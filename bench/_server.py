"""A real demo server for the benchmarks: a temporary data folder, migrate, seed, uvicorn.

On SQLite, or on PostgreSQL when DATABASE_URL is set (run under scripts/with-postgres.sh). The
benchmark process itself is set up as a Django client of the same data folder, so it can read the
demo's citizens and sign assertions with the demo app manager's key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
GEMEENTE, BELASTING = "00000001823288444000", "00000001003214345000"
SLUGS = {GEMEENTE: "gemeente-voorbeeldstad", BELASTING: "belastingkantoor"}


def database() -> str:
    """Which database the server runs on, from DATABASE_URL."""
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(data_dir: Path, port: int) -> dict[str, str]:
    """The demo server's environment: this one without BLAUWEKNOP_ settings, plus the demo's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLAUWEKNOP_")}
    env.update(BLAUWEKNOP_DEMO="True", BLAUWEKNOP_DATA_DIR=str(data_dir), PORT=str(port), PYTHONUNBUFFERED="1")
    env.update(DJANGO_SETTINGS_MODULE="blauweknop.settings")
    return env


def run(env: dict[str, str], *args: str) -> None:
    """Run ``python *args`` in the repository, quietly; fail on a non-zero exit."""
    subprocess.run([sys.executable, *args], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def prepare(env: dict[str, str], citizens: int = 60) -> None:
    """First run, migrations and demo data in the data folder of ``env``."""
    run(env, "-m", "blauweknop.demo.first_run")
    run(env, "manage.py", "migrate", "--noinput", "-v0")
    run(env, "manage.py", "seed_demo", "--citizens", str(citizens))


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path, workers: int, python: tuple[str, ...] = ()) -> Iterator[subprocess.Popen]:
    """uvicorn with ``workers`` workers on PORT of ``env`` until the block ends; ``python`` adds interpreter options.

    One worker runs in the uvicorn process itself (no supervisor), so a profiler wrapped around it sees the requests.
    """
    port = env["PORT"]
    uvicorn = ["-m", "uvicorn", "blauweknop.asgi:application", "--port", port, "--lifespan", "off"]
    if workers > 1:
        uvicorn += ["--workers", str(workers)]
    with log.open("ab") as out:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, *python, *uvicorn, "--log-level", "warning"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/stelsel/api/v1/stelseldocument", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield server
    finally:
        server.send_signal(signal.SIGINT)  # like Ctrl-C: a profiler around uvicorn still writes its file
        server.wait(timeout=60)


def setup_client(env: dict[str, str]) -> None:
    """Make this process a Django client of the demo's data folder and database."""
    os.environ.update(env)
    import django

    django.setup()
    logging.disable(logging.INFO)  # this process is the client: only the outcome counts


def citizens() -> list[tuple[str, str]]:
    """(holder OIN, BSN) pairs that have a debts document, read from the demo's database."""
    from blauweknop.holder.models import SourceRecord

    rows = SourceRecord.objects.filter(holder_oin__in=SLUGS, document_type="vorderingen")
    return list(rows.values_list("holder_oin", "bsn"))


def assertion(holder_oin: str, bsn: str, wallet_jwk: dict) -> str:
    """A fresh assertion of the demo app manager for ``bsn`` at ``holder_oin``."""
    from django.conf import settings

    from blauweknop import keystore
    from blauweknop.protocol import session_assertion

    return session_assertion.sign(
        keystore.signing_key(settings.PORTAL_OIN),
        app_manager_oin=settings.PORTAL_OIN,
        holder_oin=holder_oin,
        bsn=bsn,
        assurance_level="midden",
        wallet_jwk=wallet_jwk,
    )
