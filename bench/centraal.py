"""The overview's server time with 20 holders that each answer after L ms, as a ratio to L (issue 9, item 5).

Starts the demo (see ``_server.py``) on SQLite, or on PostgreSQL when DATABASE_URL is set, with one
uvicorn worker and the overview's timeout well above every L (``--timeout``). Before it starts, the
scheme operator admits 20 stand-in holders (``manage.py admit_participant``: each its own signing key,
issuing ``vorderingen``, at the address of ``bench/stand_in_holders.py``) and suspends the demo's own
holders, so the overview asks exactly those 20. The stand-in answers every request after L ms with a
genuine SD-JWT VC for the logged-in citizen and serves signed status lists; the portal verifies each
copy (issuer in the scheme, signature, time, status) as it would any holder's.

A citizen logs in through the DigiD mock, anew for each run (not timed): the first GET ``/overzicht/`` of
a session fetches from every holder ("fetch again" is allowed once per 30 s); each run times it from the
request to the end of the streamed page. A page that does not
show all 20 holders' data stops the benchmark: it would measure an error page. Per L it prints the median
and p90 of the runs, the median as a ratio to L, when the first and the last verified section arrived, the
CPU per page of the portal and of the stand-in, and the floor of the portal's own HTTP client (the 20
requests alone, sent from this process); then the portal's peak memory (VmHWM of the uvicorn process).
``--press`` times the Basis press at one stand-in holder instead, a check of the harness itself.

    python bench/centraal.py [--delays 50 200 1000] [--runs 10] [--warm-ups 2] [--timeout 5] [--press]
                             [--profile PY_SPY]

``--profile /path/to/py-spy`` samples the portal's thread that holds the GIL during each L and prints the
top frames, inclusive and by themselves, as ``bench/http_bench.py --profile`` does: Python work of all
threads is serialised on the GIL, so that is where the time after the holders' answers goes.

Last line: ``centraal: 20 holders at L=200 ms: <ratio>x`` (target: at most 1.25x).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import io
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from _server import (
    GEMEENTE,
    REPO,
    assertion,
    citizens,
    database,
    environment,
    free_port,
    prepare,
    serving,
    setup_client,
)
from concurrency import TOKEN, TROUBLE, _logged_in
from http_bench import _cpu_seconds, _percentile, _profile_report

HOLDERS = 20
REPORTED = 200  # the L of the last line
CSRF_FIELD = "csrfmiddlewaretoken"
SECTION = b'data-uitkomst="opgehaald"'  # in each section of an organisation that gave verified copies
BUSY = "blauweknop-overview__busy"  # only on a page that asks the holders now, not on one of kept answers


class Meter:
    """The CPU seconds processes spent between ``start`` and ``stop``, from /proc."""

    def __init__(self, **pids: int) -> None:
        self.pids, self.spent = pids, dict.fromkeys(pids, 0.0)

    def start(self) -> None:
        """Begin counting (again: a restart loses what was counted)."""
        self._started = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        """Stop counting."""
        self.spent = {name: _cpu_seconds(pid) - self._started[name] for name, pid in self.pids.items()}


class Timed(NamedTuple):
    """Seconds from the request to the end of the page, and to the first and the last organisation's section."""

    end: float
    first: float
    last: float


class NoData(Exception):
    """A page lacked a holder's data: the run measured something else than the overview of 20 holders."""


def _marker(number: int) -> str:
    """The reference (kenmerk) of every debt stand-in holder ``number`` issues: it shows when its data does."""
    return f"PROEF-{number:02d}-"


def _holders(count: int) -> list[dict[str, Any]]:
    """``count`` stand-in holders: OIN, name, slug, a private key of their own."""
    from blauweknop.protocol.jwk import generate_jwk

    return [
        {
            "oin": f"000000099{n:02d}000000000",
            "name": f"Proefhouder {n:02d}",
            "slug": f"proefhouder-{n:02d}",
            "number": n,
            "key": generate_jwk(),
        }
        for n in range(1, count + 1)
    ]


def admit(folder: Path, base_url: str, holders: list[dict[str, Any]]) -> None:
    """Admit ``holders`` at ``base_url`` as the operator does, suspend the demo's own holders, publish once."""
    from django.core.management import call_command

    from blauweknop.protocol.jwk import SigningKey, jwks
    from blauweknop.scheme import publication
    from blauweknop.scheme.models import Organisation

    for holder in holders:
        participant = {
            **{name: holder[name] for name in ("oin", "name", "slug")},
            "base_url": base_url,
            "roles": ["holder"],
            "document_types": ["vorderingen"],
            "jwks": jwks([SigningKey(holder["key"]).public_jwk]),
            "description": {"nl": "Een houder voor de meting.", "en": "A holder for the benchmark."},
        }
        file = folder / f"{holder['slug']}.json"
        file.write_text(json.dumps(participant))
        call_command("admit_participant", str(file), stdout=io.StringIO())
    ours = [holder["oin"] for holder in holders]
    Organisation.objects.holders().exclude(oin__in=ours).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()


def stand_in_config(base_url: str, holders: list[dict[str, Any]], bsn: str) -> dict[str, Any]:
    """What the stand-in serves: each holder's key, and the demo citizen's debts as each holder's own."""
    from blauweknop.holder.sources import source_adapter
    from blauweknop.scheme import catalogue

    document_type = catalogue.document_type("vorderingen")
    demo = source_adapter().lookup(GEMEENTE, bsn, document_type)
    data = {}
    for holder in holders:
        own = copy.deepcopy(demo)
        for i, debt in enumerate(own["vorderingen"]):
            debt.update(schuldeiser=holder["name"], kenmerk=f"{_marker(holder['number'])}{i + 1}")
        data[holder["slug"]] = own
    return {
        "base_url": base_url,
        "holders": [{"slug": h["slug"], "key": h["key"]} for h in holders],
        "documents": {"vorderingen": {"vct": document_type.vct, "data": data}},
    }


@contextlib.contextmanager
def stand_in(config: Path, port: int, delay_ms: int, log: Path) -> Iterator[subprocess.Popen]:
    """The stand-in holders, answering after ``delay_ms``, until the block ends."""
    command = [sys.executable, "bench/stand_in_holders.py", str(config), "--port", str(port)]
    command += ["--delay-ms", str(delay_ms)]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _check(status: int, page: str, markers: dict[str, str]) -> None:
    """Refuse a page that lacks any of ``markers`` (a holder's name: what shows when its data does)."""
    missing = [name for name, marker in markers.items() if marker not in page]
    trouble = [t for t in TROUBLE if t in page]
    if status != 200 or missing or trouble:
        raise NoData(f"HTTP {status}, without data of {missing[:5]} ({len(missing)} holders), trouble: {trouble}")


def _fetched(holder: dict[str, Any]) -> str:
    """How the overview marks the section of an organisation whose copies it fetched and verified."""
    return f'data-oin="{holder["oin"]}" data-uitkomst="opgehaald"'


async def _overviews(
    base: str, bsn: str, holders: list[dict[str, Any]], warm_ups: int, runs: int, meter: Meter
) -> list[Timed]:
    """The times of each overview page, to the end of its streamed body, after ``warm_ups`` untimed ones.

    Each run logs in anew (not timed): the first overview of a session asks every holder, while "fetch again"
    is allowed only once per 30 s per session and would otherwise show the kept answers.
    """
    timings = []
    for run in range(warm_ups + runs):
        async with contextlib.aclosing(await _logged_in(base, bsn)) as browser:
            if run == warm_ups:
                meter.start()
            started, body, sections = time.perf_counter(), b"", []
            async with browser.stream("GET", f"{base}/overzicht/") as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    sections += [time.perf_counter() - started] * (body.count(SECTION) - len(sections))
            elapsed, page = time.perf_counter() - started, body.decode()
        if BUSY not in page:
            raise NoData("the overview showed kept answers instead of asking the holders")
        _check(response.status_code, page, {h["name"]: _fetched(h) for h in holders})
        if run >= warm_ups:
            timings.append(Timed(elapsed, sections[0], sections[-1]))
    meter.stop()
    return timings


async def _presses(base: str, bsn: str, holder: dict[str, Any], warm_ups: int, runs: int, meter: Meter) -> list[Timed]:
    """Seconds per Basis press at one stand-in holder, with a check that its data shows."""
    timings = []
    async with contextlib.aclosing(await _logged_in(base, bsn)) as browser:
        for run in range(warm_ups + runs):
            if run == warm_ups:
                meter.start()
            page = await browser.get(f"{base}/organisaties/{holder['oin']}/")
            started = time.perf_counter()
            pressed = await browser.post(
                f"{base}/organisaties/{holder['oin']}/blauwe-knop/", data={CSRF_FIELD: TOKEN.search(page.text)[1]}
            )
            elapsed = time.perf_counter() - started
            data = await browser.get(f"{base}/organisaties/{holder['oin']}/gegevens/")
            if pressed.status_code != 302:
                raise NoData(f"the press answered HTTP {pressed.status_code}")
            _check(data.status_code, data.text, {holder["name"]: _marker(holder["number"])})
            if run >= warm_ups:
                timings.append(Timed(elapsed, elapsed, elapsed))
    meter.stop()
    return timings


@contextlib.contextmanager
def sampled(py_spy: str | None, pid: int, raw: Path) -> Iterator[None]:
    """Sample the thread of ``pid`` that holds the GIL with py-spy while the block runs, when ``py_spy`` is given."""
    if py_spy is None:
        yield
        return
    command = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(raw), "--rate", "500", "--gil"]
    recorder = subprocess.Popen([*command, "--nonblocking"], stdout=subprocess.DEVNULL)  # noqa: S603
    time.sleep(1)  # py-spy attaches
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)


async def _client_floor(
    stand_in_url: str, holders: list[dict[str, Any]], bsn: str, warm_ups: int, runs: int
) -> list[float]:
    """Seconds for the portal's own HTTP client (``holders.http_client``) to ask every holder at once, nothing else.

    No breaker, no verification, no page: what the overview cannot go below with this client.
    """
    from blauweknop.portal.holders import http_client
    from blauweknop.protocol.jwk import SigningKey, generate_jwk

    wallet_jwk, timings = SigningKey(generate_jwk()).public_jwk, []
    for run in range(warm_ups + runs):
        bodies = [
            (f"{stand_in_url}/{h['slug']}/api/v1/verklaringen", assertion(h["oin"], bsn, wallet_jwk)) for h in holders
        ]
        started = time.perf_counter()
        async with http_client(len(holders)) as client:
            answers = await asyncio.gather(
                *(
                    client.post(url, json={"appbeheerderverklaring": a, "documentsoort": "vorderingen"})
                    for url, a in bodies
                )
            )
        if run >= warm_ups:
            timings.append(time.perf_counter() - started)
        if any(answer.status_code != 201 for answer in answers):
            raise NoData("a stand-in holder refused the client's request")
    return timings


def peak_memory_mib(pid: int) -> float:
    """The peak resident memory of process ``pid`` (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", type=int, nargs="+", default=[50, 200, 1000], help="L: ms before a holder answers")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warm-ups", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=5, help="the overview's timeout per holder, seconds")
    parser.add_argument("--press", action="store_true", help="time the Basis press at one stand-in holder instead")
    parser.add_argument("--profile", metavar="PY_SPY", help="sample the portal with this py-spy; print the top frames")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bk-centraal-") as name:
        folder = Path(name)
        env = environment(folder, free_port())
        env["BLAUWEKNOP_OVERVIEW_TIMEOUT"] = str(args.timeout)
        prepare(env)
        setup_client(env)
        port = free_port()
        stand_in_url, holders = f"http://127.0.0.1:{port}", _holders(HOLDERS)
        admit(folder, stand_in_url, holders)
        bsn = next(b for oin, b in citizens() if oin == GEMEENTE)
        config = folder / "stand-in.json"
        config.write_text(json.dumps(stand_in_config(stand_in_url, holders, bsn)))
        base, log = f"http://127.0.0.1:{env['PORT']}", folder / "server.log"
        what = "Basis press at 1 holder" if args.press else f"overview of {HOLDERS} holders"
        print(f"{database()}: {what}, {args.runs} runs after {args.warm_ups} warm-ups, timeout {args.timeout} s")
        print(
            "      L ms   median ms   p90 ms   median/L   sections from-to ms   CPU ms/page: portal  stand-in"
            "   client floor ms (/L)"
        )
        ratios = {}
        with serving(env, log, 1) as server:
            for delay in args.delays:
                raw = folder / f"portal-{delay}.collapsed"
                with (
                    stand_in(config, port, delay, folder / "stand-in.log") as holding,
                    sampled(args.profile, server.pid, raw),
                ):
                    meter = Meter(portal=server.pid, stand_in=holding.pid)
                    if args.press:
                        timings = asyncio.run(_presses(base, bsn, holders[0], args.warm_ups, args.runs, meter))
                        floor = float("nan")
                    else:
                        timings = asyncio.run(_overviews(base, bsn, holders, args.warm_ups, args.runs, meter))
                        floor = statistics.median(
                            asyncio.run(_client_floor(stand_in_url, holders, bsn, args.warm_ups, args.runs))
                        )
                ends = [t.end for t in timings]
                median, p90 = statistics.median(ends) * 1000, _percentile(ends, 0.9) * 1000
                first, last = (
                    statistics.median(getattr(t, edge) for t in timings) * 1000 for edge in ("first", "last")
                )
                ratios[delay] = median / delay
                cpu = {name: seconds * 1000 / args.runs for name, seconds in meter.spent.items()}
                print(
                    f"  {delay:8d}  {median:10.1f}  {p90:7.1f}  {ratios[delay]:8.2f}x  {first:10.1f} - {last:6.1f}  "
                    f"{cpu['portal']:19.1f}  {cpu['stand_in']:8.1f}   {floor * 1000:8.1f} ({floor * 1000 / delay:.2f}x)"
                )
                if args.profile:
                    _profile_report(raw)
            peak = peak_memory_mib(server.pid)
        print(f"  portal peak memory (VmHWM of the uvicorn process): {peak:.1f} MiB")
        print(f"  {log.read_text(errors='replace').count('Traceback')} tracebacks in the server log")
    if REPORTED in ratios and not args.press:
        print(f"centraal: {HOLDERS} holders at L={REPORTED} ms: {ratios[REPORTED]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
