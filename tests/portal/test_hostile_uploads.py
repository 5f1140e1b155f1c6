"""Broken, hostile and bomb uploads: a refusal with a code, never a 500, in bounded memory (issue 6, items 8-9)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blauweknop import keystore, pdf
from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.encoding import json_dumps
from blauweknop.protocol.jwk import KeySet, SigningKey, generate_jwk
from blauweknop.scheme import catalogue
from blauweknop.scheme.models import Organisation

from ..protocol.hostile import VALUES, disclosure_text, mutated, refused_or_accepted, sign_text
from .conftest import BELASTING
from .hostile_pdfs import from_a_rogue_holder, in_a_thread, malformed, signed_pdf

ISS = "https://gemeente.example/blauweknop"
VCT = "https://stelsel.blauweknop.example/vct/persoonsgegevens/1"
MALFORMED = (
    "truncated",
    "only_a_header",
    "garbage_after_the_header",
    "unsigned",
    "xref_points_nowhere",
    "nested_100000_deep",
    "signature_zeroed",
    "signed_with_p384",
    "signed_by_a_stranger",
)
ROGUE = ("attachment_inflates_to_64_mib", "attachment_not_ascii", "no_attachment")


def _page() -> pdf.Page:
    return pdf.Page("Kopie", ["Van: Gemeente"], [("Naam", "Sem")], "Controleer dit.", "https://x.example/", "nl")


@pytest.fixture(scope="module")
def holder() -> SigningKey:
    return SigningKey(generate_jwk())


@pytest.fixture(scope="module")
def genuine(holder) -> bytes:
    credential = sdjwt_vc.issue({"naam": "Sem"}, holder, iss=ISS, vct=VCT)
    return in_a_thread(pdf.make, _page(), credential, holder, signer_name="Gemeente", oin=BELASTING)


@pytest.fixture(scope="module")
def hostile(genuine, holder) -> dict[str, bytes]:
    return {**malformed(genuine), **from_a_rogue_holder(holder.cryptography_key)}


def _check(data: bytes, holder: SigningKey) -> sdjwt_vc.VerifiedCredential:
    keys = KeySet([holder.public_jwk])

    def verify(presentation: str) -> sdjwt_vc.VerifiedCredential:
        return sdjwt_vc.verify(presentation, keys, status_lists=None, require_key_binding=False)

    return in_a_thread(pdf.check, data, verify, signers=keys.thumbprints())


def test_a_genuine_pdf_passes(genuine, holder):
    assert _check(genuine, holder).claims == {"naam": "Sem"}


def test_an_eddsa_holders_pdf_passes():
    ed = SigningKey(generate_jwk("EdDSA"))
    made = in_a_thread(
        pdf.make, _page(), sdjwt_vc.issue({"naam": "Sem"}, ed, iss=ISS, vct=VCT), ed, signer_name="G", oin=BELASTING
    )
    assert _check(made, ed).claims == {"naam": "Sem"}


@pytest.mark.parametrize("name", MALFORMED + ROGUE)
def test_it_refuses_a_broken_or_hostile_pdf_with_a_code_in_bounded_memory(hostile, holder, name):
    refusal = refused_or_accepted(lambda: _check(hostile[name], holder))
    assert refusal is not None and refusal.code in ("malformed", "bad_signature", "alg_not_allowed", "unknown_key")


def test_it_checks_the_signer_before_it_decodes_anything_inside(holder):
    # The stranger's attachment would inflate to 64 MiB; it is never even opened.
    bomb = from_a_rogue_holder(SigningKey(generate_jwk()).cryptography_key)["attachment_inflates_to_64_mib"]
    refusal = refused_or_accepted(lambda: _check(bomb, holder))
    assert refusal is not None and refusal.code == "unknown_key"


# --- the verify page ---------------------------------------------------------------------------


def _upload(client, content: bytes, name: str):
    return client.post("/controleren/", {"bestand": SimpleUploadedFile(name, content)})


@pytest.fixture
def demo_holder(demo_world) -> tuple[SigningKey, str]:
    return keystore.signing_key(BELASTING), Organisation.objects.get(oin=BELASTING).issuer_url


@pytest.mark.django_db(transaction=True)
def test_the_page_answers_every_broken_or_hostile_pdf_in_plain_words(client, hostile, demo_holder):
    # A P-384 signature and broken PDFs were answered with a 500 before.
    rogue = from_a_rogue_holder(demo_holder[0].cryptography_key)
    for name, content in {**{n: hostile[n] for n in MALFORMED}, **rogue}.items():
        response = _upload(client, content, f"{name}.pdf")
        page = response.content.decode()
        assert response.status_code in (200, 400), name
        assert "Echt en geldig" not in page and "Niet geldig" in page, name


@pytest.mark.django_db(transaction=True)
def test_the_page_refuses_a_stranger_before_decoding_the_attachment(client, demo_holder):
    stranger = SigningKey(generate_jwk())
    credential = sdjwt_vc.issue({"naam": "Sem"}, stranger, iss=demo_holder[1], vct=VCT)
    page = _upload(client, signed_pdf(stranger.cryptography_key, attachment=credential.encode()), "k.pdf")
    assert 'data-verdict="not_participating"' in page.content.decode()


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_no_signed_hostile_copy_makes_the_page_fail(client, demo_holder, data):
    # Signed by a holder in the scheme, of a type the page shows field by field, with any values.
    key, iss = demo_holder
    document_type = data.draw(st.sampled_from(sorted(catalogue.document_types().values(), key=lambda t: t.id)))
    names = sorted({field.path.split(".")[0] for field in document_type.fields})
    shown = [disclosure_text(f'["c2FsdHNhbHRzYWx0",{json.dumps(name)},{data.draw(VALUES)}]') for name in names]
    base = {
        "iss": iss,
        "vct": document_type.vct,
        "iat": 1_700_000_000,
        "exp": 4_000_000_000,
        "_sd_alg": "sha-256",
        "_sd": [sdjwt.digest(d) for d in shown],
    }
    # Half the time only the values are hostile, so the page gets as far as showing them.
    token = sign_text(data.draw(st.one_of(st.just(json_dumps(base)), mutated(base))), key, sdjwt_vc.TYP)
    response = _upload(client, "~".join([token, *shown, ""]).encode(), "kopie.sdjwt")
    assert response.status_code == 200
