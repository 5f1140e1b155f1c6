"""Deployments as real processes, for tests: each with its own roles, database, port and log.

A deployment is configured only through its environment, as an operator would run it: the
environment is built from scratch (nothing of the shell's ``BLAUWEKNOP_``, ``DJANGO_`` or
``DATABASE_`` settings reaches it), with secrets of its own and no demo mode unless asked for.
Signing keys go in as ``BLAUWEKNOP_KEY_<NAME>`` (see ``key_variables``).

    keys = {oin: generate_jwk()}
    with fresh_database("holder", tmp_path) as database:
        holder = new_deployment("holder", tmp_path, roles=["holder"], database=database,
                                env={**key_variables(keys), "BLAUWEKNOP_SCHEME_URL": ...})
        holder.prepare(("seed_demo",))      # manage.py migrate, then each command
        with serving(holder):                # uvicorn, until /gezondheid/klaar answers 200
            httpx.get(holder.base_url + "/...")

``prepare`` and ``serving`` take several deployments at once and work on them in parallel.
Each process's output goes to ``<name>.log`` beside its data folder, for the test to search.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from blauweknop.protocol.jwk import jwks

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0  # seconds for a web process to answer its health check
COMMAND_TIMEOUT = 120  # seconds for one management command
# Settings a process must never inherit from the shell that runs the tests (e.g. its PostgreSQL DATABASE_URL).
FOREIGN_PREFIXES = ("BLAUWEKNOP_", "DJANGO_", "DATABASE_")
READY = "/gezondheid/klaar"
# The tables each role's apps bring, by name prefix; a deployment must hold none of another role's.
ROLE_TABLES = {"scheme": ("scheme_",), "holder": ("holder_", "audit_"), "portal": ("portal_", "digid_eherkenning_")}
TRACEBACK = "Traceback (most recent call last)"


def clean_environment() -> dict[str, str]:
    """This process's environment without any setting of the project: the base of every server's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}


def key_variables(keys: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``BLAUWEKNOP_KEY_<NAME>`` variables for private JWKs by name (an OIN, or ``stelsel``)."""
    return {f"BLAUWEKNOP_KEY_{name.upper()}": json.dumps(dict(jwk)) for name, jwk in keys.items()}


def participant_file(
    folder: Path, spec: Mapping[str, Any], roles: list[str], base_url: str, key: Mapping[str, Any]
) -> str:
    """Write the file the operator admits a demo organisation from (``manage.py admit_participant``); its path."""
    path = folder / f"deelnemer-{spec['oin']}.json"
    description = {
        "oin": spec["oin"],
        "name": spec["name"],
        "slug": spec["slug"],
        "base_url": base_url,
        "roles": roles,
        "document_types": spec.get("document_types", []),
        "jwks": jwks([key]),
        "description": spec["description"],
        "contact": spec["contact"],
    }
    path.write_text(json.dumps(description))
    return str(path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (a server may still lose it to a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_python(env: dict[str, str], *args: str) -> str:
    """Run ``python *args`` in the project folder; its output, or the test fails with it."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"python {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def start_python(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start ``python *args`` in the project folder, its output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def start_uvicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """The web process on ``port``, its output appended to ``log``."""
    return start_python(
        env, log, "-m", "uvicorn", "blauweknop.asgi:application", "--host", "127.0.0.1", "--port", str(port)
    )


def wait_until_up(process: subprocess.Popen[bytes], url: str, timeout: float = START_TIMEOUT) -> bool:
    """True once ``url`` answers 200; False if the process exited (e.g. its port was taken) or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``, or kill it if it does not stop within ten seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def in_parallel(calls: Iterable[Callable[[], Any]]) -> list[Any]:
    """Run each call in a thread of its own (they wait on processes); their results, or the first failure."""
    calls = list(calls)
    with ThreadPoolExecutor(max_workers=max(len(calls), 1)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


@dataclass(frozen=True)
class Database:
    """One deployment's database, for the test to look into directly."""

    url: str

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql`` (no parameters) and commit; the rows it returned."""
        if not self.is_postgres:
            with sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=20) as connection:
                return connection.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.url) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def tables(self) -> set[str]:
        """The names of the tables in it."""
        if self.is_postgres:
            return {name for (name,) in self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        return {name for (name,) in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}


def postgres_url() -> str | None:
    """The throwaway PostgreSQL of make test's second pass (scripts/with-postgres.sh), or ``None``."""
    for variable in ("BLAUWEKNOP_E2E_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(variable, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


@contextmanager
def fresh_database(name: str, folder: Path, *, postgres: bool = True) -> Iterator[Database]:
    """A new, empty database called after ``name``, dropped afterwards: on the throwaway PostgreSQL when
    there is one and ``postgres`` is true, else an SQLite file in ``folder``."""
    admin_url = postgres_url() if postgres else None
    if admin_url is None:
        folder.mkdir(parents=True, exist_ok=True)
        yield Database(f"sqlite:///{folder / (name + '.sqlite3')}")
        return
    import psycopg

    parts = urlsplit(admin_url)
    database = f"{parts.path.lstrip('/')}_{re.sub(r'[^a-z0-9]+', '_', name.lower())}"[:63]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield Database(urlunsplit(parts._replace(path="/" + database)))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass(eq=False)  # one deployment is one thing: compared, and hashed, by identity
class Deployment:
    """One deployment: its environment, database, port and log; its web process while it serves."""

    name: str
    port: int
    env: dict[str, str]
    database: Database
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def roles(self) -> list[str]:
        return self.env["BLAUWEKNOP_ROLES"].split(",")

    def role_tables(self) -> tuple[list[str], list[str]]:
        """The tables in its database of the roles it plays, and those of the roles it does not play."""
        own = tuple(prefix for role in self.roles for prefix in ROLE_TABLES[role])
        other = tuple(prefix for role, prefixes in ROLE_TABLES.items() if role not in self.roles for prefix in prefixes)
        tables = sorted(self.database.tables())
        return [t for t in tables if t.startswith(own)], [t for t in tables if t.startswith(other)]

    def manage(self, *args: str) -> str:
        """Run ``manage.py *args`` in this deployment's environment; its output (not logged)."""
        return run_python(self.env, "manage.py", *args)

    def prepare(self, *commands: Sequence[str]) -> None:
        """``manage.py migrate``, then each command (e.g. ``("seed_demo",)``) in turn."""
        self.manage("migrate", "--noinput", "-v0")
        for command in commands:
            self.manage(*command)

    def start(self) -> None:
        """Start uvicorn on this deployment's port and wait until it is ready; fail with its log if not."""
        self.process = start_uvicorn(self.env, self.port, self.log)
        if not wait_until_up(self.process, self.base_url + READY):
            self.stop()
            pytest.fail(f"{self.name} did not become ready; its output:\n{self.log_text()[-4000:]}")

    def stop(self) -> None:
        """Stop the web process, if it runs."""
        if self.process is not None:
            stop_process(self.process)

    def log_text(self) -> str:
        """Everything the web process wrote so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def new_deployment(
    name: str,
    folder: Path,
    *,
    roles: Sequence[str],
    database: Database,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Deployment:
    """A deployment called ``name`` playing ``roles``, not started yet: its data folder and log under
    ``folder``, its own secrets, on ``port`` (default: a free one). ``env`` adds or overrides settings."""
    port = port or free_port()
    data_dir = folder / name
    # collectstatic's target, as an operator's set-up makes it (WhiteNoise warns at start-up without it).
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    environment = {
        **clean_environment(),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "blauweknop.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "BLAUWEKNOP_PSEUDONYM_KEY": secrets.token_urlsafe(50),
        "BLAUWEKNOP_VAULT_KEY": secrets.token_urlsafe(50),
        "BLAUWEKNOP_ROLES": ",".join(roles),
        "BLAUWEKNOP_BASE_URL": f"http://127.0.0.1:{port}",
        "BLAUWEKNOP_DATA_DIR": str(data_dir),
        "DATABASE_URL": database.url,
        "PORT": str(port),
        **(env or {}),
    }
    return Deployment(name, port, environment, database, data_dir, folder / f"{name}.log")


def prepare(deployments: Mapping[Deployment, Sequence[Sequence[str]]] | Iterable[Deployment]) -> None:
    """``prepare`` several deployments at once: a mapping gives each its commands after migrate."""
    plan = deployments if isinstance(deployments, Mapping) else {d: () for d in deployments}
    in_parallel(lambda d=d, commands=commands: d.prepare(*commands) for d, commands in plan.items())


@contextmanager
def serving(*deployments: Deployment) -> Iterator[tuple[Deployment, ...]]:
    """Start the web processes of ``deployments`` at once, wait until each is ready, stop them afterwards."""
    with ExitStack() as stack:
        for deployment in deployments:
            stack.callback(deployment.stop)
        in_parallel(deployment.start for deployment in deployments)
        yield deployments
