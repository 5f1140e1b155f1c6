"""Split deployment (issue 7, item 2): the scheme operator, two holders and the portal as four deployments.

Four uvicorn processes on four ports, each with its own database, configured only through the
environment and without demo mode: secrets and signing keys (``BLAUWEKNOP_KEY_<OIN>``) are set,
nothing is made on the fly. The operator admits the two holders (different organisations) and the
portal with ``manage.py admit_participant`` and publishes; the others know only the operator's
address and public key (``BLAUWEKNOP_SCHEME_URL``, ``BLAUWEKNOP_SCHEME_JWKS``) and learn everything
else from the signed scheme document. Each holder seeds the demo sources of its own organisation.

Chromium then takes the whole Basis flow across them: DigiD mock login at the portal, the Blauwe Knop
at each holder, a copy of each downloaded (one with a field left out) and verified at the portal,
and the access log with both holders' records. On the PostgreSQL pass of make test the operator and
the second holder use PostgreSQL and the others SQLite; on the first pass all four use SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from blauweknop.demo.citizens import DEFAULT_SEED, make_citizens
from blauweknop.demo.organisations import ORGANISATIONS, PORTAL_OIN
from blauweknop.protocol.jwk import generate_jwk, jwks
from tests.deployments import (
    TRACEBACK,
    Deployment,
    fresh_database,
    in_parallel,
    key_variables,
    new_deployment,
    participant_file,
    postgres_url,
    prepare,
    serving,
)
from tests.e2e.conftest import DemoServer, Steps

pytestmark = pytest.mark.e2e

CITIZENS = 12
HOLDERS = {
    spec["name"]: spec for spec in ORGANISATIONS if spec["slug"] in ("gemeente-voorbeeldstad", "belastingkantoor")
}
GEMEENTE, BELASTING = "Gemeente Voorbeeldstad", "Belastingkantoor Voorbeeldland"
PORTAL = next(spec for spec in ORGANISATIONS if spec["oin"] == PORTAL_OIN)


@dataclass
class Split:
    """The four running deployments, the citizen who has data at both holders, and every demo BSN."""

    operator: Deployment
    holders: dict[str, Deployment]
    portal: Deployment
    bsn: str
    bsns: list[str]


def citizen_at_both_holders() -> tuple[str, list[str]]:
    """A demo citizen with documents at both holders (seed_demo makes the same citizens), and every demo BSN."""
    people = make_citizens(DEFAULT_SEED, CITIZENS)
    slugs = {spec["slug"] for spec in HOLDERS.values()}
    both = next(p for p in people if slugs <= {slug for slug, _ in p.documents})
    return both.bsn, [p.bsn for p in people]


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Split]:
    """The operator first (it admits the others and publishes), then both holders and the portal at once."""
    folder = tmp_path_factory.mktemp("split")
    keys = {name: generate_jwk() for name in ["stelsel", PORTAL_OIN, *(spec["oin"] for spec in HOLDERS.values())]}
    with ExitStack() as stack:
        # The PostgreSQL pass puts the operator and the second holder on PostgreSQL, the others on SQLite.
        databases = {
            name: stack.enter_context(fresh_database(f"split_{name}", folder / "databases", postgres=postgres))
            for name, postgres in (("operator", True), (GEMEENTE, False), (BELASTING, True), ("portal", False))
        }
        operator = new_deployment(
            "operator",
            folder,
            roles=["scheme"],
            database=databases["operator"],
            env=key_variables({"stelsel": keys["stelsel"]}),
        )
        trust = {
            "BLAUWEKNOP_SCHEME_URL": operator.base_url + "/stelsel",
            "BLAUWEKNOP_SCHEME_JWKS": json.dumps(jwks([keys["stelsel"]])),
        }
        portal = new_deployment(
            "portal",
            folder,
            roles=["portal"],
            database=databases["portal"],
            env={
                **trust,
                **key_variables({PORTAL_OIN: keys[PORTAL_OIN]}),
                "BLAUWEKNOP_PORTAL_OIN": PORTAL_OIN,
                "BLAUWEKNOP_DIGID_MOCK": "True",
            },
        )
        holders = {
            name: new_deployment(
                spec["slug"],
                folder,
                roles=["holder"],
                database=databases[name],
                env={
                    **trust,
                    **key_variables({spec["oin"]: keys[spec["oin"]]}),
                    "BLAUWEKNOP_HOLDER_OINS": spec["oin"],
                    "BLAUWEKNOP_VERIFY_URL": portal.base_url + "/controleren/",
                },
            )
            for name, spec in HOLDERS.items()
        }
        files = [
            participant_file(folder, spec, ["holder"], holders[name].base_url, keys[spec["oin"]])
            for name, spec in HOLDERS.items()
        ]
        files.append(participant_file(folder, PORTAL, ["app_manager"], portal.base_url, keys[PORTAL_OIN]))
        admissions = [
            ("admit_participant", path, *(["--publish"] if number == len(files) else []))
            for number, path in enumerate(files, start=1)
        ]

        prepare({operator: admissions, portal: (), **{holder: () for holder in holders.values()}})
        stack.enter_context(serving(operator))
        # seed_demo with the holder role only: the demo sources of its own organisation, learnt from the scheme.
        in_parallel(
            lambda h=holder: h.manage("seed_demo", "--fictional-data", "--citizens", str(CITIZENS))
            for holder in holders.values()
        )
        stack.enter_context(serving(portal, *holders.values()))
        yield Split(operator, holders, portal, *citizen_at_both_holders())


def untick_one_field(page: Any, category: str) -> tuple[str, set[str]]:
    """On the data page: untick the last ticked field of ``category``; that field and the ones still ticked."""
    boxes = page.locator(f"details[data-documentsoort={category}] input[type=checkbox][name=veld-{category}]")
    ticked = [box for box in (boxes.nth(i) for i in range(boxes.count())) if box.is_checked()]
    assert len(ticked) > 1, f"the data page ticks fewer than two {category} fields"
    ticked[-1].uncheck()
    paths = [box.get_attribute("value") for box in ticked]
    return paths[-1], set(paths[:-1])


def test_four_deployments_serve_the_basis_flow_across_their_own_databases(split, new_context, requested_urls, tmp_path):
    steps = Steps(
        DemoServer(split.portal.base_url, split.bsns, split.portal.log, split.portal.data_dir, split.portal.process)
    )
    page = new_context().new_page()

    # Holder 1: log in at the portal, press, see the data, leave one field out, download, verify.
    steps.log_in(page, split.bsn, GEMEENTE)
    steps.press_blue_button(page)
    left_out, kept = untick_one_field(page, "persoonsgegevens")
    copy = steps.download(page, tmp_path, "sdjwt", "persoonsgegevens")
    verdict, fields = steps.verify(page, copy)
    assert "Echt en geldig" in verdict and GEMEENTE in verdict, verdict
    assert set(fields) == kept and left_out not in fields, (left_out, sorted(fields))

    # Holder 2: its signed PDF, verified at the portal.
    steps.open_organisation(page, BELASTING)
    steps.press_blue_button(page)
    pdf = steps.download(page, tmp_path, "pdf", "inkomen")
    verdict, fields = steps.verify(page, pdf)
    assert "Echt en geldig" in verdict and BELASTING in verdict, verdict
    assert fields, "the verify page shows no fields of the PDF's copy"

    # Who has seen my data: both holders recorded the reads, the portal asked each of them.
    page.goto(split.portal.base_url + "/mijn-inzage/")
    column = page.locator("td[data-label='Van wie']")
    seen = {column.nth(i).inner_text().strip() for i in range(column.count())}
    assert {GEMEENTE, BELASTING} <= seen, seen

    if postgres_url():
        assert split.operator.database.is_postgres and split.holders[BELASTING].database.is_postgres
    leaked = [url for url in requested_urls if any(bsn in url for bsn in split.bsns)]
    assert not leaked, f"demo BSNs appear in request URLs: {leaked}"
    for deployment in (split.operator, *split.holders.values(), split.portal):
        log = deployment.log_text()
        assert "uvicorn.access" in log, f"{deployment.log} has no access lines: is it captured?"
        assert not [bsn for bsn in split.bsns if bsn in log], f"a demo BSN appears in {deployment.log}"
        assert TRACEBACK not in log, f"{deployment.name} logged a traceback:\n{log[-4000:]}"
        own, foreign = deployment.role_tables()
        assert own and not foreign, f"{deployment.name} has its own tables {own} and other roles' tables {foreign}"
