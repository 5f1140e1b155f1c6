"""Fixtures for the conformance kit's tests: a seeded demo behind a live server, and the kit's arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from blauweknop import cli, keystore
from blauweknop.demo.citizens import make_citizens
from blauweknop.protocol.scheme_document import HOLDER, Participant, SchemeDocument
from tests.conformance.proxy import Proxy
from tests.conftest import _forget_shared_tokens

# Enough demo citizens that every demo holder has data about one of them for each type it issues
# (the rarest, debts at the alimony collector, first comes with the 72nd citizen).
CITIZENS = 80


def test_citizens(holder: Participant) -> list[str]:
    """One BSN per document type the demo holder issues, of a demo citizen it has that data about."""
    slug = holder.endpoints["issuer"].rstrip("/").rpartition("/")[2]
    people = make_citizens(count=CITIZENS)
    chosen = [next(p.bsn for p in people if (slug, t) in p.documents) for t in holder.document_types]
    return list(dict.fromkeys(chosen))


test_citizens.__test__ = False  # a helper, not a test


def scheme_url(server) -> str:
    """Where the live server (or the proxy in front of it) publishes the signed scheme document."""
    return f"{server.url}/stelsel/api/v1/stelseldocument"


def demo_holders(scheme: SchemeDocument) -> list[Participant]:
    """Every certified holder in the scheme document."""
    return [p for p in scheme.organisations.values() if scheme.is_certified(p.oin, HOLDER)]


def seed(citizens: int) -> None:
    """Seed the demo world, quietly."""
    with open("/dev/null", "w") as quiet:
        call_command("seed_demo", citizens=citizens, stdout=quiet)


@pytest.fixture
def demo(deployment):
    """The demo world behind a live server, with enough citizens for every holder's every document type."""
    seed(CITIZENS)
    return deployment


@pytest.fixture
def proxied(live_server, settings):
    """The demo world seen through a :class:`Proxy`: every address in the scheme document is the proxy's."""
    with Proxy(live_server.url) as proxy:
        settings.BASE_URL = proxy.url
        settings.SCHEME_URL = proxy.url + "/stelsel"
        _forget_shared_tokens()
        seed(12)  # the demo_world's few citizens: enough for the holder the broken-holder tests use
        yield proxy
        _forget_shared_tokens()


@pytest.fixture
def scheme(demo) -> SchemeDocument:
    """The scheme document the live demo publishes, verified as the kit verifies it."""
    return cli._scheme(scheme_url(demo), None)


@pytest.fixture
def app_manager_key() -> Path:
    """The portal's app manager key, in a file as a participant would hand it to the kit."""
    keystore.signing_key(settings.PORTAL_OIN)  # made on first use in the demo
    return Path(settings.KEY_DIR) / f"{settings.PORTAL_OIN}.jwk"


def run_kit(capsys, *args: str) -> tuple[int, dict]:
    """Run ``blauweknop conformance ... --json``; the exit code and the report."""
    code = cli.main(["conformance", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def holder_args(server, holder: Participant, key: Path, *, issuer: str | None = None) -> list[str]:
    """The kit's arguments for ``holder``, acting as the demo portal, with test citizens it has data about."""
    bsns = [arg for bsn in test_citizens(holder) for arg in ("--bsn", bsn)]
    return [
        "--holder",
        issuer or holder.endpoints["issuer"],
        "--scheme-document",
        scheme_url(server),
        "--app-manager-key",
        str(key),
        "--app-manager-oin",
        settings.PORTAL_OIN,
        *bsns,
    ]
