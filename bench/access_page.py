"""'Wie heeft mijn gegevens ingezien?' over real HTTP, with a long access log (issue 8, item 6).

Starts the demo (see ``_server.py``) on SQLite, or on PostgreSQL when DATABASE_URL is set, logs two
citizens in through the DigiD mock and gives one of them a long log: a press of the Blauwe Knop at
two holders, then ``--records`` access records at each of them (spread over 90 days). It times
GET ``/mijn-inzage/`` one request at a time for that citizen and for one whose log is empty, and
prints the p50s, the rows shown and the ratio of the two: a page that grows with the log shows it
here. The server runs one worker; the client runs on the same machine.

    python bench/access_page.py [--records 500] [--requests 30]

Last line: ``access page: <p50> ms with 2 x <n> records = <ratio>x of an empty log``. A report: it exits 0.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from _server import BELASTING, GEMEENTE, environment, free_port, prepare, serving, setup_client

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ROW = re.compile(r'<tr class="utrecht-table__row">\s*<td')


def _logged_in(base: str, bsn: str) -> httpx.Client:
    """A citizen's browser, logged in through the DigiD mock."""
    browser = httpx.Client(base_url=base, timeout=60, headers={"Referer": base})
    page = browser.get("/inloggen/?next=/")
    browser.post("/inloggen/?next=/", data={"csrfmiddlewaretoken": TOKEN.search(page.text)[1], "bsn": bsn})
    return browser


def _press(browser: httpx.Client, oin: str) -> None:
    page = browser.get(f"/organisaties/{oin}/")
    pressed = browser.post(
        f"/organisaties/{oin}/blauwe-knop/", data={"csrfmiddlewaretoken": TOKEN.search(page.text)[1]}
    )
    if pressed.status_code != 302:
        raise RuntimeError(f"press answered {pressed.status_code}")


def _two_citizens() -> tuple[str, str]:
    """A citizen both holders have data about, and another one."""
    from blauweknop.holder.models import SourceRecord

    at = {
        oin: set(SourceRecord.objects.filter(holder_oin=oin).values_list("bsn", flat=True))
        for oin in (BELASTING, GEMEENTE)
    }
    both = sorted(at[BELASTING] & at[GEMEENTE])
    return both[0], sorted((at[BELASTING] | at[GEMEENTE]) - {both[0]})[0]


def _fill(bsn: str, records: int) -> None:
    """``records`` access records about ``bsn`` at each of the two holders, newest now, oldest 90 days ago."""
    from django.conf import settings
    from django.utils import timezone

    from blauweknop.audit.models import AccessRecord
    from blauweknop.holder.models import Tenant
    from blauweknop.pseudonyms import pseudonym

    now, step = timezone.now(), timedelta(days=90) / records
    AccessRecord.objects.bulk_create(
        AccessRecord(
            at=now - n * step,
            subject=pseudonym(bsn),
            holder=Tenant.objects.get(pk=oin),
            actor_oin=settings.PORTAL_OIN,
            activity="basis-ophalen",
            purpose="De burger bekijkt de eigen gegevens.",
            legal_basis="verzoek-betrokkene",
            document_type="vorderingen",
        )
        for oin in (BELASTING, GEMEENTE)
        for n in range(records)
    )


def _timed(browser: httpx.Client, requests: int) -> tuple[float, int, int]:
    """p50 ms of GET /mijn-inzage/, the rows it shows and its size in bytes."""
    timings, page = [], None
    for _ in range(requests):
        start = time.perf_counter()
        page = browser.get("/mijn-inzage/")
        timings.append((time.perf_counter() - start) * 1000)
        if page.status_code != 200:
            raise RuntimeError(f"access page answered {page.status_code}")
    return statistics.median(timings), len(ROW.findall(page.text)), len(page.content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500, help="access records per holder")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bk-bench-") as folder:
        env = environment(Path(folder), free_port())
        prepare(env, citizens=20)
        setup_client(env)
        long_log, empty_log = _two_citizens()
        base = f"http://127.0.0.1:{env['PORT']}"
        with serving(env, Path(folder) / "server.log", workers=1):
            full, empty = _logged_in(base, long_log), _logged_in(base, empty_log)
            for oin in (BELASTING, GEMEENTE):
                _press(full, oin)
            _fill(long_log, args.records)
            _timed(full, 3), _timed(empty, 3)  # warm up: connections, scheme document
            p50, rows, size = _timed(full, args.requests)
            p50_empty, _, _ = _timed(empty, args.requests)
    print(f"2 holders x {args.records} records: p50 {p50:.1f} ms, {rows} rows shown, {size / 1024:.0f} KB")
    print(f"empty log: p50 {p50_empty:.1f} ms")
    print(f"access page: {p50:.1f} ms with 2 x {args.records} records = {p50 / p50_empty:.2f}x of an empty log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
