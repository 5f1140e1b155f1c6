"""200 concurrent requests against a real demo server: how many fail? (issue 6, item 4)

Starts the demo (migrate, seed_demo, uvicorn with two workers) in a temporary data folder, on
SQLite, or on PostgreSQL when DATABASE_URL is set (run it under scripts/with-postgres.sh). Then it
sends rounds of concurrent requests that write (holders issuing copies: each a new assertion,
a status-list index, an access record), press the Blauwe Knop as logged-in citizens (the portal
asks a holder over HTTP meanwhile), verify copies on the verify page (which fetches the status list
over HTTP) and read (status lists, the scheme document, the home page).
Any answer other than the expected status, and any transport error, counts as an error.

    python bench/concurrency.py [--concurrency 200] [--rounds 5] [--workers 2]

Last line: ``<database>: <n> requests at concurrency <c>: <errors> errors``. Exit 1 if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _server import SLUGS, assertion, citizens, database, environment, free_port, prepare, serving, setup_client

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUCCESS = ("issue 201", "GET 200", "verify 200", "press 302")
TROUBLE = ("niet bereikbaar", "niet konden controleren", "gaf nu geen")


async def _logged_in(base: str, bsn: str) -> httpx.AsyncClient:
    """A citizen's browser, logged in through the DigiD mock."""
    browser = httpx.AsyncClient(timeout=60, headers={"Referer": base}, limits=httpx.Limits(keepalive_expiry=2))
    page = await browser.get(f"{base}/inloggen/?next=/")
    await browser.post(f"{base}/inloggen/?next=/", data={"csrfmiddlewaretoken": TOKEN.search(page.text)[1], "bsn": bsn})
    return browser


async def _round(
    http: httpx.AsyncClient,
    base: str,
    citizens: list,
    concurrency: int,
    wallet_jwk: dict,
    issued: list[str],
    browsers: list[tuple[str, httpx.AsyncClient]],
) -> list:
    """One burst of ``concurrency`` requests at once: most issue, the rest press, read or verify."""

    async def press(holder_oin: str, browser: httpx.AsyncClient) -> str:
        # The portal asks the holder for every document type over HTTP while the citizen waits.
        page = await browser.get(f"{base}/organisaties/{holder_oin}/")
        token = TOKEN.search(page.text)[1]
        pressed = await browser.post(
            f"{base}/organisaties/{holder_oin}/blauwe-knop/", data={"csrfmiddlewaretoken": token}
        )
        data = await browser.get(f"{base}/organisaties/{holder_oin}/gegevens/")
        if pressed.status_code != 302 or data.status_code != 200 or any(t in data.text for t in TROUBLE):
            return f"press {pressed.status_code} {data.status_code}"
        return "press 302"

    async def issue(holder_oin: str, bsn: str) -> str:
        body = {"appbeheerderverklaring": assertion(holder_oin, bsn, wallet_jwk), "documentsoort": "vorderingen"}
        response = await http.post(f"{base}/{SLUGS[holder_oin]}/api/v1/verklaringen", json=body)
        if response.status_code != 201:
            return f"issue {response.status_code} {response.text[:80]}"
        issued.append(response.json()["verklaring"])
        return "issue 201"

    async def verify(credential: str) -> str:
        # The verify page fetches the status list from the holder over HTTP: requests within requests.
        async with httpx.AsyncClient(timeout=60) as visitor:  # a browser of its own, with its own CSRF cookie
            page = await visitor.get(f"{base}/controleren/")
            token = TOKEN.search(page.text)[1]
            files = {"bestand": ("kopie.sdjwt", credential.encode(), "application/dc+sd-jwt")}
            response = await visitor.post(
                f"{base}/controleren/", data={"csrfmiddlewaretoken": token}, files=files, headers={"Referer": base}
            )
        genuine = response.status_code == 200 and "niet echt" not in response.text
        return "verify 200" if genuine else f"verify {response.status_code}"

    async def read(path: str) -> str:
        response = await http.get(base + path)
        return f"GET {response.status_code}" if response.status_code == 200 else f"GET {path} {response.status_code}"

    async def guarded(coroutine: object) -> str:
        try:
            return await coroutine
        except httpx.HTTPError as exc:
            return f"transport {type(exc).__name__}"

    pick = random.Random().choice  # noqa: S311 -- which citizen to load, nothing secret
    reads = ["/stelsel/api/v1/stelseldocument", "/", "/belastingkantoor/api/v1/statuslijsten/1"]
    work = [
        verify(pick(issued))
        if issued and i % 8 == 0
        else press(*pick(browsers))
        if browsers and i % 8 == 4
        else read(reads[i % len(reads)])
        if i % 4 == 0
        else issue(*pick(citizens))
        for i in range(concurrency)
    ]
    return await asyncio.gather(*(guarded(w) for w in work))


async def _load(base: str, citizens: list, concurrency: int, rounds: int) -> tuple[collections.Counter, float]:
    from blauweknop.protocol.jwk import SigningKey, generate_jwk

    wallet_jwk = SigningKey(generate_jwk()).public_jwk
    outcomes: collections.Counter = collections.Counter()
    issued: list[str] = []
    browsers = [(holder_oin, await _logged_in(base, bsn)) for holder_oin, bsn in citizens[:16]]
    # uvicorn closes a connection idle for 5 s; the client lets go first, so no request races a close.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        for holder_oin in SLUGS:  # warm up: each holder has a status list now
            await _round(http, base, [c for c in citizens if c[0] == holder_oin], 2, wallet_jwk, issued, [])
        for _ in range(rounds):
            outcomes.update(await _round(http, base, citizens, concurrency, wallet_jwk, issued, browsers))
    for _, browser in browsers:
        await browser.aclose()
    return outcomes, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bk-concurrency-") as folder:
        env = environment(Path(folder), free_port())
        prepare(env)
        log = Path(folder) / "server.log"
        with serving(env, log, args.workers):
            setup_client(env)
            outcomes, seconds = asyncio.run(
                _load(f"http://127.0.0.1:{env['PORT']}", citizens(), args.concurrency, args.rounds)
            )
        errors = sum(
            n for outcome, n in outcomes.items() if outcome not in ("issue 201", "GET 200", "verify 200", "press 302")
        )
        total = sum(outcomes.values())
        for outcome, n in sorted(outcomes.items()):
            print(f"  {n:6d}  {outcome}")
        server_log = log.read_text(errors="replace")
        exceptions = collections.Counter(re.findall(r"^([\w.]+(?:Error|Exception)\b.*)$", server_log, re.MULTILINE))
        for exception, n in exceptions.most_common(5):
            print(f"  {n:6d}  server: {exception[:150]}")
        print(f"  {server_log.count('Traceback')} tracebacks in the server log; {total / seconds:.0f} requests/s")
        print(f"{database()}: {total} requests at concurrency {args.concurrency}: {errors} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
