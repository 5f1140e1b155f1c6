"""PDFs an attacker can make: self-signed with any key, carrying any attachment.

Built with pyHanko directly (not with ``blauweknop.pdf``), so the tests and
``scripts/pdf-bomb-memory.py`` exercise the reader against files our own writer would never make.
"""

from __future__ import annotations

import datetime as dt
import io
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.embed import EmbeddedFileObject, FileSpec, embed_file
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.pdfgen import canvas

from blauweknop.pdf import ATTACHMENT

MiB = 1024 * 1024
T = TypeVar("T")


def in_a_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``function`` in a thread of its own: pyHanko signs with ``asyncio.run``, which fails
    in a thread where an event loop runs (as Playwright's does once the browser tests ran)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def page() -> bytes:
    """A one-page PDF with a line of text, as any PDF library makes it."""
    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    drawing.drawString(72, 720, "Gewaarmerkte kopie")
    drawing.save()
    return out.getvalue()


def deflate_bomb(size: int) -> bytes:
    """ZLIB data that inflates to ``size`` zero bytes, made without holding them in memory."""
    compressor = zlib.compressobj(9)
    chunk = bytes(MiB)
    parts = [compressor.compress(chunk) for _ in range(size // MiB)]
    parts.append(compressor.compress(bytes(size % MiB)))
    return b"".join(parts) + compressor.flush()


def _certificate(private: ec.EllipticCurvePrivateKey) -> tuple[asn1_keys.PrivateKeyInfo, asn1_x509.Certificate]:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Gemeente Namaakstad")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    der_key = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        asn1_keys.PrivateKeyInfo.load(der_key),
        asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
    )


def signed_pdf(
    private: ec.EllipticCurvePrivateKey,
    *,
    attachment: bytes | None = None,
    compressed_attachment: bytes | None = None,
) -> bytes:
    """A PDF signed (PAdES, whole file) with ``private`` under a self-signed certificate.

    The attachment named like ours holds ``attachment``, or the ready-made ZLIB stream
    ``compressed_attachment`` (for example a :func:`deflate_bomb`); with neither there is none.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(page()))
    if attachment is not None:
        embedded = EmbeddedFileObject.from_file_data(writer, data=attachment)
    elif compressed_attachment is not None:
        embedded = EmbeddedFileObject(
            writer,
            dict_data=generic.DictionaryObject({generic.pdf_name("/Filter"): generic.pdf_name("/FlateDecode")}),
            encoded_data=compressed_attachment,
        )
    if attachment is not None or compressed_attachment is not None:
        embed_file(writer, FileSpec(file_spec_string=ATTACHMENT, file_name=ATTACHMENT, embedded_data=embedded))
    key, certificate = _certificate(private)
    signer = signers.SimpleSigner(
        signing_cert=certificate, signing_key=key, cert_registry=SimpleCertificateStore.from_certs([certificate])
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="Handtekening", md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES
    )
    out = io.BytesIO()
    in_a_thread(signers.PdfSigner(metadata, signer=signer).sign_pdf, writer, output=out)
    return out.getvalue()


def _deeply_nested() -> bytes:
    """A hand-written PDF whose catalogue holds an array nested 100,000 deep."""
    depth = 100_000
    body = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Kids " + b"[" * depth + b"]" * depth + b" >>\nendobj\n"
    xref = len(body)
    return (
        body
        + b"xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\n"
        + (b"startxref\n%d\n%%%%EOF\n" % xref)
    )


def malformed(genuine: bytes) -> dict[str, bytes]:
    """Broken and hostile variants of the ``genuine`` signed PDF, each of which must be refused."""
    contents = genuine.index(b"/Contents <") + len(b"/Contents <")
    startxref = genuine.rindex(b"startxref") + len(b"startxref\n")
    stranger = ec.generate_private_key(ec.SECP256R1())
    return {
        "truncated": genuine[: len(genuine) // 2],
        "only_a_header": b"%PDF-1.7\n",
        "garbage_after_the_header": b"%PDF-1.7\n" + bytes(range(256)) * 64,
        "unsigned": page(),
        "xref_points_nowhere": genuine[:startxref] + b"99999999\n%%EOF\n",
        "nested_100000_deep": _deeply_nested(),
        "signature_zeroed": genuine[:contents] + b"0" * 200 + genuine[contents + 200 :],
        "signed_with_p384": signed_pdf(ec.generate_private_key(ec.SECP384R1()), attachment=b"x~"),
        "signed_by_a_stranger": signed_pdf(stranger, attachment=b"x~"),
    }


def from_a_rogue_holder(holder: ec.EllipticCurvePrivateKey) -> dict[str, bytes]:
    """PDFs signed with a trusted holder key that hold no usable copy; the first inflates to 64 MiB."""
    return {
        "attachment_inflates_to_64_mib": signed_pdf(holder, compressed_attachment=deflate_bomb(64 * MiB)),
        "attachment_not_ascii": signed_pdf(holder, attachment="één~".encode()),
        "no_attachment": signed_pdf(holder),
    }
