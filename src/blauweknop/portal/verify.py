"""The public verify page: anyone checks a certified copy, by its file or by the code on the paper.

Both ways end in the same check (:func:`_check`) and the same page: who issued it, whether it is
genuine and still valid, what it shows, or in plain words why not and what to do next.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from blauweknop import document_types, pdf
from blauweknop.display import rows
from blauweknop.document_types import DocumentType
from blauweknop.portal import attempts, events, printed, verdicts
from blauweknop.portal.pages import arender
from blauweknop.portal.verification import verify_credential
from blauweknop.protocol import check_code, consent_receipt, sdjwt, sdjwt_vc
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import KeyResolver, checked_public_jwk, thumbprint
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.sdjwt_vc import VerifiedCredential
from blauweknop.protocol.status_list import VALID, StatusListClient, StatusReference
from blauweknop.protocol.validity import now_or, required_date
from blauweknop.scheme.client import scheme_client

MAX_UPLOAD = 2 * 1024 * 1024
# A bundle holds one copy per source and type: a few dozen at most, each of a few kB.
MAX_PARTS = 50
MAX_PART = 256 * 1024
# What an SD-JWT looks like from afar: a signed JWT (three base64url parts), then "~".
SDJWT_SHAPE = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+~")
UNKNOWN_CODE = gettext_lazy(
    "Deze controlecode kennen we niet. Kijk de code na: 12 letters en cijfers, zoals op de kopie. "
    "Een code werkt alleen zolang de kopie geldig is."
)
OR_THE_FILE = gettext_lazy(
    "Heeft u de kopie ook als PDF-bestand? Controleer dan dat bestand, hieronder. Dat kan meteen."
)
TOO_MANY = gettext_lazy(
    "Vanaf dit netwerk is te vaak een verkeerde code ingevuld. Misschien deed iemand anders dat. "
    "Probeer het over 15 minuten opnieuw."
)
CODE_TOO_OFTEN = gettext_lazy(
    "Deze code is het afgelopen uur al heel vaak gecontroleerd. Probeer het over een uur opnieuw."
)
BUSY = gettext_lazy("Het is nu erg druk. Probeer het over een minuut nog eens.")
BUSY_RETRY = 60  # seconds, in the Retry-After header of the busy page


def _is_export(content: bytes) -> bool:
    """Whether ``content`` is one of the portal's own JSON or CSV downloads (or looks like one)."""
    try:
        text = content.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return False
    try:
        return isinstance(json.loads(text), dict | list)
    except ValueError:
        first = text.partition("\n")[0]
        return "\x00" not in text and (";" in first or "," in first)


class UploadForm(forms.Form):
    sealless = False  # whether the file is one of our JSON or CSV downloads, which carry no seal to check

    bestand = forms.FileField(
        label=gettext_lazy("Bestand met de gewaarmerkte kopie"),
        help_text=gettext_lazy("Het PDF-bestand of het .sdjwt-bestand dat u van iemand kreeg."),
        error_messages={"required": gettext_lazy("Kies eerst een bestand.")},
    )

    def clean_bestand(self) -> bytes:
        upload = self.cleaned_data["bestand"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("Dit bestand is te groot. Een gewaarmerkte kopie is kleiner dan 2 MB."))
        content = upload.read()
        if pdf.is_pdf(content):
            return content
        if _is_export(content):
            self.sealless = True
            return content
        if not SDJWT_SHAPE.match(content.strip()) or not content.strip().isascii():
            raise forms.ValidationError(
                _(
                    "Dit bestand kunnen we niet controleren. Alleen de PDF en het .sdjwt-bestand van een "
                    "gewaarmerkte kopie zijn te controleren. Vraag de persoon om een van die twee."
                )
            )
        return content


class CodeForm(forms.Form):
    # A plain Field, not a CharField: that one refuses a NUL in words of its own, and every code we
    # cannot use must get the same answer.
    controlecode = forms.Field(
        label=gettext_lazy("Controlecode"),
        help_text=gettext_lazy("Die staat op de papieren kopie, bij de QR-code. Bijvoorbeeld: 7KQ2-M9XD-4TRB."),
        error_messages={"required": gettext_lazy("Vul de controlecode in. Die staat op de papieren kopie.")},
    )

    def clean_controlecode(self) -> str:
        code = check_code.normalise(self.cleaned_data["controlecode"])
        if code is None:  # the same words as for a code we do not know: nothing to learn from the difference
            raise forms.ValidationError(UNKNOWN_CODE)
        return code


@dataclass(frozen=True)
class Part:
    """One copy in a bundle, checked as if it was uploaded on its own."""

    organisation: str  # the verified issuer's name; for a refused copy, the name the bundle gives it
    result: VerifiedCredential | None  # None when it was refused
    verdict: verdicts.Verdict | None  # why it was refused; None when genuine and valid
    oin: str | None = None  # the verified issuer's
    document_type: DocumentType | None = None
    subject: str | None = None


@dataclass(frozen=True)
class Receipt:
    """A consent receipt (ISO/IEC TS 27560) in a PDF a certified app manager signed: its record and who made it."""

    record: dict[str, Any]
    made_by: str  # the app manager's name
    made_at: datetime | None  # when the app manager says it signed it

    @property
    def requester(self) -> str:
        """The organisation the consent was for: the controller the receipt names among its parties."""
        controllers = set(self.record["purposes"][0]["piiControllers"])
        return next(p["partyName"] for p in self.record["parties"] if p["partyId"] in controllers)


def _receipt(attachments: list[pdf.Attachment]) -> dict[str, Any] | None:
    """The consent receipt, if the signed PDF holds exactly that (one JSON file that is a valid receipt)."""
    if len(attachments) != 1:
        return None
    try:
        record = json.loads(attachments[0].data)
        consent_receipt.validate(record)
    except (ValueError, RecursionError, ProtocolError):  # not JSON, or not a receipt: checked as a bundle's part
        return None
    return record


def _app_manager_keys(scheme: SchemeDocument) -> frozenset[str]:
    """The keys of the certified app managers (the portal): who may sign a bundle of others' copies."""
    return frozenset().union(*(p.keys.thumbprints() for p in scheme.app_managers.values() if p.is_certified))


def _part(attachment: pdf.Attachment, scheme: SchemeDocument) -> Part:
    """One copy of a bundle, checked exactly as an uploaded .sdjwt file is. Blocking."""
    try:
        result = verify_credential(attachment.data.decode("ascii").strip(), scheme, fresh=True)
    except UnicodeDecodeError:
        return Part(attachment.description or attachment.name, None, verdicts.UNREADABLE)
    except ProtocolError as exc:
        return Part(attachment.description or attachment.name, None, verdicts.for_code(exc.code))
    issuer = scheme.issuer(result.iss)
    document_type = document_types.of(scheme).by_vct(result.vct)
    return Part(issuer.name, result, None, issuer.oin, document_type, _subject(result.claims))


def _check(
    content: bytes, scheme: SchemeDocument, verify: Callable[[str], VerifiedCredential] | None = None
) -> VerifiedCredential | list[pdf.Attachment] | Receipt:
    """Verify a copy: a .sdjwt presentation, a PDF with its signature and the copy inside, or a bundle. Blocking.

    A bundle is a PDF signed by an app manager (the portal's debt overview): its signature only shows that
    nothing changed since; its copies, still unchecked, are returned to be checked each on its own. A PDF an
    app manager signed around a consent receipt is that receipt: its record, which the signature vouches for.
    ``verify`` checks the copy itself: every check, the status asked of its publisher now, unless given.
    """
    if verify is None:
        verify = functools.partial(verify_credential, scheme=scheme, fresh=True)
    if pdf.is_pdf(content):
        bundlers = _app_manager_keys(scheme)
        if (signer := pdf.signer(content)) in bundlers:
            parts = pdf.check_bundle(content, signers=bundlers, max_parts=MAX_PARTS, max_size=MAX_PART)
            if (record := _receipt(parts)) is None:
                return parts
            maker = next(p for p in scheme.app_managers.values() if p.is_certified and signer in p.keys.thumbprints())
            return Receipt(record, maker.name, pdf.signed_at(content))
        # Every holder in the scheme may have signed it, certified or not: a suspended holder's
        # copy is then refused for what it is (not_certified), not as a stranger's.
        signers = frozenset().union(*(p.keys.thumbprints() for p in scheme.organisations.values()))
        return pdf.check(content, verify, signers=signers, revoked=scheme.revoked_thumbprints())
    return verify(content.decode("ascii").strip())


class _StatusKnown(StatusListClient):
    """The status of a copy :func:`_old_copy` looks at: known already (the full check failed on it), not asked again."""

    def __init__(self) -> None:
        super().__init__(fetch=lambda uri: "")

    def status(self, ref: StatusReference, keys: KeyResolver) -> int:
        return VALID


def _old_copy(content: bytes, scheme: SchemeDocument) -> VerifiedCredential | None:
    """A superseded or expired copy, checked in every way but its status and its end: who made it and when. Blocking.

    Only to tell the reader which organisation to ask, never to call the copy valid. A copy that fails any
    other check (a forged one: signature, signer, issuer) gives ``None``, and then nothing of it is shown.
    """

    def as_when_valid(presentation: str) -> VerifiedCredential:
        ends = required_date(sdjwt.unverified_claims(presentation), "exp")  # checked against the signature below
        return sdjwt_vc.verify(
            presentation,
            scheme.issuer_keys(),
            status_lists=_StatusKnown(),
            require_key_binding=False,
            now=min(now_or(None), ends - 1),
        )

    try:
        result = _check(content, scheme, as_when_valid)
    except (ProtocolError, UnicodeDecodeError):
        return None
    return result if isinstance(result, VerifiedCredential) else None


def _subject(claims: dict[str, Any]) -> str | None:
    """Whom the copy is about, as far as it says: name and date of birth, so a receiver can match the person."""
    name, birth = claims.get("naam"), claims.get("geboorte")
    parts = [name.get(k) for k in ("voornamen", "voorvoegsel", "geslachtsnaam")] if isinstance(name, dict) else []
    shown = " ".join(part for part in parts if isinstance(part, str) and part)
    born = birth.get("datum") if isinstance(birth, dict) else None
    try:
        day = parse_date(born) if isinstance(born, str) else None
    except ValueError:  # well formed, but not a real day
        day = None
    if day is not None:
        when = _("geboren op %(date)s") % {"date": date_format(day, "j F Y")}
        shown = f"{shown}, {when}" if shown else when
    return shown or None


def _moment(timestamp: int | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


async def _refusal(verdict: verdicts.Verdict, content: bytes, scheme: SchemeDocument) -> dict[str, Any]:
    """The page's context for a copy refused with ``verdict``; for an old but genuine one, who made it and when."""
    if verdict not in (verdicts.SUPERSEDED, verdicts.EXPIRED):
        return {"verdict": verdict}
    old = await sync_to_async(_old_copy, thread_sensitive=False)(content, scheme)
    if old is None:
        return {"verdict": verdict}
    return {
        "verdict": verdict,
        "made_by": scheme.issuer(old.iss),
        "issued_at": _moment(old.issued_at),
        "valid_until": _moment(old.expires_at) if verdict is verdicts.EXPIRED else None,
    }


async def _outcome(content: bytes) -> tuple[dict[str, Any], VerifiedCredential | None]:
    """The page's context for checking ``content``, and the verified copy if it is valid."""
    scheme = await scheme_client.current()
    try:
        result = await sync_to_async(_check, thread_sensitive=False)(content, scheme)
    except ProtocolError as exc:
        return await _refusal(verdicts.for_code(exc.code), content, scheme), None
    if isinstance(result, Receipt):  # not a copy of anyone's data: what it is, and where it stands now
        return {"receipt": result}, None
    if isinstance(result, list):  # all at once: each may wait on its own holder's status list
        checking = (sync_to_async(_part, thread_sensitive=False)(attachment, scheme) for attachment in result)
        return {"parts": await asyncio.gather(*checking)}, None
    document_type = document_types.of(scheme).by_vct(result.vct)
    context = {
        "result": result,
        "issuer": scheme.issuer(result.iss),
        "document_type": document_type,
        "rows": rows(document_type, result.claims) if document_type else [],
        "subject": _subject(result.claims),
        "issued_at": _moment(result.issued_at),
        "valid_until": _moment(result.expires_at),
    }
    return context, result


async def _render(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The verify page with ``context``, and both forms empty unless ``context`` holds them."""
    empty = {"form": UploadForm(), "code_form": CodeForm()}
    return await arender(request, "portal/verify.html", empty | context, status=status)


@require_http_methods(["GET", "POST"])
async def code_entered(request: HttpRequest) -> HttpResponse:
    """The code form on the verify page: the copy it opens, shown at once (no address with the code in it).

    A GET (the language switch on the result, a reload) goes to the verify page: the code is not kept.
    """
    if request.method == "GET":
        return redirect("portal:verify")
    form = CodeForm(request.POST)
    if form.is_valid():
        return await _by_code(request, form.cleaned_data["controlecode"])
    if not await attempts.take(request):
        return await _refused(request, TOO_MANY, status=429)
    return await _render(request, {"code_form": form}, status=400)


async def verify_page(request: HttpRequest) -> HttpResponse:
    """Check a copy by its file."""
    # Bound on every POST, even one without a file: else an empty upload would get no error at all.
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method != "POST" or not form.is_valid():
        return await _render(request, {"form": form}, status=400 if request.method == "POST" else 200)
    content = form.cleaned_data["bestand"]
    if form.sealless:
        return await _render(request, {"verdict": verdicts.NO_SEAL})
    context, result = await _outcome(content)
    if result is not None:
        await events.record_check(context["issuer"].oin, _type_id(context), wallet_thumbprint=_wallet(result))
    for part in context.get("parts", []):  # each valid copy in a bundle counts as checked, as if uploaded alone
        if part.result is not None and part.oin is not None:
            type_id = part.document_type.id if part.document_type is not None else "-"
            await events.record_check(part.oin, type_id, wallet_thumbprint=_wallet(part.result))
    return await _render(request, context)


def _type_id(context: dict[str, Any]) -> str:
    document_type = context["document_type"]
    return document_type.id if document_type is not None else "-"


def _wallet(result: VerifiedCredential) -> str | None:
    """The thumbprint of the wallet key the copy is bound to (``cnf``), if it names a usable key."""
    try:
        return thumbprint(checked_public_jwk(result.holder_jwk))
    except ProtocolError:  # no key, or not one a wallet has: the check is tied to nobody
        return None


@require_GET
async def code_page(request: HttpRequest, code: str) -> HttpResponse:
    """The printed copy with this check code, checked as if its file was uploaded; no login."""
    return await _by_code(request, code)


async def _by_code(request: HttpRequest, typed: str) -> HttpResponse:
    """The verify page for the copy a typed code opens, or why it did not open and what to do."""
    if not await attempts.take(request):
        return await _refused(request, TOO_MANY, status=429)
    try:
        opened = await printed.open_copy(typed)
    except printed.TooOften:
        await attempts.give_back(request)
        return await _refused(request, CODE_TOO_OFTEN, status=429)
    except printed.Busy:
        await attempts.give_back(request)
        response = await _render(request, {"code_form": _with_error(BUSY)}, status=503)
        response["Retry-After"] = str(BUSY_RETRY)
        return response
    if opened is None:  # a wrong code stays counted
        return await _render(request, {"code_form": _with_error(UNKNOWN_CODE)}, status=404)
    await attempts.give_back(request)
    context, result = await _outcome(opened.presentation.encode("ascii"))
    if result is not None:
        await events.record_check(context["issuer"].oin, _type_id(context), citizen=opened.citizen)
    return await _render(request, {**context, "checked_code": check_code.formatted(opened.code)})


async def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The page that refuses to look a code up now: ``message``, and that the file can be checked meanwhile."""
    return await _render(request, {"code_form": _with_error(f"{message} {OR_THE_FILE}")}, status=status)


def _with_error(message: str) -> CodeForm:
    """An empty code form with ``message`` next to its field."""
    form = CodeForm({"controlecode": ""})
    form.is_valid()
    form.errors["controlecode"] = form.error_class([message])
    return form
