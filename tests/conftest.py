"""Shared fixtures for the Django shell: keys in a temporary folder, a demo world, a live server."""

from __future__ import annotations

import logging
import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

from blauweknop import document_types
from blauweknop.portal.verification import status_lists
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme.client import scheme_client

# A test that uses any of these reaches the database, so it runs on PostgreSQL too (make test).
DATABASE_FIXTURES = frozenset({"db", "transactional_db", "live_server", "django_db_setup", "client", "async_client"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "database: reaches the database; run on SQLite and on PostgreSQL")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)
    # The browser tests last: Playwright's sync API keeps an event loop running in the main thread for the
    # rest of the session, and a later test's asyncio.run() would then fail for a reason of its own.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(scope="session", autouse=True)
def _keys_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests never touch the demo's keys under var/, and every run starts with fresh keys.
    django_settings.KEY_DIR = tmp_path_factory.mktemp("keys")


@pytest.fixture(autouse=True)
def _each_test_starts_afresh():
    yield
    # A test's English request leaves English active in this thread, and each test database starts its scheme
    # documents at version 1 again, so the catalogues built from an earlier test's documents must go.
    translation.activate(django_settings.LANGUAGE_CODE)
    document_types.forget()


@pytest.fixture
def deployment(live_server, settings):
    """All roles behind one real HTTP server, with addresses that point at it."""
    settings.BASE_URL = live_server.url
    settings.SCHEME_URL = live_server.url + "/stelsel"
    _forget_shared_tokens()
    yield live_server
    _forget_shared_tokens()


def _forget_shared_tokens() -> None:
    # Every test's world has the same addresses and keys but its own lists and documents.
    scheme_client.forget()
    status_lists.forget()
    cache.clear()


@pytest.fixture
def demo_world(deployment):
    """The demo organisations and a small set of citizens, with a published scheme document."""
    call_command("seed_demo", citizens=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return deployment


@pytest.fixture
def wallet():
    """A citizen's wallet key, as the portal makes one per session."""
    return SigningKey(generate_jwk())


BSN_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{9}(?![0-9A-Za-z])")  # not inside hex or words


@pytest.fixture(autouse=True)
def _no_bsn_in_any_log_line(caplog):
    """Every test fails if any log line, at any level, carries something that passes the 11-proef."""
    caplog.set_level(logging.DEBUG)
    yield
    leaks = [
        record.getMessage()
        for record in caplog.get_records("setup") + caplog.get_records("call")
        if any(is_valid_bsn(number) for number in BSN_LIKE.findall(record.getMessage()))
    ]
    assert leaks == [], "a BSN appeared in a log line"
