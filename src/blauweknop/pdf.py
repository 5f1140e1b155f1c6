"""The human-readable copy: a PDF signed by the holder (PAdES) with the credential inside.

What a person reads on paper can be edited; what counts is inside: the signed credential
(``gegevens.sdjwt``) and the holder's PDF signature over everything. The PDF says how to check it.
Framework-free: the holder app makes these, the verify page and the command line read them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
import reportlab
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.embed import EmbeddedFileObject, EmbeddedFileParams, FileSpec, embed_file
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from blauweknop.protocol.encoding import b64url_encode
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.jwk import SigningKey, thumbprint
from blauweknop.protocol.sdjwt_vc import VerifiedCredential

ATTACHMENT = "gegevens.sdjwt"
PDF_MAGIC = b"%PDF-"

# Bitstream Vera ships with reportlab, is embedded as a subset, and has ë, é and €.
_FONTS = Path(reportlab.__file__).parent / "fonts"
pdfmetrics.registerFont(TTFont("Vera", str(_FONTS / "Vera.ttf")))
pdfmetrics.registerFont(TTFont("Vera-Bold", str(_FONTS / "VeraBd.ttf")))


@dataclass(frozen=True)
class Page:
    """Everything a person reads on the PDF, already in their language."""

    title: str
    lines: list[str]  # who issued it, when, and about what
    rows: list[tuple[str, str]]  # label, value
    check_text: str  # how to check that it is genuine
    verify_url: str
    language: str


def _render(page: Page) -> bytes:
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=page.title,
        lang=page.language,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    styles = getSampleStyleSheet()
    heading = styles["Title"].clone("h1", fontName="Vera-Bold", alignment=0)
    body = styles["BodyText"].clone("body", fontName="Vera", fontSize=11, leading=15)
    strong = body.clone("strong", fontName="Vera-Bold")
    table = Table(
        [[Paragraph(escape(label), strong), Paragraph(escape(value), body)] for label, value in page.rows],
        colWidths=[65 * mm, 105 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef3f8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    code = io.BytesIO()
    qrcode.make(page.verify_url, box_size=8, border=2).save(code, format="PNG")
    code.seek(0)
    story = [Paragraph(escape(page.title), heading), Spacer(1, 4 * mm)]
    story += [Paragraph(escape(line), body) for line in page.lines]
    story += [Spacer(1, 6 * mm), table, Spacer(1, 8 * mm)]
    story.append(
        KeepTogether(
            [
                Paragraph(escape(page.check_text), body),
                Paragraph(escape(page.verify_url), strong),
                Spacer(1, 3 * mm),
                Image(code, width=35 * mm, height=35 * mm, hAlign="LEFT"),
            ]
        )
    )
    document.build(story)
    return out.getvalue()


def _certificate(key: SigningKey, name: str, oin: str) -> tuple[asn1_keys.PrivateKeyInfo, asn1_x509.Certificate]:
    """A self-signed certificate for the holder's own signing key.

    Trust does not come from this certificate but from its key: a verifier accepts the PDF only
    when that key is one of the holder's keys in the scheme document.
    """
    private = key.cryptography_key
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, oin),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_cert_sign=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    der_key = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der_certificate = certificate.public_bytes(serialization.Encoding.DER)
    return asn1_keys.PrivateKeyInfo.load(der_key), asn1_x509.Certificate.load(der_certificate)


def make(page: Page, credential: str, key: SigningKey, *, signer_name: str, oin: str) -> bytes:
    """Render ``page``, embed ``credential`` and sign the whole as ``signer_name`` (PAdES B-B)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(_render(page)))
    embedded = EmbeddedFileObject.from_file_data(
        writer,
        data=credential.encode("ascii"),
        mime_type="application/dc+sd-jwt",
        params=EmbeddedFileParams(embed_size=True, embed_checksum=True),
    )
    # Embedded before signing, in the same update: the signature covers the credential too.
    embed_file(
        writer,
        FileSpec(
            file_spec_string=ATTACHMENT,
            file_name=ATTACHMENT,
            embedded_data=embedded,
            description="Gewaarmerkte kopie (SD-JWT VC)",
        ),
    )
    private, certificate = _certificate(key, signer_name, oin)
    signer = signers.SimpleSigner(
        signing_cert=certificate, signing_key=private, cert_registry=SimpleCertificateStore.from_certs([certificate])
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="Handtekening",
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=page.title,
        name=signer_name,
        location="Nederland",
    )
    out = io.BytesIO()
    signers.PdfSigner(metadata, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` looks like a PDF file."""
    return data.startswith(PDF_MAGIC)


def embedded_credential(data: bytes) -> str:
    """The credential inside a PDF made by :func:`make`."""
    try:
        names = PdfFileReader(io.BytesIO(data)).root["/Names"]["/EmbeddedFiles"]["/Names"]
        files = {
            str(names[i]): names[i + 1].get_object()["/EF"]["/F"].get_object().data for i in range(0, len(names), 2)
        }
        return files[ATTACHMENT].decode("ascii").strip()
    except Exception as exc:  # a PDF can be broken in more ways than pyHanko has exception types
        raise VerificationError("malformed", "This PDF holds no certified copy.") from exc


def signer_thumbprint(data: bytes) -> str:
    """Check the PDF's signature covers the whole, untouched file; return the signing key's thumbprint.

    The caller decides whether that key is trusted (one of the issuer's keys in the scheme).
    """
    try:
        reader = PdfFileReader(io.BytesIO(data))
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            raise VerificationError("bad_signature", "The PDF does not carry exactly one signature.")
        signature = signatures[0]
        context = ValidationContext(trust_roots=[signature.signer_cert], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except (SignatureValidationError, ValueError, KeyError) as exc:
        raise VerificationError("bad_signature", "The signature of the PDF cannot be checked.") from exc
    if not (status.intact and status.valid) or status.coverage.name != "ENTIRE_FILE":
        raise VerificationError("bad_signature", "The PDF was changed after it was signed.")
    public = serialization.load_der_public_key(signature.signer_cert.public_key.dump())
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise VerificationError("alg_not_allowed", "The PDF is signed with a kind of key holders do not use.")
    numbers = public.public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }
    return thumbprint(jwk)


def check(data: bytes, verify: Callable[[str], VerifiedCredential]) -> VerifiedCredential:
    """Verify a PDF copy: its signature, the credential inside (with ``verify``), and that one key made both."""
    signer = signer_thumbprint(data)
    result = verify(embedded_credential(data))
    if signer != thumbprint(result.issuer_key.jwk):
        raise VerificationError("bad_signature", "The PDF was not signed by the maker of the copy inside.")
    return result
