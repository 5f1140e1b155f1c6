"""Each role stands alone (issue 7, item 1): its own apps, its own tables, the rest from the scheme document.

A holder-only deployment starts from an empty database with nothing but the scheme document's
address and trust anchor, its own OIN and key, and its source; it issues over HTTP a copy that the
portal's own verification accepts. Portal-only and scheme-only deployments migrate and start with
only their own apps' tables. Real processes (uvicorn) and real HTTP, configured only through the
environment, without demo mode. The holder has a fresh SQLite file of its own; the operator and the
portal use PostgreSQL on the PostgreSQL pass of make test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from blauweknop.demo.citizens import DEFAULT_SEED, make_citizens
from blauweknop.demo.organisations import ORGANISATIONS, PORTAL_OIN
from blauweknop.portal.verification import verify_credential
from blauweknop.protocol import scheme_document, session_assertion
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk, jwks
from tests.deployments import (
    Deployment,
    fresh_database,
    key_variables,
    new_deployment,
    participant_file,
    prepare,
    serving,
)

pytestmark = pytest.mark.database  # its deployments' databases are PostgreSQL on that pass of make test
BELASTING = next(spec for spec in ORGANISATIONS if spec["slug"] == "belastingkantoor")
CITIZENS = 12


@dataclass
class Operator:
    """The scheme operator, serving, with the holder and the portal admitted; and every party's keys."""

    deployment: Deployment
    keys: dict[str, dict]
    holder: Deployment
    folder: Path

    @property
    def trust(self) -> dict[str, str]:
        """What any other role is told about the scheme: its address and the operator's public keys."""
        return {
            "BLAUWEKNOP_SCHEME_URL": self.deployment.base_url + "/stelsel",
            "BLAUWEKNOP_SCHEME_JWKS": json.dumps(jwks([self.keys["stelsel"]])),
        }


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """A scheme-only deployment that admitted the tax office (whose holder runs elsewhere) and the portal."""
    folder = tmp_path_factory.mktemp("standalone")
    keys = {name: generate_jwk() for name in ("stelsel", BELASTING["oin"], PORTAL_OIN)}
    portal_spec = next(spec for spec in ORGANISATIONS if spec["oin"] == PORTAL_OIN)
    with ExitStack() as stack:
        database = stack.enter_context(fresh_database("standalone_operator", folder / "databases"))
        deployment = new_deployment(
            "operator", folder, roles=["scheme"], database=database, env=key_variables({"stelsel": keys["stelsel"]})
        )
        holder_database = stack.enter_context(fresh_database("standalone_holder", folder / "databases", postgres=False))
        # Only the holder's address is needed now, to admit it; it is configured and started by the test.
        holder = new_deployment("holder", folder, roles=["holder"], database=holder_database)
        deployment.prepare(
            (
                "admit_participant",
                participant_file(folder, BELASTING, ["holder"], holder.base_url, keys[BELASTING["oin"]]),
            ),
            (
                "admit_participant",
                participant_file(folder, portal_spec, ["app_manager"], "https://portaal.example", keys[PORTAL_OIN]),
                "--publish",
            ),
        )
        stack.enter_context(serving(deployment))
        yield Operator(deployment, keys, holder, folder)


def _own_tables_only(deployment: Deployment) -> None:
    own, foreign = deployment.role_tables()
    assert own and not foreign, f"{deployment.name} has its own tables {own} and other roles' tables {foreign}"


def _citizen_with_income() -> str:
    people = make_citizens(DEFAULT_SEED, CITIZENS)
    return next(p.bsn for p in people if (BELASTING["slug"], "inkomen") in p.documents)


@pytest.mark.django_db  # the portal's verification shares status lists through the shared cache
def test_a_holder_only_deployment_starts_from_an_empty_database_and_issues_a_copy_the_portal_accepts(operator):
    holder = operator.holder
    holder.env.update(
        {
            **operator.trust,
            **key_variables({BELASTING["oin"]: operator.keys[BELASTING["oin"]]}),
            "BLAUWEKNOP_HOLDER_OINS": BELASTING["oin"],
        }
    )
    # Its source: the demo's generator writes the tax office's records; no scheme table is needed for that.
    holder.prepare(("seed_demo", "--fictional-data", "--citizens", str(CITIZENS)))
    _own_tables_only(holder)
    assert holder.database.query("SELECT COUNT(*) FROM holder_tenant") == [(0,)]

    with serving(holder):
        scheme = scheme_document.verify(
            httpx.get(operator.deployment.base_url + "/stelsel/api/v1/stelseldocument").text,
            KeySet.from_jwks(jwks([operator.keys["stelsel"]])),
        )
        wallet = SigningKey(generate_jwk())
        assertion = session_assertion.sign(
            SigningKey(operator.keys[PORTAL_OIN]),
            app_manager_oin=PORTAL_OIN,
            holder_oin=BELASTING["oin"],
            bsn=_citizen_with_income(),
            assurance_level="substantieel",
            wallet_jwk=wallet.public_jwk,
        )
        issuer = scheme.organisations[BELASTING["oin"]].endpoints["issuer"]
        answer = httpx.post(
            f"{issuer}/api/v1/verklaringen",
            json={"appbeheerderverklaring": assertion, "documentsoort": "inkomen"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        verified = verify_credential(answer.json()["verklaring"], scheme)
        metadata = httpx.get(f"{holder.base_url}/.well-known/jwt-vc-issuer/{BELASTING['slug']}").json()
        # Without the portal there are no pages to link to: an unknown address is a problem, not a 500.
        nowhere = httpx.get(f"{holder.base_url}/nergens/")
        unknown = httpx.post(
            f"{holder.base_url}/gemeente-voorbeeldstad/api/v1/verklaringen",
            json={"appbeheerderverklaring": assertion, "documentsoort": "persoonsgegevens"},
        )

    assert verified.iss == issuer == f"{holder.base_url}/{BELASTING['slug']}"
    assert verified.vct == next(t["vct"] for t in scheme.document_types if t["id"] == "inkomen")
    assert verified.claims["belastingjaar"]
    assert metadata["issuer"] == issuer
    assert (nowhere.status_code, nowhere.headers["Content-Type"]) == (404, "application/problem+json")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")  # not a tenant of this deployment
    # The tenant's row was learnt from the scheme document on first use.
    assert holder.database.query("SELECT oin, slug, issuer_url FROM holder_tenant") == [
        (BELASTING["oin"], BELASTING["slug"], issuer)
    ]
    assert "Traceback" not in holder.log_text()


def test_portal_only_and_scheme_only_deployments_migrate_and_start_with_their_own_tables(operator):
    _own_tables_only(operator.deployment)
    with fresh_database("standalone_portal", operator.folder / "databases") as database:
        portal = new_deployment(
            "portal",
            operator.folder,
            roles=["portal"],
            database=database,
            env={
                **operator.trust,
                **key_variables({PORTAL_OIN: operator.keys[PORTAL_OIN]}),
                "BLAUWEKNOP_PORTAL_OIN": PORTAL_OIN,
            },
        )
        prepare([portal])
        _own_tables_only(portal)
        with serving(portal):  # ready means: its database answers and it holds a verified scheme document
            home = httpx.get(portal.base_url + "/")
        assert home.status_code == 200 and BELASTING["name"] in home.text
        assert "Traceback" not in portal.log_text()
