"""The human-readable copy: a PDF signed by the holder (PAdES) with the credential inside.

What a person reads on paper can be edited; what counts is inside: the signed credential
(``gegevens.sdjwt``) and the holder's PDF signature over everything. The PDF says how to check it.
Framework-free: the holder app makes these, the verify page and the command line read them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import qrcode
import reportlab
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits
from pyhanko.pdf_utils.embed import EmbeddedFileObject, EmbeddedFileParams, FileSpec, embed_file
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from blauweknop.protocol.encoding import b64url_encode
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.jwk import SigningKey, thumbprint
from blauweknop.protocol.sdjwt_vc import VerifiedCredential

ATTACHMENT = "gegevens.sdjwt"
PDF_MAGIC = b"%PDF-"
MAX_STREAM = 2 * 1024 * 1024  # bytes any one stream may inflate to; a certified copy is a few tens of kB
# A hostile PDF of 1 MB can hold a stream that inflates to 1 GB. Reading a PDF for checking never
# needs a big stream, so every stream is capped, and so is the total decoded per document.
_DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_output_size=MAX_STREAM),
    document_budget=DocumentDecodeBudget(base_allowance=4 * MAX_STREAM, max_ratio=2),
)

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
    verify_url: str  # printed as text and as a QR code
    language: str
    code_text: str = ""  # the copy's check code, when it has one ("Controlecode: XXXX-XXXX-XXXX")
    page_text: str = "pagina %(page)d van %(pages)d"  # the page number at the foot of every page
    parts: list[Part] = field(default_factory=list)  # more sections after the rows, e.g. one per source


@dataclass(frozen=True)
class Part:
    """A section of a page with its own heading, sentences and tables of rows, e.g. what one source said."""

    heading: str
    lines: list[str]
    tables: list[list[tuple[str, str]]]  # e.g. one per debt; each row a label and a value


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF before it is signed, so that the signature covers it."""

    name: str
    data: bytes
    mime_type: str
    description: str


# The Blauwe Knop mark, as static/blauweknop/mark.svg draws it: three discs, as fractions of its radius.
MARK_DISCS = ((1.0, colors.HexColor("#154c8f")), (0.72, colors.white), (0.52, colors.HexColor("#3d7cc9")))
MARK_SIZE = 16 * mm
MARGIN = 20 * mm
# The mark sits in the top margin, above the text of every page, so it never covers any of it.
MARK_TOP = 8 * mm  # from the top edge of the page
TOP_MARGIN = MARK_TOP + MARK_SIZE + 4 * mm
FOOTER_Y = 10 * mm  # the page number's baseline, in the bottom margin
QR_SIZE = 35 * mm


def _draw_mark(canvas: Canvas, x: float, y: float, size: float = MARK_SIZE) -> None:
    """The Blauwe Knop mark with its lower left corner at ``x``, ``y``: round at any size."""
    radius = size / 2
    canvas.saveState()
    for fraction, colour in MARK_DISCS:
        canvas.setFillColor(colour)
        canvas.circle(x + radius, y + radius, radius * fraction, stroke=0, fill=1)
    canvas.restoreState()


def _mark_on_page(canvas: Canvas, document: SimpleDocTemplate) -> None:
    """Every page carries the mark in its top right corner, in the margin above the text."""
    width, height = document.pagesize
    _draw_mark(canvas, width - document.rightMargin - MARK_SIZE, height - MARK_TOP - MARK_SIZE)


def _numbered(footer: Callable[[int, int], str]) -> type[Canvas]:
    """A canvas that writes ``footer(page, pages)`` at the foot of every page, once it knows how many there are."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont("Vera", 9)
                self.drawString(MARGIN, FOOTER_Y, footer(number, len(self._pages)))
                super().showPage()
            super().save()

    return NumberedCanvas


def _table(rows: list[tuple[str, str]], strong: Any, body: Any) -> Table:
    table = Table(
        [[Paragraph(escape(label), strong), Paragraph(escape(value), body)] for label, value in rows],
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
    return table


def _render(page: Page) -> bytes:
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=page.title,
        lang=page.language,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP_MARGIN,
        bottomMargin=MARGIN,
    )
    styles = getSampleStyleSheet()
    heading = styles["Title"].clone("h1", fontName="Vera-Bold", alignment=0)
    body = styles["BodyText"].clone("body", fontName="Vera", fontSize=11, leading=15)
    strong = body.clone("strong", fontName="Vera-Bold")
    code = io.BytesIO()
    qrcode.make(page.verify_url, box_size=8, border=2).save(code, format="PNG")
    code.seek(0)
    # Who made it, until when it holds and how to check it come first, beside the QR code: a
    # reader who prints only the first page can still check the copy.
    about = [Paragraph(escape(line), body) for line in page.lines]
    about += [Spacer(1, 3 * mm), Paragraph(escape(page.check_text), body)]
    if page.code_text:
        about.append(Paragraph(escape(page.code_text), strong.clone("code", fontSize=14, leading=20)))
    header = Table(
        [[about, Image(code, width=QR_SIZE, height=QR_SIZE)]],
        colWidths=[document.width - QR_SIZE - 4 * mm, QR_SIZE + 4 * mm],
        style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)],
    )
    # The address on a line of its own, the page's full width: a long host name must not break the code.
    address = Paragraph(escape(page.verify_url), body.clone("address", fontSize=9))
    story = [Paragraph(escape(page.title), heading), Spacer(1, 2 * mm), header, address, Spacer(1, 6 * mm)]
    story += [_table(page.rows, strong, body)] if page.rows else []
    subheading = styles["Heading2"].clone("h2", fontName="Vera-Bold")
    for part in page.parts:
        story += [Paragraph(escape(part.heading), subheading)]
        story += [Paragraph(escape(line), body) for line in part.lines]
        for rows in part.tables:
            story += [Spacer(1, 3 * mm), _table(rows, strong, body)] if rows else []

    def footer(number: int, pages: int) -> str:
        numbered = page.page_text % {"page": number, "pages": pages}
        return f"{page.code_text}    {numbered}" if page.code_text else numbered

    document.build(story, onFirstPage=_mark_on_page, onLaterPages=_mark_on_page, canvasmaker=_numbered(footer))
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
        .sign(private, None if isinstance(private, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    der_key = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der_certificate = certificate.public_bytes(serialization.Encoding.DER)
    return asn1_keys.PrivateKeyInfo.load(der_key), asn1_x509.Certificate.load(der_certificate)


def make(page: Page, credential: str, key: SigningKey, *, signer_name: str, oin: str) -> bytes:
    """Render ``page``, embed ``credential`` and sign the whole as ``signer_name`` (PAdES B-B)."""
    copy = Attachment(ATTACHMENT, credential.encode("ascii"), "application/dc+sd-jwt", "Gewaarmerkte kopie (SD-JWT VC)")
    return make_with(page, [copy], key, signer_name=signer_name, oin=oin)


def make_with(page: Page, attachments: list[Attachment], key: SigningKey, *, signer_name: str, oin: str) -> bytes:
    """Render ``page``, embed ``attachments`` and sign the whole as ``signer_name`` (PAdES B-B)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(_render(page)))
    for attachment in attachments:
        embedded = EmbeddedFileObject.from_file_data(
            writer,
            data=attachment.data,
            mime_type=attachment.mime_type,
            params=EmbeddedFileParams(embed_size=True, embed_checksum=True),
        )
        # Embedded before signing, in the same update: the signature covers the attachments too.
        embed_file(
            writer,
            FileSpec(
                file_spec_string=attachment.name,
                file_name=attachment.name,
                embedded_data=embedded,
                description=attachment.description,
            ),
        )
    private, certificate = _certificate(key, signer_name, oin)
    signer = signers.SimpleSigner(
        signing_cert=certificate, signing_key=private, cert_registry=SimpleCertificateStore.from_certs([certificate])
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="Handtekening",
        md_algorithm="sha512" if key.alg == "EdDSA" else "sha256",  # Ed25519 signs over SHA-512 (RFC 8419)
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


@contextmanager
def _refused_as(code: str, message: str) -> Iterator[None]:
    """Turn whatever a broken or hostile PDF makes pyHanko raise into one refusal."""
    try:
        yield
    except ProtocolError:
        raise
    except Exception as exc:  # a PDF can be broken in more ways than pyHanko has exception types
        raise VerificationError(code, message) from exc


def _open(data: bytes) -> tuple[PdfFileReader, EmbeddedPdfSignature]:
    """The PDF's reader and its one signature, without decoding any stream the signature does not need."""
    with _refused_as("malformed", "This file is not a PDF that can be read."):
        reader = PdfFileReader(io.BytesIO(data), decode_limits=_DECODE_LIMITS)
        signatures = reader.embedded_signatures
    if len(signatures) != 1:
        raise VerificationError("bad_signature", "The PDF does not carry exactly one signature.")
    return reader, signatures[0]


def _signer_jwk(signature: EmbeddedPdfSignature) -> dict[str, str]:
    """The public JWK of the key in the signer's certificate, if it is of a kind holders use."""
    with _refused_as("bad_signature", "The signature of the PDF cannot be read."):
        public = serialization.load_der_public_key(signature.signer_cert.public_key.dump())
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        numbers = public.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    if isinstance(public, ed25519.Ed25519PublicKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public.public_bytes_raw())}
    raise VerificationError("alg_not_allowed", "The PDF is signed with a kind of key holders do not use.")


def _check_signature(signature: EmbeddedPdfSignature) -> None:
    """Refuse unless the signature is intact and covers the whole, untouched file."""
    with _refused_as("bad_signature", "The signature of the PDF cannot be checked."):
        context = ValidationContext(trust_roots=[signature.signer_cert], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    if not (status.intact and status.valid) or status.coverage.name != "ENTIRE_FILE":
        raise VerificationError("bad_signature", "The PDF was changed after it was signed.")


def _attachment(reader: PdfFileReader) -> str:
    """The text of the attachment :data:`ATTACHMENT`; only that stream is decoded, within the limits."""
    with _refused_as("malformed", "This PDF holds no certified copy."):
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        found = [names[i + 1] for i in range(0, len(names) - 1, 2) if names[i] == ATTACHMENT]
        if len(found) != 1:
            raise VerificationError("malformed", "This PDF holds no certified copy.")
        return found[0].get_object()["/EF"]["/F"].get_object().data.decode("ascii").strip()


def signer(data: bytes) -> str:
    """The thumbprint of the key that signed the PDF, read from its certificate; the signature is not checked.

    Cheap (no stream is decoded): it tells which kind of PDF this claims to be before the costly checks.
    """
    return thumbprint(_signer_jwk(_open(data)[1]))


def _embedded(reader: PdfFileReader, max_files: int, max_size: int) -> list[Attachment]:
    """Every embedded file, decoded within the limits; refused when there are none, too many or one too large."""
    with _refused_as("malformed", "This PDF holds no readable parts."):
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        if not 0 < len(names) <= 2 * max_files:
            raise VerificationError("malformed", "This PDF holds no parts, or too many.")
        found = []
        for i in range(0, len(names) - 1, 2):
            spec = names[i + 1].get_object()
            stream = spec["/EF"]["/F"].get_object()
            length = stream["/Length"]  # required in every stream
            if not isinstance(length, int) or length > max_size:  # refused before it is inflated
                raise VerificationError("malformed", "A part of this PDF is too large.")
            content = stream.data
            if len(content) > max_size:
                raise VerificationError("malformed", "A part of this PDF is too large.")
            description = spec["/Desc"] if "/Desc" in spec else ""  # noqa: SIM401 - get() would not follow a reference
            found.append(Attachment(str(names[i]), content, "", str(description)))
        return found


def check_bundle(data: bytes, *, signers: Collection[str], max_parts: int, max_size: int) -> list[Attachment]:
    """Check a PDF that bundles others' files (the portal's debt overview); return those files, unchecked.

    Refused unless one of ``signers`` signed the whole, untouched file, it holds 1 to ``max_parts`` files
    and none is larger than ``max_size`` bytes. The signer only vouches that nothing changed since it
    made the PDF: each file must still be checked on its own.
    """
    reader, signature = _open(data)
    if thumbprint(_signer_jwk(signature)) not in signers:
        raise VerificationError("unknown_key", "The PDF was not signed by an app manager in the scheme.")
    _check_signature(signature)
    return _embedded(reader, max_parts, max_size)


def signed_at(data: bytes) -> dt.datetime | None:
    """When the signer says it signed the PDF (its own clock); ``None`` if it does not say. Not checked here."""
    with _refused_as("bad_signature", "The signature of the PDF cannot be read."):
        return _open(data)[1].self_reported_timestamp


def embedded_credential(data: bytes) -> str:
    """The credential inside a PDF made by :func:`make`, unchecked: use :func:`check` to trust it."""
    return _attachment(_open(data)[0])


def signer_thumbprint(data: bytes) -> str:
    """Check the PDF's signature covers the whole, untouched file; return the signing key's thumbprint.

    The caller decides whether that key is trusted (one of the issuer's keys in the scheme).
    """
    signature = _open(data)[1]
    jwk = _signer_jwk(signature)
    _check_signature(signature)
    return thumbprint(jwk)


def check(
    data: bytes,
    verify: Callable[[str], VerifiedCredential],
    *,
    signers: Collection[str] | None,
    revoked: Collection[str] = (),
) -> VerifiedCredential:
    """Verify a PDF copy: its signature, the credential inside (with ``verify``), and that one key made both.

    ``signers`` are the thumbprints of the keys that may have signed it (the certified holders in
    the scheme). The signer is checked against them before anything inside the PDF is decoded, so
    a stranger's PDF costs no more than reading its signature. ``None`` only when the trusted keys
    can be learnt from the credential alone (its issuer's own metadata). ``revoked`` are the thumbprints
    of keys the scheme revoked (a holder's or an app manager's): a PDF signed with one fails with
    ``key_revoked``, as a copy naming a revoked kid does, and not as a stranger's.
    """
    reader, signature = _open(data)
    signer = thumbprint(_signer_jwk(signature))
    if signer in revoked:
        raise VerificationError("key_revoked", "The PDF was signed with a key the scheme revoked.")
    if signers is not None and signer not in signers:
        raise VerificationError("unknown_key", "The PDF was not signed by an organisation in the scheme.")
    _check_signature(signature)
    result = verify(_attachment(reader))
    if signer != thumbprint(result.issuer_key.jwk):
        raise VerificationError("bad_signature", "The PDF was not signed by the maker of the copy inside.")
    return result
