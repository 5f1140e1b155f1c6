"""'Niet geldig' says why in plain words, and what to do next, for each kind of failure (issue 8, item 5)."""

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from blauweknop import document_types, keystore, pdf
from blauweknop.portal.models import CitizenEvent, WalletKey
from blauweknop.portal.verification import status_lists
from blauweknop.protocol import sdjwt, sdjwt_vc, status_list
from blauweknop.protocol.encoding import b64url_decode, b64url_encode
from blauweknop.protocol.jwk import SigningKey, generate_jwk, thumbprint
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme import publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation

from .conftest import BELASTING
from .test_printed_copy import download

pytestmark = pytest.mark.django_db(transaction=True)


def issued_by_the_tax_office(*, days_ago: int, valid_days: int, key: SigningKey | None = None, iss: str = "") -> str:
    """An income copy signed ``days_ago`` (by the tax office's own key, unless ``key``), all fields shown."""
    scheme = async_to_sync(scheme_client.current)()
    credential = sdjwt_vc.issue(
        {"belastingjaar": 2025},
        key or keystore.signing_key(BELASTING),
        iss=iss or scheme.organisations[BELASTING].endpoints["issuer"],
        vct=document_types.of(scheme).get("inkomen").vct,
        valid_for=valid_days * 24 * 3600,
        now=int((timezone.now() - timedelta(days=days_ago)).timestamp()),
    )
    return sdjwt_vc.present(credential, ["belastingjaar"])


def check(client, content: bytes, name: str = "kopie.sdjwt"):
    return client.post("/controleren/", {"bestand": SimpleUploadedFile(name, content)})


def verdict_of(response) -> str:
    html = response.content.decode()
    assert response.status_code == 200
    assert "Echt en geldig" not in html
    start = html.index('data-verdict="') + len('data-verdict="')
    return html[start : html.index('"', start)]


def test_it_says_a_copy_changed_after_signing_was_changed(citizen):
    jwt, rest = download(citizen, "sdjwt").decode().split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["exp"] += 365 * 24 * 3600  # made to look valid for a year longer
    changed = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature]) + "~" + rest
    response = check(citizen, changed.encode())
    assert verdict_of(response) == "changed"
    assert "veranderd nadat de organisatie de kopie ondertekende" in response.content.decode()


def test_it_says_a_pdf_changed_after_signing_was_changed(citizen):
    document = bytearray(download(citizen, "pdf"))
    at = document.index(b"/Producer")  # one byte inside the signed range
    document[at + 2] ^= 0x01
    assert verdict_of(check(citizen, bytes(document), "kopie.pdf")) == "changed"


def test_it_says_a_copy_from_outside_the_scheme_is_not_from_a_participating_organisation(client, demo_world):
    stranger = SigningKey(generate_jwk())
    copy = issued_by_the_tax_office(days_ago=0, valid_days=1, key=stranger, iss="https://nep.example/belasting")
    response = check(client, copy.encode())
    assert verdict_of(response) == "not_participating"
    assert "niet van een organisatie die meedoet" in response.content.decode()


def test_it_says_a_pdf_signed_by_a_stranger_is_not_from_a_participating_organisation(client, demo_world):
    stranger = SigningKey(generate_jwk())
    page = pdf.Page("Kopie", [], [("Jaar", "2025")], "Controleer dit.", "https://x.example/", "nl")
    copy = issued_by_the_tax_office(days_ago=0, valid_days=1, key=stranger, iss="https://nep.example/belasting")
    document = pdf.make(page, copy, stranger, signer_name="Belastingkantoor Voorbeeldland", oin=BELASTING)
    assert verdict_of(check(client, document, "kopie.pdf")) == "not_participating"


def test_it_says_an_expired_copy_expired(client, demo_world):
    response = check(client, issued_by_the_tax_office(days_ago=3, valid_days=1).encode())
    assert verdict_of(response) == "expired"
    assert "Deze kopie is verlopen" in response.content.decode()


@pytest.mark.parametrize("kind", ["sdjwt", "pdf"])
def test_it_says_a_copy_of_a_suspended_organisation_no_longer_counts(citizen, kind):
    copy = download(citizen, kind)
    Organisation.objects.filter(oin=BELASTING).update(certification=Organisation.Certification.SUSPENDED)
    publication.publish()
    scheme_client.forget()  # as if the refresh interval had passed
    response = check(citizen, copy, f"kopie.{kind}")
    # A PDF of a suspended holder was called a stranger's ("we weten niet wie deze kopie maakte").
    assert verdict_of(response) == "organisation_withdrawn"
    assert "geschorst of gestopt" in response.content.decode()


@pytest.mark.parametrize("content", [b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln~", b"%PDF-1.7\n% kapot\n"], ids=["sdjwt", "pdf"])
def test_it_says_an_unreadable_file_cannot_be_read(client, demo_world, content):
    response = check(client, content)
    assert verdict_of(response) == "unreadable"
    assert "We kunnen dit bestand niet lezen" in response.content.decode()


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_it_calls_a_json_or_csv_download_unsealed_not_fake(citizen, kind):
    response = check(citizen, download(citizen, kind), f"inkomen.{kind}")
    html = response.content.decode()
    assert verdict_of(response) == "no_seal"
    assert "Dit bestand heeft geen zegel" in html and "Dat betekent niet dat het nep is" in html
    assert "Niet geldig" not in html and 'role="alert"' not in html


def test_every_verdict_says_what_to_do_next(client, demo_world):
    response = check(client, issued_by_the_tax_office(days_ago=3, valid_days=1).encode())
    assert "Wat kunt u doen?" in response.content.decode()


def test_a_check_by_upload_shows_on_the_citizens_own_record(citizen, citizen_bsn, client):
    copy = download(citizen, "sdjwt")
    wallet_jwk = json.loads(b64url_decode(copy.decode().split(".")[1]))["cnf"]["jwk"]
    # Whose wallet key it is, as the portal remembers it when the copies are fetched.
    WalletKey.objects.get_or_create(
        thumbprint=thumbprint(wallet_jwk),
        defaults={"citizen": pseudonym(citizen_bsn), "expires_at": timezone.now() + timedelta(days=1)},
    )
    assert "Echt en geldig" in check(client, copy).content.decode()
    checks = CitizenEvent.objects.filter(activity=CitizenEvent.Activity.CHECKED)
    assert list(checks.values_list("citizen", "holder_oin", "document_type")) == [
        (pseudonym(citizen_bsn), BELASTING, "inkomen")
    ]


def test_it_checks_a_copy_bound_to_no_usable_wallet_key_without_a_server_error(client, demo_world):
    # A certified holder's copy whose cnf names a key without its point: the check is tied to nobody.
    scheme = async_to_sync(scheme_client.current)()
    now = int(timezone.now().timestamp())
    plain = {
        "iss": scheme.organisations[BELASTING].endpoints["issuer"],
        "vct": document_types.of(scheme).get("inkomen").vct,
        "iat": now,
        "exp": now + 3600,
        "cnf": {"jwk": {"kty": "EC", "crv": "P-256"}},
    }
    credential = sdjwt.issue(
        {**plain, "belastingjaar": 2025}, keystore.signing_key(BELASTING), typ=sdjwt_vc.TYP, visible=plain
    )
    response = check(client, sdjwt_vc.present(credential, ["belastingjaar"]).encode())
    assert response.status_code == 200 and "Echt en geldig" in response.content.decode()
    assert not CitizenEvent.objects.exists()


def test_it_says_a_suspended_copy_is_not_valid_for_now(citizen, client, monkeypatch):
    # The demo holders only withdraw; a holder that suspends (status 2) publishes a list of 2-bit statuses.
    copy = download(citizen, "sdjwt")
    reference = json.loads(b64url_decode(copy.decode().split(".")[1]))["status"]["status_list"]
    statuses = status_list.StatusList(reference["idx"] + 1, bits=2)
    statuses.set(reference["idx"], status_list.SUSPENDED)
    scheme = async_to_sync(scheme_client.current)()
    token = status_list.sign(
        statuses,
        keystore.signing_key(BELASTING),
        uri=reference["uri"],
        iss=scheme.organisations[BELASTING].endpoints["issuer"],
    )
    monkeypatch.setattr(status_lists, "_fetch", lambda uri: token)
    response = check(client, copy)
    assert verdict_of(response) == "suspended"
    assert "tijdelijk niet geldig" in response.content.decode()
