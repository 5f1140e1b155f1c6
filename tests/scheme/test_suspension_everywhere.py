"""Suspension works everywhere within one refresh (issue 11, item 3), and so does restoring.

The operator suspends a participant through the lifecycle; the roles then refresh their scheme
document once (``scheme_client.forget()``, as when the refresh interval has passed) and nothing
else: no other cache is cleared. A suspended holder's copies, old and new, are refused by the
portal, the verify page and the command line tool; a suspended requester can neither ask, nor
fetch under a standing consent, nor fetch under a law. Another participant of the same kind goes
on as before. Restored, each works again after one more refresh. Real keys, real HTTP, a real
database, all roles behind one live server.
"""

from __future__ import annotations

import copy as deep
import json
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import Client

from blauweknop import document_types, keystore
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol import sdjwt_vc
from blauweknop.scheme import catalogue, lifecycle, publication
from blauweknop.scheme.client import scheme_client
from tests.cli.test_cli import run_cli
from tests.holder.test_legal_basis import BASIS, _body, _post
from tests.portal.conftest import log_in
from tests.portal.consent_world import citizen, given
from tests.portal.test_fetch_api import fetch
from tests.portal.test_overview import body, sections
from tests.portal.test_verify_verdicts import check, verdict_of
from tests.requester.world import (
    BANK,
    BANK_SLUG,
    BELASTING,
    BELASTING_SLUG,
    GEMEENTE,
    GEMEENTE_SLUG,
    WONING,
    WONING_SLUG,
    copy,
    create,
    created,
    scheme,
)

pytestmark = pytest.mark.django_db(transaction=True)
OPERATOR = "beheerder-1"
HOLDERS = {GEMEENTE: GEMEENTE_SLUG, BELASTING: BELASTING_SLUG}  # both issue "vorderingen"; the first is suspended
REQUESTERS = {WONING: WONING_SLUG, BANK: BANK_SLUG}  # the first is suspended


def refresh() -> None:
    """The one refresh each role makes once its scheme document is older than the refresh interval."""
    scheme_client.forget()


def suspend(oin: str) -> None:
    lifecycle.suspend(oin, actor=OPERATOR, reason="Een melding van een datalek wordt onderzocht.")
    refresh()


def restore(oin: str) -> None:
    lifecycle.restore(oin, actor=OPERATOR, reason="Het lek is gedicht en getoetst.")
    refresh()


# --- a suspended holder ------------------------------------------------------------------------------------------


@pytest.fixture
def debtor(demo_world) -> str:
    """A citizen that both holders hold debts of."""
    at = [
        set(SourceRecord.objects.filter(holder_oin=oin, document_type="vorderingen").values_list("bsn", flat=True))
        for oin in HOLDERS
    ]
    return sorted(set.intersection(*at))[0]


def cli(folder: Path, copy_text: str) -> dict:
    """``blauweknop verify FILE --scheme-document URL --json``, run as a developer runs it, against the live server."""
    path = folder / f"kopie-{len(list(folder.iterdir()))}.sdjwt"
    path.write_text(copy_text)
    result = run_cli("verify", path, "--scheme-document", f"{settings.SCHEME_URL}/api/v1/stelseldocument", "--json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def cli_code(folder: Path, copy_text: str) -> str:
    """``valid``, or the code the command line tool refuses ``copy_text`` with."""
    verdict = cli(folder, copy_text)
    return "valid" if verdict["valid"] else verdict["code"]


def verify_page(copy_text: str) -> str:
    """``valid``, or the verdict of the public verify page on ``copy_text`` uploaded as a file (no login)."""
    response = check(Client(), copy_text.encode())
    return "valid" if "Echt en geldig" in response.content.decode() else verdict_of(response)


def made_anyway() -> str:
    """A copy signed now with the municipality's own key, as if it went on issuing while suspended."""
    document = scheme()
    credential = sdjwt_vc.issue(
        {"vorderingen": [{"bedragInCenten": 12_000}]},
        keystore.signing_key(GEMEENTE),
        iss=document.organisations[GEMEENTE].endpoints["issuer"],
        vct=document_types.of(document).get("vorderingen").vct,
    )
    return sdjwt_vc.present(credential, ["vorderingen"])


def logged_in(bsn: str) -> Client:
    """A new browser session of the citizen at the portal."""
    client = Client()
    assert log_in(client, bsn).status_code == 302
    return client


def overview(client: Client) -> dict[str, str]:
    """Each holder's outcome on Mijn overzicht, by OIN."""
    return sections(body(client.get("/overzicht/")))


def press(client: Client, oin: str) -> int:
    """The status of pressing ``oin``'s Blauwe Knop, then of its data page."""
    response = client.post(f"/organisaties/{oin}/blauwe-knop/")
    return response.status_code if response.status_code != 302 else client.get(response["Location"]).status_code


def test_a_suspended_holders_old_and_new_copies_are_refused_everywhere_until_it_is_restored(debtor, wallet, tmp_path):
    earlier = logged_in(debtor)
    first = overview(earlier)
    assert (first[GEMEENTE], first[BELASTING]) == ("opgehaald", "opgehaald")
    old = {oin: copy(debtor, wallet, "vorderingen", slug, oin) for oin, slug in HOLDERS.items()}
    assert {verify_page(c) for c in old.values()} == {cli_code(tmp_path, c) for c in old.values()} == {"valid"}

    suspend(GEMEENTE)
    anyway = made_anyway()
    # The portal: not asked on the overview, its button gone, its data no longer shown, its holder issues nothing.
    now = logged_in(debtor)
    shown = overview(now)
    assert (shown[GEMEENTE], shown[BELASTING]) == ("doet-niet-mee", "opgehaald")
    assert overview(earlier)[GEMEENTE] == "doet-niet-mee"  # what an earlier visit kept is not shown either
    assert (press(now, GEMEENTE), press(now, BELASTING)) == (404, 200)
    assert earlier.get(f"/organisaties/{GEMEENTE}/gegevens/").status_code == 404
    with pytest.raises(AssertionError, match="not_certified"):
        copy(debtor, wallet, "vorderingen", GEMEENTE_SLUG, GEMEENTE)
    copy(debtor, wallet, "vorderingen", BELASTING_SLUG, BELASTING)
    # The verify page (its words for not_certified) and the command line tool: old and new copies refused.
    for suspended in (old[GEMEENTE], anyway):
        assert verify_page(suspended) == "organisation_withdrawn"
        assert cli_code(tmp_path, suspended) == "not_certified"
    assert verify_page(old[BELASTING]) == cli_code(tmp_path, old[BELASTING]) == "valid"

    restore(GEMEENTE)
    again = logged_in(debtor)
    assert {overview(again)[oin] for oin in HOLDERS} == {"opgehaald"}
    assert overview(earlier)[GEMEENTE] == "opgehaald"  # asked again, since what it kept no longer holds
    assert press(again, GEMEENTE) == 200
    new = copy(debtor, wallet, "vorderingen", GEMEENTE_SLUG, GEMEENTE)
    for restored in (old[GEMEENTE], new):
        assert verify_page(restored) == cli_code(tmp_path, restored) == "valid"


# --- a suspended requester ---------------------------------------------------------------------------------------


@pytest.fixture
def bsn(demo_world, monkeypatch) -> str:
    """A citizen with income at the tax office, in a scheme whose register lets both requesters fetch it by law."""
    register = deep.deepcopy(catalogue.legal_bases())
    next(entry for entry in register if entry["id"] == BASIS)["vragers"] += list(REQUESTERS)
    monkeypatch.setattr(catalogue, "legal_bases", lambda: register)
    publication.publish()
    refresh()
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]


def lanes(server, bsn: str, oin: str, consent_id: str, request_uri: str) -> dict[str, tuple[int, str]]:
    """What the requester ``oin`` gets in each lane: a new request, its earlier request opened by a wallet, a fetch
    under its standing consent, a fetch under the law; each as (HTTP status, problem code or "")."""

    def outcome(response: httpx.Response) -> tuple[int, str]:
        problem = response.headers["Content-Type"].startswith("application/problem+json")
        return response.status_code, response.json()["code"] if problem else ""

    return {
        "ask": outcome(create(slug=REQUESTERS[oin], oin=oin)),
        "open": outcome(httpx.get(request_uri, timeout=30)),
        "standing": outcome(fetch(consent_id, requester_oin=oin)),
        "law": outcome(_post(server, _body(server, bsn, requester=oin))),
    }


WORKING = {"ask": (201, ""), "open": (200, ""), "standing": (200, ""), "law": (201, "")}
REFUSED = dict.fromkeys(WORKING, (403, "not_certified"))


def test_a_suspended_requester_can_neither_ask_nor_fetch_until_it_is_restored(demo_world, bsn):
    consents = {oin: given(citizen(bsn), oin)[0].pk for oin in REQUESTERS}
    asked = {oin: created(slug=slug, oin=oin)["requestUri"] for oin, slug in REQUESTERS.items()}

    def each() -> dict[str, dict[str, tuple[int, str]]]:
        return {oin: lanes(demo_world, bsn, oin, consents[oin], asked[oin]) for oin in REQUESTERS}

    assert each() == {WONING: WORKING, BANK: WORKING}
    suspend(WONING)
    assert each() == {WONING: REFUSED, BANK: WORKING}
    restore(WONING)
    assert each() == {WONING: WORKING, BANK: WORKING}
