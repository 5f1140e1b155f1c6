"""The debt bundle's PDF on the verify page: signed by the portal, each part checked as its own upload."""

import io
import re
import zipfile
from html import unescape

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from blauweknop import keystore, pdf
from blauweknop.holder.models import SourceRecord
from blauweknop.portal import verify
from blauweknop.protocol.jwk import thumbprint

from ..protocol.hostile import refused_or_accepted
from .hostile_pdfs import MiB, from_a_rogue_holder, in_a_thread, signed_pdf
from .test_debt_page import _download, _logged_in, _press, debtors, scheme_document_name  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

COMPILED = "Dit is een overzicht dat De Blauwe Knop heeft samengesteld uit gegevens van verschillende organisaties."
UNCHANGED = "De Blauwe Knop heeft het bestand ondertekend: het is na het maken niet veranderd."
EACH_OWN_PART = "Elke organisatie staat in voor haar eigen deel."


@pytest.fixture
def made(debtors):  # noqa: F811
    """A citizen's bundle, made through the debt page after pressing at two holders: its PDF and parts."""
    holders, (bsn, _other) = debtors
    client = _logged_in(bsn)
    _press(client, *holders)
    response = _download(client)
    assert response.status_code == 200
    files = zipfile.ZipFile(io.BytesIO(response.content))
    (name,) = [n for n in files.namelist() if n.endswith(".pdf")]
    parts = [files.read(n) for n in files.namelist() if n.endswith(".sdjwt")]
    return client, holders, bsn, files.read(name), parts


def _checked(client, content, name="schuldenoverzicht.pdf"):
    response = client.post("/controleren/", {"bestand": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    return unescape(response.content.decode())


def _part_verdicts(page):
    """Per part on the page: the organisation it names and the kind of verdict."""
    found = re.findall(r'data-part-organisation="([^"]*)" data-part-verdict="([^"]*)"', page)
    return dict(found)


def test_the_bundle_pdf_is_called_a_compiled_overview_and_each_part_is_checked(made):
    client, holders, _bsn, printed, _parts = made
    page = _checked(client, printed)
    assert "Niet geldig" not in page and "Deze kopie komt niet van een organisatie" not in page
    assert COMPILED in page and UNCHANGED in page and EACH_OWN_PART in page
    assert _part_verdicts(page) == {scheme_document_name(oin): "valid" for oin in holders}
    assert page.count("Echt en geldig") == 2


def test_a_part_withdrawn_at_its_holder_since_shows_as_superseded(made):
    client, holders, bsn, printed, _parts = made
    changed, kept = holders
    record = SourceRecord.objects.get(holder_oin=changed, document_type="vorderingen", bsn=bsn)
    debts = record.data["vorderingen"]
    record.data = {**record.data, "vorderingen": [{**debts[0], "omschrijving": "Nu anders"}, *debts[1:]]}
    record.save()
    _press(client, changed)  # the holder withdraws the old copy: its data changed
    verdicts = _part_verdicts(_checked(client, printed))
    assert verdicts == {scheme_document_name(changed): "superseded", scheme_document_name(kept): "valid"}


def test_it_refuses_a_bundle_pdf_changed_after_the_portal_signed_it(made):
    client, _holders, _bsn, printed, _parts = made
    changed = printed.replace(b"Schuldenoverzicht", b"Schuldenoverzichx", 1)
    assert changed != printed
    page = _checked(client, changed)
    assert 'data-verdict="changed"' in page and COMPILED not in page and "data-part-verdict" not in page


def test_it_refuses_a_pdf_with_genuine_parts_signed_by_a_key_outside_the_scheme(made):
    client, _holders, _bsn, _printed, parts = made
    stranger = signed_pdf(ec.generate_private_key(ec.SECP256R1()), attachment=parts[0])
    page = _checked(client, stranger)
    assert 'data-verdict="not_participating"' in page and "Niet geldig" in page
    assert COMPILED not in page and "data-part-verdict" not in page


def test_the_bundle_verdict_speaks_english(made):
    client, holders, _bsn, printed, _parts = made
    client.cookies["django_language"] = "en"
    page = _checked(client, printed)
    assert "Each organisation vouches for its own part." in page and COMPILED not in page
    assert _part_verdicts(page) == {scheme_document_name(oin): "valid" for oin in holders}


def _signed_by_the_portal(files: list[tuple[str, bytes]]) -> bytes:
    """A PDF the portal's key signed, holding ``files``: what a bundle made by a rogue copy of the portal looks like."""
    page = pdf.Page("Schuldenoverzicht", [], [], "Controleer dit.", "https://x.example/", "nl")
    attachments = [pdf.Attachment(name, data, "application/dc+sd-jwt", "Gemeente") for name, data in files]
    key = keystore.signing_key(settings.PORTAL_OIN)
    return in_a_thread(pdf.make_with, page, attachments, key, signer_name="De Blauwe Knop", oin=settings.PORTAL_OIN)


def _portal_signed_hostile() -> dict[str, bytes]:
    rogue = from_a_rogue_holder(keystore.signing_key(settings.PORTAL_OIN).cryptography_key)
    return {
        **rogue,
        "too_many_parts": _signed_by_the_portal([(f"{i}.sdjwt", b"x~") for i in range(verify.MAX_PARTS + 1)]),
        "a_part_too_large": _signed_by_the_portal([("groot.sdjwt", b"a" * (verify.MAX_PART + 1))]),
        "garbage_parts": _signed_by_the_portal(
            [("rommel.sdjwt", bytes(range(256))), ("leeg.sdjwt", b""), ("vorm.sdjwt", b"a.b.c~~~"), ("x", b"~")]
        ),
    }


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("attachment_inflates_to_64_mib", "malformed"),
        ("no_attachment", "malformed"),
        ("too_many_parts", "malformed"),
        ("a_part_too_large", "malformed"),
    ],
)
def test_it_refuses_a_hostile_bundle_pdf_with_a_code_in_bounded_memory(demo_world, name, code):
    content = _portal_signed_hostile()[name]
    portal = {thumbprint(keystore.signing_key(settings.PORTAL_OIN).public_jwk)}

    def check() -> list[pdf.Attachment]:
        return pdf.check_bundle(content, signers=portal, max_parts=verify.MAX_PARTS, max_size=verify.MAX_PART)

    refusal = refused_or_accepted(check)
    assert refusal is not None and refusal.code == code
    assert len(content) < 2 * MiB  # small enough to upload: the page must answer it


def test_the_page_answers_every_hostile_bundle_pdf_in_plain_words(client, demo_world):
    for name, content in _portal_signed_hostile().items():
        response = client.post("/controleren/", {"bestand": SimpleUploadedFile(f"{name}.pdf", content)})
        page = unescape(response.content.decode())
        assert response.status_code == 200, name
        assert "Echt en geldig" not in page and "Niet geldig" in page, name
