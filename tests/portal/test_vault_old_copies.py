"""The wallet (/kluis/) says which kept copy is old: superseded at its source, or expired.

Superseded as a registry does it: a raw UPDATE of the source table, then one run of the holder's worker,
no issuing in between. Two citizens keep the same type from the same holder: only the changed one's turns old.
"""

from datetime import timedelta

import lxml.html
import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.utils import timezone

from blauweknop import document_types, keystore
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import vault
from blauweknop.portal.holders import Citizen
from blauweknop.protocol import sdjwt_vc
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.scheme.client import scheme_client

from .conftest import BELASTING, log_in
from .superseding import change_at_source

pytestmark = pytest.mark.django_db(transaction=True)


def _keeping_income(bsn: str) -> Client:
    """A citizen logged in who fetched the tax office's copies and kept the income copy."""
    client = Client()
    assert log_in(client, bsn).status_code == 302
    assert client.post(f"/organisaties/{BELASTING}/blauwe-knop/").status_code == 302
    assert client.post("/kluis/bewaren/", {"kopie": f"{BELASTING}:inkomen"}).status_code == 302
    return client


def _row(client: Client) -> lxml.html.HtmlElement:
    """The income copy's row on the vault page."""
    response = client.get("/kluis/")
    assert response.status_code == 200
    (row,) = lxml.html.fromstring(response.content.decode()).xpath(f"//tr[@data-kopie='{BELASTING}:inkomen']")
    return row


def _state(client: Client) -> tuple[str, str]:
    """The income copy's row on the vault page: its data-staat and the words under 'Nu geldig?'."""
    row = _row(client)
    return row.get("data-staat"), " ".join(row.xpath("td")[4].text_content().split())


def _marked(client: Client) -> tuple[str, bool]:
    """The state cell's label (shown above it on a phone) and whether it is marked as a warning."""
    cell = _row(client).xpath("td")[4]
    return cell.get("data-label"), bool(cell.xpath(".//*[contains(@class, 'blauweknop-old-copy')]"))


@pytest.fixture
def two_bsns(demo_world):
    return sorted(
        SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)
    )[:2]


def test_a_copy_changed_at_the_source_shows_vervangen_and_the_other_citizens_stays_geldig(two_bsns):
    changed_bsn, other_bsn = two_bsns
    changed, other = _keeping_income(changed_bsn), _keeping_income(other_bsn)
    assert _state(changed) == ("geldig", "Geldig")
    change_at_source(BELASTING, changed_bsn)
    assert _state(changed) == (
        "vervangen",
        "Vervangen door nieuwere gegevens. De organisatie heeft de gegevens veranderd nadat deze kopie werd "
        "gemaakt. Vernieuw de kopie.",
    )
    assert _state(other) == ("geldig", "Geldig")
    shown = other.post("/kluis/bekijken/", {"kopie": f"{BELASTING}:inkomen"}).content.decode()
    assert 'data-staat="geldig"' in shown and "blauweknop-old-copy" not in shown
    assert _marked(changed) == ("Nu geldig?", True) and _marked(other) == ("Nu geldig?", False)
    shown = changed.post("/kluis/bekijken/", {"kopie": f"{BELASTING}:inkomen"}).content.decode()
    assert 'data-staat="vervangen"' in shown and "blauweknop-old-copy" in shown


def test_the_english_vault_says_replaced_by_newer_data(two_bsns):
    client = _keeping_income(two_bsns[0])
    change_at_source(BELASTING, two_bsns[0])
    client.cookies["django_language"] = "en"
    assert _state(client) == (
        "vervangen",
        "Replaced by newer data. The organisation changed the data after this copy was made. Refresh the copy.",
    )
    assert _marked(client) == ("Valid now?", True)


def test_a_refresh_replaces_the_superseded_copy_with_a_valid_one(two_bsns):
    client = _keeping_income(two_bsns[0])
    change_at_source(BELASTING, two_bsns[0])
    assert client.post("/kluis/vernieuwen/", {"kopie": f"{BELASTING}:inkomen"}).status_code == 302
    assert _state(client)[0] == "geldig"


def test_an_expired_kept_copy_shows_verlopen(two_bsns):
    client = _keeping_income(two_bsns[0])
    scheme = async_to_sync(scheme_client.current)()
    wallet = generate_jwk()  # private, as the session keeps it
    three_days_ago = timezone.now() - timedelta(days=3)
    credential = sdjwt_vc.issue(
        {"belastingjaar": 2025},
        keystore.signing_key(BELASTING),
        iss=scheme.organisations[BELASTING].endpoints["issuer"],
        vct=document_types.of(scheme).get("inkomen").vct,
        valid_for=24 * 3600,
        holder_jwk=SigningKey(wallet).public_jwk,
        now=int(three_days_ago.timestamp()),
    )
    citizen = Citizen(two_bsns[0], "midden", SigningKey(wallet).public_jwk)
    vault.store(citizen, [vault.Kept(BELASTING, "inkomen", credential, wallet, three_days_ago)])
    assert _state(client) == ("verlopen", "Verlopen. Vernieuw de kopie.")
    assert _marked(client) == ("Nu geldig?", True)
    client.cookies["django_language"] = "en"
    assert _state(client) == ("verlopen", "Expired. Refresh the copy.")
