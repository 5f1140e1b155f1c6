"""Processes share the scheme document through the shared cache, and trust nothing in it (issue 7, item 4).

Two ``SchemeClient`` instances stand for two web processes of one deployment: they share nothing
but the cache (the database table here, as by default).
"""

import asyncio
import logging
import threading
import time

import pytest
from django.db import connection, connections

from blauweknop import shared_cache
from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme import client, publication
from blauweknop.scheme.client import SchemeClient, scheme_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator_downloads(demo_world, monkeypatch):
    """Every download of the scheme document from the operator, counted; the real download still runs."""
    scheme_client.forget()  # nothing in the cache yet
    downloads = []
    real = client.download

    def counted() -> str:
        downloads.append(time.monotonic())
        return real()

    monkeypatch.setattr(client, "download", counted)
    return downloads


def _plant(token: str, fetched_at: float | None = None) -> None:
    key = shared_cache.key("stelseldocument", client.settings.SCHEME_URL)
    shared_cache.write(key, (token, time.time() if fetched_at is None else fetched_at), client.REFRESH_AFTER)


def test_a_second_process_gets_the_document_from_the_shared_cache_without_asking_the_operator(operator_downloads):
    first, second = SchemeClient(), SchemeClient()
    fetched = asyncio.run(first.current())
    assert len(operator_downloads) == 1
    shared = asyncio.run(second.current())
    assert len(operator_downloads) == 1, "the second process asked the operator again"
    assert (shared.version, shared.iat) == (fetched.version, fetched.iat)


def _wait_for(downloads: list, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(downloads) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_document_from_the_cache_is_as_old_as_its_fetch_not_as_its_reading(operator_downloads, monkeypatch):
    # Another process fetched it four minutes ago: it is due for a refresh in one minute, not in five.
    _plant(client.download(), fetched_at=time.time() - 240)
    second = SchemeClient()
    asyncio.run(second.current())
    assert len(operator_downloads) == 1  # the planting one
    monkeypatch.setattr(client, "REFRESH_AFTER", 239)  # as if a minute had passed
    monkeypatch.setattr(client, "RETRY_AFTER", 0)
    asyncio.run(second.current())  # still valid: used, and refreshed in the background
    _wait_for(operator_downloads, 2)
    assert len(operator_downloads) == 2, "a four-minute-old document was taken as fresh"


def test_it_refuses_a_forged_scheme_document_planted_in_the_shared_cache(operator_downloads, caplog):
    genuine = scheme_document.verify(client.download(), client.trust_anchor())
    payload = scheme_document.build(iss=genuine.iss, version=genuine.version + 100, organisations=[])
    _plant(scheme_document.sign(payload, SigningKey(generate_jwk())))
    with caplog.at_level(logging.WARNING):
        document = asyncio.run(SchemeClient().current())
    assert (document.version, document.iat, document.organisations.keys()) == (
        genuine.version,
        genuine.iat,
        genuine.organisations.keys(),
    )
    assert len(operator_downloads) == 2  # the forgery cost one fetch from the operator, nothing more
    assert "scheme document in the shared cache refused" in caplog.text


def test_it_refuses_an_older_scheme_document_planted_in_the_shared_cache(operator_downloads, caplog):
    older = client.download()
    publication.publish()  # the operator signs the next version
    first = SchemeClient()
    first.refresh()
    newest = asyncio.run(first.current())
    assert newest.version == scheme_document.verify(older, client.trust_anchor()).version + 1
    _plant(older)  # someone who can write to the cache puts the genuine old version back
    with caplog.at_level(logging.WARNING):
        first.refresh()
    assert asyncio.run(first.current()).version == newest.version
    assert "scheme document in the shared cache refused: scheme_rollback" in caplog.text
    assert len(operator_downloads) == 3  # older, newest, and the refresh that the old one did not satisfy


def test_a_cache_that_holds_something_else_is_passed_over(operator_downloads):
    key = shared_cache.key("stelseldocument", client.settings.SCHEME_URL)
    junk = ["not a token", ("not a token", time.time()), ("x", "not a time"), ["x", time.time()], 42]
    for entry in junk:
        shared_cache.write(key, entry, 60)
        assert asyncio.run(SchemeClient().current()).version >= 1
    assert len(operator_downloads) == len(junk)


def _refreshed_in_a_thread(refreshing: SchemeClient) -> bool:
    """Refresh in a thread of its own, as in the background; whether that thread still held a connection after."""
    held: list[bool] = []

    def run() -> None:
        try:
            refreshing.refresh()
            held.append(connection.connection is not None)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="scheme-refresh")
    thread.start()
    thread.join(10)
    return held == [True]


def test_a_refresh_in_a_thread_of_its_own_gives_its_database_connection_back(operator_downloads, monkeypatch):
    """Such a thread ends without a request's end to close it: each one lost a connection of the pool (audit).

    From the cache, and after a document that fails its check, the refresh had read the database last.
    """
    _plant(client.download())
    assert not _refreshed_in_a_thread(SchemeClient())
    monkeypatch.setattr(client, "download", lambda: "eyJhbGciOiJFUzI1NiJ9.e30.AAAA")
    scheme_client.forget()
    assert not _refreshed_in_a_thread(SchemeClient())
