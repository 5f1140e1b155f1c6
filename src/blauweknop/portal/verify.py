"""The public verify page: anyone uploads a certified copy and sees, in plain words, what it is."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blauweknop import document_types, pdf
from blauweknop.display import rows
from blauweknop.portal.pages import arender
from blauweknop.portal.verification import verify_credential
from blauweknop.protocol.errors import ProtocolError, VerificationError
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.sdjwt_vc import VerifiedCredential
from blauweknop.scheme.client import scheme_client

MAX_UPLOAD = 2 * 1024 * 1024
# What an SD-JWT looks like from afar: a signed JWT (three base64url parts), then "~".
SDJWT_SHAPE = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+~")

# What a receiver should understand and do, per kind of failure.
VERDICTS = {
    "revoked": gettext_lazy(
        "Deze kopie is vervangen: de gegevens zijn daarna veranderd. Vraag de persoon om een nieuwe kopie."
    ),
    "suspended": gettext_lazy("Deze kopie is tijdelijk niet geldig. Vraag de persoon om een nieuwe kopie."),
    "expired": gettext_lazy("Deze kopie is verlopen. Vraag de persoon om een nieuwe kopie."),
    "status_unavailable": gettext_lazy(
        "We konden nu niet nagaan of deze kopie nog geldt. Probeer het over een paar minuten opnieuw."
    ),
    "unknown_issuer": gettext_lazy("We weten niet wie deze kopie maakte. Vertrouw deze gegevens niet."),
    "unknown_key": gettext_lazy("We weten niet wie deze kopie maakte. Vertrouw deze gegevens niet."),
    "not_certified": gettext_lazy("De maker van deze kopie mag nu geen kopieën uitgeven. Vertrouw deze gegevens niet."),
}
NOT_GENUINE = gettext_lazy("Deze kopie is niet echt of is veranderd. Gebruik deze gegevens niet.")
# Verdicts that already say what to do next; after the others the page tells whom to ask.
SAY_WHAT_NEXT = frozenset({"revoked", "suspended", "expired", "status_unavailable"})


class UploadForm(forms.Form):
    bestand = forms.FileField(
        label=gettext_lazy("Bestand met de gewaarmerkte kopie"),
        help_text=gettext_lazy("Het PDF-bestand of het .sdjwt-bestand dat u van iemand kreeg."),
    )

    def clean_bestand(self) -> bytes:
        upload = self.cleaned_data["bestand"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("Dit bestand is te groot. Een gewaarmerkte kopie is kleiner dan 2 MB."))
        content = upload.read()
        if pdf.is_pdf(content):
            return content
        if not SDJWT_SHAPE.match(content.strip()) or not content.strip().isascii():
            # A JSON or CSV download, a picture: anyone can write or change one, so there is nothing to check.
            raise forms.ValidationError(
                _(
                    "Dit bestand kunnen we niet controleren. Alleen de PDF en het .sdjwt-bestand van een "
                    "gewaarmerkte kopie zijn te controleren. Vraag de persoon om een van die twee."
                )
            )
        return content


def _check(content: bytes, scheme: SchemeDocument) -> VerifiedCredential:
    """Verify an upload: a .sdjwt copy, or a PDF with its signature and the copy inside."""
    if pdf.is_pdf(content):
        return pdf.check(
            content,
            lambda presentation: verify_credential(presentation, scheme, fresh=True),
            signers=scheme.issuer_thumbprints(),
        )
    return verify_credential(content.decode("ascii").strip(), scheme, fresh=True)


def _moment(timestamp: int | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


async def verify_page(request: HttpRequest) -> HttpResponse:
    """Upload a copy; see who issued it, whether it is genuine and still valid, and what it shows."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return await arender(
            request, "portal/verify.html", {"form": form}, status=400 if request.method == "POST" else 200
        )
    scheme = await scheme_client.current()
    try:
        result = await sync_to_async(_check, thread_sensitive=False)(form.cleaned_data["bestand"], scheme)
    except VerificationError as exc:
        verdict = VERDICTS.get(exc.code, NOT_GENUINE)
        context = {"form": UploadForm(), "verdict": verdict, "code": exc.code, "ask": exc.code not in SAY_WHAT_NEXT}
        return await arender(request, "portal/verify.html", context)
    except ProtocolError:
        context = {"form": UploadForm(), "verdict": NOT_GENUINE, "ask": True}
        return await arender(request, "portal/verify.html", context)
    issuer = scheme.issuer(result.iss)
    document_type = document_types.of(scheme).by_vct(result.vct)
    context = {
        "form": UploadForm(),
        "result": result,
        "issuer": issuer,
        "document_type": document_type,
        "rows": rows(document_type, result.claims) if document_type else [],
        "issued_at": _moment(result.issued_at),
        "valid_until": _moment(result.expires_at),
    }
    return await arender(request, "portal/verify.html", context)
