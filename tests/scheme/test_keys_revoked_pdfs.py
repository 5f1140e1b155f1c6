"""A PDF signed with a key the scheme revoked fails with key_revoked, on the verify page and in the CLI.

A PDF names no kid: its signer is known by its key's thumbprint. A revoked key leaves the scheme document's
jwks, so the document lists the thumbprints of revoked keys too (``revoked_thumbprints``). Real keys, the demo
world behind a live server; the portal (an app manager) and a holder rotate and revoke.
"""

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from blauweknop import keystore, pdf
from blauweknop.cli import main
from blauweknop.protocol.jwk import SigningKey, generate_jwk, thumbprint
from blauweknop.scheme import keys, publication
from blauweknop.scheme.client import scheme_client
from blauweknop.scheme.models import Organisation
from tests.scheme.test_keys_rotation import BELASTING, _issue, _new_key, bsn, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
OTHER_APP_MANAGER = "00000009555666777000"
REVOKED_WORDS = "sleutel waarmee de organisatie deze kopie ondertekende, is ingetrokken"


def _page() -> pdf.Page:
    return pdf.Page(title="Schuldenoverzicht", lines=["Test"], rows=[], check_text="", verify_url="", language="nl")


def _bundle(copy: str, key: SigningKey, oin: str) -> bytes:
    """A PDF an app manager signed, holding one holder's copy: as the portal's debt overview is made."""
    part = pdf.Attachment("belastingkantoor.sdjwt", copy.encode("ascii"), "application/dc+sd-jwt", "Belastingkantoor")
    return pdf.make_with(_page(), [part], key, signer_name="Appbeheerder", oin=oin)


def _holder_pdf(copy: str, key: SigningKey) -> bytes:
    return pdf.make(_page(), copy, key, signer_name="Belastingkantoor", oin=BELASTING)


def _pdf_verdict(client, data: bytes) -> str:
    """What the verify page says of an uploaded PDF: a bundle whose parts it checked, valid, or the refusal."""
    response = client.post("/controleren/", {"bestand": SimpleUploadedFile("kopie.pdf", data)})
    html = response.content.decode()
    assert response.status_code == 200
    if "data-part-verdict=" in html:
        return "bundle"
    if "Echt en geldig" in html:
        return "valid"
    assert 'data-verdict="key_revoked"' not in html or REVOKED_WORDS in html
    start = html.index('data-verdict="') + len('data-verdict="')
    return html[start : html.index('"', start)]


def _cli(world, tmp_path, capsys, data: bytes) -> dict:  # noqa: F811
    (tmp_path / "kopie.pdf").write_bytes(data)
    scheme = f"{world.url}/stelsel/api/v1/stelseldocument"
    code = main(["verify", str(tmp_path / "kopie.pdf"), "--scheme-document", scheme, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (code == 0) == report["valid"]
    return report


def _rotate(tmp_path, owner: str) -> SigningKey:
    """``owner``'s next key becomes current after its notice; the old one is retiring."""
    new = _new_key(tmp_path, owner)
    added = keys.add(owner, new.public_jwk, actor="beheerder")
    assert f"{owner}/{new.kid} current" in keys.rotate_due(added.usable_from)
    scheme_client.forget()
    return new


def _another_app_manager() -> SigningKey:
    """A second certified app manager in the scheme, with a key whose kid is not its thumbprint."""
    Organisation.objects.create(
        oin=OTHER_APP_MANAGER, name="Andere app", slug="andere-app", is_app_manager=True, base_url="https://app.example"
    )
    key = SigningKey({**generate_jwk(), "kid": "andere-app-1"})
    keys.add(OTHER_APP_MANAGER, key.public_jwk, actor="beheerder")
    publication.publish()
    scheme_client.forget()
    return key


def test_a_pdf_signed_with_the_portals_revoked_key_fails_with_key_revoked_and_others_still_verify(
    world,  # noqa: F811 (a fixture)
    bsn,  # noqa: F811 (a fixture)
    tmp_path,
    client,
    capsys,
):
    portal = settings.PORTAL_OIN
    stolen = keystore.signing_key(portal)
    copy = _issue(world, bsn)
    printed_before = _bundle(copy, stolen, portal)
    other_key = _another_app_manager()
    of_the_other = _bundle(copy, other_key, OTHER_APP_MANAGER)
    new = _rotate(tmp_path, portal)
    # Retiring, not revoked: what it signed still counts, as does the other app manager's PDF.
    assert _pdf_verdict(client, printed_before) == "bundle"
    assert _pdf_verdict(client, of_the_other) == "bundle"

    keys.revoke(portal, stolen.kid, actor="beheerder", reason="De sleutel is gestolen.")
    scheme_client.forget()
    assert _pdf_verdict(client, printed_before) == "key_revoked"
    report = _cli(world, tmp_path, capsys, printed_before)
    assert report["code"] == "key_revoked" and "revoked" in report["message"]
    assert _pdf_verdict(client, of_the_other) == "bundle"
    assert _pdf_verdict(client, _bundle(copy, new, portal)) == "bundle"


def test_a_holders_pdf_signed_with_its_revoked_key_fails_with_key_revoked_and_a_retiring_keys_verifies(
    world,  # noqa: F811 (a fixture)
    bsn,  # noqa: F811 (a fixture)
    tmp_path,
    client,
    capsys,
):
    stolen = keystore.signing_key(BELASTING)
    before = _holder_pdf(_issue(world, bsn), stolen)
    new = _rotate(tmp_path, BELASTING)
    after = _holder_pdf(_issue(world, bsn), new)
    assert _pdf_verdict(client, before) == "valid" and _cli(world, tmp_path, capsys, before)["valid"]

    keys.revoke(BELASTING, stolen.kid, actor="beheerder", reason="Verloren laptop.")
    scheme_client.forget()
    assert thumbprint(stolen.public_jwk) in scheme_client.in_hand().revoked_thumbprints()
    assert _pdf_verdict(client, before) == "key_revoked"
    report = _cli(world, tmp_path, capsys, before)
    assert report["code"] == "key_revoked"
    assert _pdf_verdict(client, after) == "valid" and _cli(world, tmp_path, capsys, after)["valid"]
