"""The fan-out to every holder: one result per holder, each as soon as it is in, all within the timeout."""

import asyncio
import base64
import json
import logging
import time
from http.server import ThreadingHTTPServer

import pytest

from blauweknop import keystore
from blauweknop.db import release_before_waiting
from blauweknop.portal import fanout
from blauweknop.portal.fanout import ask_all, outcome, result
from blauweknop.portal.holders import Citizen, Fetched, Kind
from blauweknop.protocol import sdjwt_vc, status_list
from blauweknop.protocol.scheme_document import HOLDER, issuer_slug
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation

from .conftest import BELASTING, GEMEENTE
from .stand_in import Answering, serving


def collect(citizen: Citizen, timeout: float = 5) -> tuple[list, float]:
    """Every result of one fan-out, and the seconds it took."""

    async def run():
        scheme = await scheme_client.current()
        started = time.monotonic()
        results = [r async for r in ask_all(scheme, citizen, timeout=timeout)]
        took = time.monotonic() - started
        await release_before_waiting()  # as a request's end would: PostgreSQL's test database is dropped later
        return results, took

    return asyncio.run(run())


@pytest.mark.django_db(transaction=True)
def test_every_holder_answers_once_with_verified_copies(demo_world, citizen_bsn, wallet):
    citizen = Citizen(citizen_bsn, "midden", wallet.public_jwk)
    results, _ = collect(citizen)
    scheme = asyncio.run(scheme_client.current())
    holders = {p.oin for p in scheme.organisations.values() if HOLDER in p.roles}
    assert sorted(r.holder.oin for r in results) == sorted(holders)
    assert all(r.outcome in ("opgehaald", "geen") for r in results)
    assert any(r.credentials for r in results)
    for r in results:
        assert set(r.credentials) | set(r.absent) == set(r.holder.document_types)


def asker(body: dict) -> tuple[str, dict]:
    """Whom a holder is asked about, by the portal's assertion in the request ``body``: the BSN and the wallet key.

    A stand-in addresses its copies to them as a real holder does: the portal shows no copy about anyone else.
    """
    payload = body["appbeheerderverklaring"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["bsn"], claims["cnf"]["jwk"]


class _Everyone(Answering):
    """Every holder's API at once, each answering after ``server.delay`` with a good copy signed by its own key."""

    def do_POST(self):
        slug = self.path.split("/")[1]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        holder = self.server.by_slug[slug]
        time.sleep(self.server.delay)
        vct = next(t["vct"] for t in self.server.scheme.document_types if t["id"] == body["documentsoort"])
        base = f"http://127.0.0.1:{self.server.server_port}/{slug}"
        bsn, wallet_jwk = asker(body)
        credential = sdjwt_vc.issue(
            {"burgerservicenummer": bsn, "naam": "Iemand"},
            keystore.signing_key(holder.oin),
            iss=holder.endpoints["issuer"],
            vct=vct,
            holder_jwk=wallet_jwk,
            status=status_list.StatusReference(f"{base}/status", 0),
        )
        self.answer(201, "application/json", json.dumps({"verklaring": credential}).encode())

    def do_GET(self):
        slug = self.path.split("/")[1]
        holder = self.server.by_slug[slug]
        token = status_list.sign(
            status_list.StatusList(16),
            keystore.signing_key(holder.oin),
            uri=f"http://127.0.0.1:{self.server.server_port}{self.path}",
            iss=holder.endpoints["issuer"],
        )
        self.answer(200, "application/statuslist+jwt", token.encode())


@pytest.mark.django_db(transaction=True)
def test_the_fan_out_takes_as_long_as_the_slowest_holder_not_the_sum(demo_world, citizen_bsn, wallet, monkeypatch):
    delay = 0.5
    # Room for every holder's connection at once: with the default 5, the others' SYNs wait a second for a retry.
    monkeypatch.setattr(ThreadingHTTPServer, "request_queue_size", 64)
    with serving(_Everyone) as server:
        for oin in Organisation.objects.filter(is_holder=True).values_list("oin", flat=True):
            Organisation.objects.filter(oin=oin).update(base_url=f"http://127.0.0.1:{server.server_port}")
        publication.publish()
        scheme_client.forget()
        server.scheme = asyncio.run(scheme_client.current())
        holders = [p for p in server.scheme.organisations.values() if HOLDER in p.roles]
        server.by_slug = {issuer_slug(p.endpoints["issuer"]): p for p in holders}
        server.delay = delay
        results, took = collect(Citizen(citizen_bsn, "midden", wallet.public_jwk))
    assert len(holders) >= 12
    assert {r.outcome for r in results} == {"opgehaald"}
    requests = sum(len(p.document_types) for p in holders)
    print(f"fan-out: {len(holders)} holders, {requests} copies, each answering after {delay} s: {took:.3f} s")
    assert took < 3 * delay  # asked one after the other, it would take len(holders) * delay (6.5 s)


@pytest.mark.django_db(transaction=True)
def test_a_consumer_slower_than_the_timeout_is_not_cancelled_and_gets_every_result(demo_world, citizen_bsn, wallet):
    citizen = Citizen(citizen_bsn, "midden", wallet.public_jwk)

    async def run():
        scheme = await scheme_client.current()
        results = []
        async for answer in ask_all(scheme, citizen, timeout=1.0):
            results.append(answer)
            await asyncio.sleep(0.2)  # the page keeping the answer and rendering its section, past the deadline
        await release_before_waiting()
        return scheme, results

    scheme, results = asyncio.run(run())
    assert sorted(r.holder.oin for r in results) == sorted(
        p.oin for p in scheme.organisations.values() if HOLDER in p.roles
    )


@pytest.mark.django_db(transaction=True)
def test_a_fault_of_the_portal_with_one_holder_costs_only_that_holder_and_no_waiting(
    demo_world, citizen_bsn, wallet, monkeypatch, caplog
):
    real = fanout.fetch

    async def faulty(client, scheme, holder, *args, **kwargs):
        if holder.oin == GEMEENTE:
            raise RuntimeError("a bug")
        return await real(client, scheme, holder, *args, **kwargs)

    monkeypatch.setattr(fanout, "fetch", faulty)
    results, took = collect(Citizen(citizen_bsn, "midden", wallet.public_jwk), timeout=20)
    by_oin = {r.holder.oin: r for r in results}
    assert by_oin[GEMEENTE].outcome == "onbereikbaar"
    assert by_oin[BELASTING].outcome == "opgehaald"
    assert took < 10  # not held up until the timeout
    assert any(r.levelno == logging.ERROR and GEMEENTE in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ((Kind.COPY, Kind.ABSENT), "opgehaald"),
        ((Kind.ABSENT, Kind.ABSENT), "geen"),
        ((), "geen"),
        ((Kind.COPY, Kind.UNREACHABLE), "onbereikbaar"),
        ((Kind.REFUSED,), "onbereikbaar"),
        ((Kind.UNREACHABLE, Kind.UNTRUSTED, Kind.COPY), "onbetrouwbaar"),
    ],
)
def test_a_holder_s_outcome_is_its_worst_answer_and_keeps_what_verified(kinds, expected):
    fetched = [
        Fetched(f"soort{n}", kind, credential="x" if kind == Kind.COPY else None) for n, kind in enumerate(kinds)
    ]
    assert outcome(fetched) == expected
    assert set(result(None, fetched).credentials) == {f.type_id for f in fetched if f.kind == Kind.COPY}
