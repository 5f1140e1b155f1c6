"""The holder's issuance endpoint over real HTTP, against the crypto floor of one request (issue 7, item 5).

Starts the demo (see ``_server.py``) on SQLite, or on PostgreSQL when DATABASE_URL is set, and:

1. measures the **crypto floor** in this process, on one core: verifying the app manager's assertion
   (``session_assertion.verify``) plus issuing the copy (``sdjwt_vc.issue``) with the protocol functions,
   on the same data, keys and scheme document the server uses;
2. sends POST ``/<holder>/api/v1/verklaringen`` at concurrency 1, 8, 32 and 64 to uvicorn with one,
   then two workers (assertions are signed beforehand, so the client's crypto is not timed); any answer
   but 201 and any transport error counts as an error. It prints requests/s, requests/s per worker as a
   fraction of the floor's requests/s per core, p50/p99 latency and the server's CPU per request;
3. times pressing the Blauwe Knop (a logged-in citizen at one holder: the portal asks the holder for every
   document type over HTTP and verifies each copy) on one worker, one press at a time: the p50 of the POST,
   and the server's CPU per press (the holder's side included: it is the same process).

The client runs on the same machine: on two cores, two workers share the CPU with it.

    python bench/http_bench.py [--requests 400] [--workers 1 2] [--presses 20] [--press-only] [--profile PY_SPY]

``--profile /path/to/py-spy`` samples one worker (every thread) at concurrency 8 instead and prints the top frames;
with ``--profile-press`` it samples presses of the Blauwe Knop instead.
Last line: ``http: issuance <req/s> per worker = <ratio>x of the crypto floor`` (the best one-worker
throughput). It is a report: it always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _server import SLUGS, assertion, citizens, database, environment, free_port, prepare, serving, setup_client

CONCURRENCY = (1, 8, 32, 64)
CSRF_FIELD = "csrfmiddlewaretoken"
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and every live process below it, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS + sum(_cpu_seconds(int(c)) for c in children)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def crypto_floor(base: str, pairs: list[tuple[str, str]], wallet_jwk: dict, repeats: int = 3, n: int = 300) -> float:
    """Requests/s on one core of the cryptography one issuance needs: verify the assertion, issue the copy."""
    from blauweknop import keystore
    from blauweknop.holder.issuing import VALID_FOR
    from blauweknop.holder.sources import source_adapter
    from blauweknop.protocol import scheme_document, sdjwt_vc, session_assertion
    from blauweknop.protocol.status_list import StatusReference
    from blauweknop.scheme import catalogue
    from blauweknop.scheme.client import trust_anchor

    scheme = scheme_document.verify(httpx.get(f"{base}/stelsel/api/v1/stelseldocument").text.strip(), trust_anchor())
    holder_oin, bsn = pairs[0]
    document_type = catalogue.document_type("vorderingen")
    data = source_adapter().lookup(holder_oin, bsn, document_type)
    key = keystore.signing_key(holder_oin)
    status = StatusReference(f"{base}/{SLUGS[holder_oin]}/api/v1/statuslijsten/1", 4242)
    tokens = [assertion(holder_oin, bsn, wallet_jwk) for _ in range(n)]
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        for token in tokens:
            session = session_assertion.verify(token, scheme, holder_oin=holder_oin)
            sdjwt_vc.issue(
                data,
                key,
                iss=f"{base}/{SLUGS[holder_oin]}",
                vct=document_type.vct,
                holder_jwk=session.wallet_jwk,
                status=status,
                valid_for=VALID_FOR,
            )
        best = max(best, n / (time.perf_counter() - started))
    return best


async def _issue_burst(base: str, bodies: list[tuple[str, dict]], concurrency: int) -> tuple[float, list[float], int]:
    """POST every body with ``concurrency`` requests in flight: wall seconds, latencies, errors."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2)

    async def client_loop(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            slug, body = queue.get_nowait()
            started = time.perf_counter()
            try:
                response = await http.post(f"{base}/{slug}/api/v1/verklaringen", json=body)
                ok = response.status_code == 201
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(http) for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, errors


def _bodies(pairs: list[tuple[str, str]], wallet_jwk: dict, n: int) -> list[tuple[str, dict]]:
    chosen = [pairs[i % len(pairs)] for i in range(n)]
    return [
        (SLUGS[oin], {"appbeheerderverklaring": assertion(oin, bsn, wallet_jwk), "documentsoort": "vorderingen"})
        for oin, bsn in chosen
    ]


def issuance(base: str, pid: int, pairs: list, wallet_jwk: dict, concurrency: int, n: int) -> dict[str, float]:
    """One measured burst of ``n`` issuance requests."""
    bodies = _bodies(pairs, wallet_jwk, n)
    cpu = _cpu_seconds(pid)
    seconds, latencies, errors = asyncio.run(_issue_burst(base, bodies, concurrency))
    cpu = _cpu_seconds(pid) - cpu
    return {
        "rps": n / seconds,
        "p50": _percentile(latencies, 0.50) * 1000,
        "p99": _percentile(latencies, 0.99) * 1000,
        "errors": errors,
        "cpu_ms": cpu / n * 1000,
    }


async def _press(base: str, holder_oin: str, bsn: str, presses: int) -> list[float]:
    """Seconds per press of the Blauwe Knop, one at a time, by a citizen logged in through the DigiD mock."""
    token = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')
    async with httpx.AsyncClient(timeout=60, headers={"Referer": base}) as browser:
        page = await browser.get(f"{base}/inloggen/?next=/")
        await browser.post(f"{base}/inloggen/?next=/", data={CSRF_FIELD: token.search(page.text)[1], "bsn": bsn})
        timings = []
        for _ in range(presses):
            page = await browser.get(f"{base}/organisaties/{holder_oin}/")
            data = {CSRF_FIELD: token.search(page.text)[1]}
            started = time.perf_counter()
            pressed = await browser.post(f"{base}/organisaties/{holder_oin}/blauwe-knop/", data=data)
            timings.append(time.perf_counter() - started)
            if pressed.status_code != 302:
                raise RuntimeError(f"press answered {pressed.status_code}")
        return timings


def presses(base: str, pid: int, pairs: list[tuple[str, str]], n: int) -> dict[str, float]:
    """``n`` presses of the first demo citizen at its holder, one at a time: p50 and max ms, server CPU ms per press.

    The server CPU also counts the holder's side (the same process) and the GET of the page with the button.
    """
    oin, bsn = pairs[0]
    cpu = _cpu_seconds(pid)
    timings = [s * 1000 for s in asyncio.run(_press(base, oin, bsn, n))]
    cpu = _cpu_seconds(pid) - cpu
    return {"p50": statistics.median(timings), "max": max(timings), "cpu_ms": cpu / n * 1000, "n": n}


def _press_line(r: dict[str, float]) -> str:
    return (
        f"press (one holder, one worker): p50 {r['p50']:.1f} ms, max {r['max']:.1f} ms over {r['n']} presses, "
        f"{r['cpu_ms']:.1f} ms server CPU per press"
    )


def _profile_report(raw: Path, top: int = 22) -> None:
    """Share of the server's busy samples per frame (inclusive) and per leaf, from py-spy's collapsed stacks."""
    inclusive: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        leaves[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    total = sum(leaves.values())
    ours = collections.Counter({frame: n for frame, n in inclusive.items() if "(blauweknop/" in frame})
    for title, counter in (("inclusive", inclusive), ("inclusive, project code only,", ours), ("self", leaves)):
        print(f"  top {top} by {title} share of {total} busy samples:")
        for frame, n in counter.most_common(top):
            print(f"    {n / total:6.1%}  {frame[:150]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--profile", metavar="PY_SPY", help="profile one worker at concurrency 8 with this py-spy")
    parser.add_argument("--profile-press", action="store_true", help="with --profile: profile presses instead")
    parser.add_argument("--profile-raw", type=Path, help="with --profile: keep py-spy's collapsed stacks here")
    parser.add_argument("--press-only", action="store_true", help="time the presses only, on one worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bk-http-") as folder:
        env = environment(Path(folder), free_port())
        prepare(env)
        setup_client(env)
        from blauweknop.protocol.jwk import SigningKey, generate_jwk

        wallet_jwk = SigningKey(generate_jwk()).public_jwk
        pairs = citizens()
        base, log = f"http://127.0.0.1:{env['PORT']}", Path(folder) / "server.log"
        if args.profile:
            raw = Path(folder) / "server.collapsed"
            with serving(env, log, 1) as server:
                issuance(base, server.pid, pairs, wallet_jwk, 8, 50)  # warm up
                presses(base, server.pid, pairs, 5)
                spy = [args.profile, "record", "--pid", str(server.pid), "--format", "raw", "--output", str(raw)]
                recorder = subprocess.Popen([*spy, "--rate", "500", "--nonblocking"], stdout=subprocess.DEVNULL)  # noqa: S603
                time.sleep(1)  # py-spy attaches
                if args.profile_press:
                    summary = _press_line(presses(base, server.pid, pairs, args.presses))
                else:
                    result = issuance(base, server.pid, pairs, wallet_jwk, 8, args.requests)
                    summary = f"{result['rps']:.0f} req/s, {result['cpu_ms']:.1f} ms server CPU per request"
                recorder.send_signal(signal.SIGINT)
                recorder.wait(timeout=60)
            print(f"profiled: {summary}")
            _profile_report(raw)
            if args.profile_raw:
                shutil.copyfile(raw, args.profile_raw)
            return 0
        if args.press_only:
            with serving(env, log, 1) as server:
                presses(base, server.pid, pairs, 5)  # warm up: connections, scheme document, status lists
                print(f"{database()}: {_press_line(presses(base, server.pid, pairs, args.presses))}")
            return 0
        with serving(env, log, 1):
            floor = crypto_floor(base, pairs, wallet_jwk)
        print(f"{database()}: crypto floor (verify assertion + issue copy) {floor:.0f} req/s per core")
        print("  workers  conc   req/s  per-worker  x-floor   p50 ms   p99 ms  errors  server-CPU ms/req")
        best: dict[int, float] = {}
        pressed: dict[str, float] = {}
        for workers in args.workers:
            with serving(env, log, workers) as server:
                issuance(base, server.pid, pairs, wallet_jwk, 8, 40)  # warm up: connections, status lists
                for concurrency in CONCURRENCY:
                    r = issuance(base, server.pid, pairs, wallet_jwk, concurrency, args.requests)
                    per_worker = r["rps"] / workers
                    best[workers] = max(best.get(workers, 0.0), r["rps"])
                    print(
                        f"  {workers:7d}  {concurrency:4d}  {r['rps']:6.0f}  {per_worker:10.0f}  "
                        f"{per_worker / floor:7.4f}  {r['p50']:7.1f}  {r['p99']:7.1f}  {r['errors']:6d}  "
                        f"{r['cpu_ms']:17.1f}"
                    )
                if workers == 1 and args.presses:
                    pressed = presses(base, server.pid, pairs, args.presses)
        if pressed:
            print(f"  {_press_line(pressed)}")
        if 1 in best and 2 in best:
            print(f"  two workers / one worker: {best[2] / best[1]:.2f}x")
        print(f"  {log.read_text(errors='replace').count('Traceback')} tracebacks in the server log")
        one = best[1] if 1 in best else max(rps / workers for workers, rps in best.items())
        print(f"http: issuance {one:.0f} per worker = {one / floor:.4f}x of the crypto floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
