"""Scale-out (issue 7, item 4): two web processes and a worker on one database, behind a load balancer.

Two uvicorn processes serve the same demo world from one database (the PostgreSQL pass of make test:
a database of this test's own; the SQLite pass: one SQLite file in WAL mode, the embedded default).
A small round-robin proxy in front of them plays the load balancer: every HTTP request goes to the
next process in turn, and the scheme document names the proxy's address, so the holders' APIs, the
scheme document and the status lists that the processes fetch from each other also alternate. A
worker and the scheduler run beside them. Chromium logs in, presses the Blauwe Knop at two holders,
downloads copies and has them verified, each page served by whichever process comes next.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django_tasks import TaskResultStatus

from blauweknop import scheduler
from tests.deployments import (
    Database,
    free_port,
    fresh_database,
    run_python,
    start_python,
    start_uvicorn,
    stop_process,
    wait_until_up,
)
from tests.e2e.conftest import DemoServer, Steps, demo_bsns, server_env

pytestmark = pytest.mark.e2e

HOLDERS = ("Belastingkantoor Voorbeeldland", "Gemeente Voorbeeldstad")
BACKENDS = 2
WORKER_WAIT = 20.0  # seconds: the worker polls every half second; publishing takes well under one


class RoundRobinProxy:
    """The load balancer: one port on 127.0.0.1, each HTTP request to the next backend in turn.

    A request is passed on with ``Connection: close``, so the backend closes after its response and the
    client opens a new connection for the next request, which goes to the next backend. Bytes are passed
    through unchanged otherwise. ``served`` counts the requests per backend port.
    """

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.served: Counter[int] = Counter()
        self._turn = 0
        # The proxy's event loop runs in a thread of its own: Playwright's runs in the test's thread.
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="round-robin-proxy", daemon=True)
        self._thread.start()
        listening = asyncio.start_server(self._handle, "127.0.0.1", 0)
        self._server = asyncio.run_coroutine_threadsafe(listening, self._loop).result(timeout=10)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def close(self) -> None:
        """Stop listening and stop the proxy's thread."""
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _next_backend(self) -> int:
        port = self.backends[self._turn % len(self.backends)]
        self._turn += 1
        self.served[port] += 1
        return port

    async def _handle(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        try:
            head = await client_in.readuntil(b"\r\n\r\n")
            backend_in, backend_out = await asyncio.open_connection("127.0.0.1", self._next_backend())
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            client_out.close()
            return
        backend_out.write(closing(head))
        await asyncio.gather(pipe(client_in, backend_out), pipe(backend_in, client_out))


def closing(head: bytes) -> bytes:
    """A request head with ``Connection: close`` instead of any connection header it had."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    """Copy ``source`` to ``target`` until either side ends, then close ``target``."""
    try:
        while chunk := await source.read(65536):
            target.write(chunk)
            await target.drain()
    except OSError:
        pass
    finally:
        target.close()


@dataclass
class World:
    """Two web processes behind the proxy, a worker, their database, and where their output goes."""

    server: DemoServer  # base_url is the proxy's
    proxy: RoundRobinProxy
    database: Database
    env: dict[str, str]
    log: Path
    processes: list[subprocess.Popen[bytes]]


def start_backends(proxy: RoundRobinProxy, env: dict[str, str], log: Path) -> list[subprocess.Popen[bytes]]:
    """One uvicorn per backend of the proxy, each on a free port (a port lost to a race is tried again)."""
    processes = []
    for index in range(BACKENDS):
        for _attempt in range(3):
            proxy.backends[index] = free_port()
            process = start_uvicorn(env, proxy.backends[index], log)
            if wait_until_up(process, f"http://127.0.0.1:{proxy.backends[index]}/gezondheid/live"):
                processes.append(process)
                break
            stop_process(process)
        else:
            pytest.fail(
                f"web process {index + 1} did not start; the output:\n{log.read_text(errors='replace')[-4000:]}"
            )
    return processes


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """first_run, migrate and seed_demo once; then two web processes behind the proxy, and a worker."""
    data_dir = tmp_path_factory.mktemp("two-processes-data")
    log = tmp_path_factory.mktemp("two-processes-log") / "processes.log"
    proxy = RoundRobinProxy([0] * BACKENDS)
    processes: list[subprocess.Popen[bytes]] = []
    with contextlib.closing(proxy), fresh_database("two_processes", data_dir) as database:
        # Every process is reached through the proxy: issuer URLs and the scheme document name it.
        env = {**server_env(data_dir, 0), "DATABASE_URL": database.url, "BLAUWEKNOP_BASE_URL": proxy.url}
        run_python(env, "-m", "blauweknop.demo.first_run")
        run_python(env, "manage.py", "migrate", "--noinput", "-v0")
        bsns = demo_bsns(run_python(env, "manage.py", "seed_demo", "--citizens", "3"))
        if database.url.startswith("sqlite:"):
            assert database.query("PRAGMA journal_mode") == [("wal",)], "the shared SQLite file must be in WAL mode"
        else:
            assert not list(data_dir.glob("*.sqlite3")), "the processes were to use PostgreSQL but made SQLite"
        try:
            processes += start_backends(proxy, env, log)
            worker = ("manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.5")
            processes.append(start_python(env, log, *worker))
            server = DemoServer(proxy.url, bsns, log, data_dir, processes[0])
            yield World(server, proxy, database, env, log, processes)
        finally:
            for process in processes:
                stop_process(process)
    leaks = [bsn for bsn in bsns if bsn in log.read_text(errors="replace")]
    assert not leaks, f"The processes' log ({log}) contains demo BSNs {leaks}: a BSN must never be logged."


def wait_until(what: str, done: Any) -> None:
    """Wait until ``done()`` is true, at most WORKER_WAIT seconds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + WORKER_WAIT
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"within {WORKER_WAIT:.0f} s, {what} did not happen")
        time.sleep(0.2)


def session_page_status(port: int, path: str, cookies: dict[str, str]) -> tuple[int, str]:
    """Status and redirect target of ``path`` at one web process directly, with the browser's cookies."""
    response = httpx.get(f"http://127.0.0.1:{port}{path}", cookies=cookies, timeout=10)
    return response.status_code, response.headers.get("location", "")


def test_two_web_processes_and_a_worker_on_one_database_serve_the_whole_flow(
    world, new_context, requested_urls, tmp_path
):
    steps = Steps(world.server)
    page = new_context().new_page()

    # Log in and press at two holders; every page, redirect and holder call alternates between the processes.
    steps.log_in(page, world.server.bsns[0], HOLDERS[0])
    steps.press_blue_button(page)
    copies = {HOLDERS[0]: steps.download(page, tmp_path, "sdjwt")}
    steps.open_organisation(page, HOLDERS[1])
    organisation_path = urlsplit(page.url).path
    steps.press_blue_button(page)
    copies[HOLDERS[1]] = steps.download(page, tmp_path, "pdf")

    # The scheduler enqueues the periodic work; the worker runs all of it, and so signs the status lists
    # of the copies just issued, which the verify page then reads.
    world.processes.append(start_python(world.env, world.log, "-m", "blauweknop.scheduler", "--every", "1"))
    tasks = "SELECT task_path, status FROM django_tasks_database_dbtaskresult"
    expected = {(periodic.task, TaskResultStatus.SUCCESSFUL) for periodic in scheduler.SCHEDULE}
    wait_until("the worker running every scheduled task", lambda: set(world.database.query(tasks)) == expected)
    lists = "SELECT count(*), count(NULLIF(token, '')) FROM holder_statuslistrecord"
    assert world.database.query(lists) == [(2, 2)], "each holder has one status list, signed by the worker"

    for holder, copy in copies.items():
        verdict, fields = steps.verify(page, copy)
        assert "Echt en geldig" in verdict and holder in verdict, f"{copy.name}: {verdict}"
        assert fields, f"the verify page shows no fields of {copy.name}"

    assert min(world.proxy.served[port] for port in world.proxy.backends) >= 10, world.proxy.served

    # The session, and its 15-minute end, live in the database: both processes know it, both end it.
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    for port in world.proxy.backends:
        assert session_page_status(port, organisation_path, cookies) == (200, ""), port
    world.database.query("UPDATE django_session SET expire_date = '2000-01-01 00:00:00'")
    for port in world.proxy.backends:
        status, location = session_page_status(port, organisation_path, cookies)
        assert status == 302 and location.startswith("/inloggen/"), (port, status, location)

    leaked = [url for url in requested_urls if world.server.bsn_leaks(url)]
    assert not leaked, f"demo BSNs appear in request URLs: {leaked}"
