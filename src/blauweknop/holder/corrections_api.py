"""``POST /<holder>/api/v1/correctieverzoeken``: a citizen's correction request, through their app manager.

The citizen is who the app manager's session assertion says (used up, once, also when the request is
then refused), as for every call about a citizen; it is verified before anything else is looked at. An
attachment travels as base64 in the JSON body: its length is checked before it is decoded, and its content
by :func:`blauweknop.attachments.check` before anything is stored.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from ninja import Path, Router, Schema, Status
from pydantic import Field

from blauweknop import attachments, document_types
from blauweknop.api import ApiProblem, problem
from blauweknop.holder import corrections, tenants
from blauweknop.holder.models import CorrectionRequest
from blauweknop.scheme.client import scheme_client

router = Router(tags=["correctieverzoeken"])
# Base64 makes 4 characters of every 3 bytes: a longer text holds a larger file than is taken.
MAX_BASE64 = 4 * -(-attachments.MAX_BYTES // 3)


class Bijlage(Schema):
    """A file that shows what is right: PDF, PNG or JPEG, at most 4 MiB; its name, type and content must agree."""

    bestandsnaam: str = Field(min_length=1, max_length=255, description="E.g. loonstrook.pdf; the path is dropped.")
    mediatype: str = Field(min_length=1, max_length=100, description="application/pdf, image/png or image/jpeg.")
    inhoud: str = Field(
        min_length=1,
        description=f"The file in base64 (RFC 4648, with padding), at most {MAX_BASE64} characters (4 MiB).",
        json_schema_extra={"maxLength": MAX_BASE64},
    )


class CorrectieverzoekAanvraag(Schema):
    """A citizen asks to correct one field of their data. The BSN is in the assertion, never in the URL."""

    appbeheerderverklaring: str = Field(min_length=20, max_length=8000, description="The app manager's assertion.")
    documentsoort: str = Field(min_length=1, max_length=40, pattern=r"^[a-z]+$")
    veld: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z]+(\.[A-Za-z]+){0,5}$",
        description="The field's catalogue path, e.g. vorderingen.openstaandBedragInCenten.",
    )
    positie: int | None = Field(
        None, ge=0, le=9999, description="Only for a field in a list: which item, counted from 0 (vorderingen.0...)."
    )
    voorgesteldeWaarde: str = Field(
        min_length=1, max_length=corrections.MAX_PROPOSED, description="What is right, in the citizen's words."
    )
    toelichting: str = Field(min_length=1, max_length=corrections.MAX_EXPLANATION)
    bijlage: Bijlage | None = None
    verzoeksleutel: str | None = Field(
        None,
        min_length=16,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The app manager's key for this request (e.g. a hash of its one-time form token). Sent again "
        "by the same citizen with the same key (a retry after a lost answer), the request stored the first time "
        "is answered with 200 and nothing new is stored.",
    )


class Ontvangen(Schema):
    kenmerk: str = Field(description="The request's reference, e.g. CV-7K3M9QXA: quoted by the citizen and staff.")
    status: str = Field(description="ontvangen, in_behandeling, aangepast or afgewezen.")
    ontvangenOp: datetime
    uiterlijkeBeslisdatum: datetime = Field(description="End of the day, one month after receipt (GDPR art. 12(3)).")


class OpvraagAanvraag(Schema):
    appbeheerderverklaring: str = Field(min_length=20, max_length=8000, description="The app manager's assertion.")


class Correctieverzoek(Schema):
    kenmerk: str
    documentsoort: str
    veld: str
    positie: int | None
    voorgesteldeWaarde: str
    status: str
    ontvangenOp: datetime
    uiterlijkeBeslisdatum: datetime
    eersteBeslisdatum: datetime = Field(description="The deadline before any extension: a month after receipt.")
    verlengd: bool = Field(description="Whether the deadline was extended (once, by one or two months).")
    verlengingReden: str
    besluitOp: datetime | None
    besluitReden: str
    nieuweWaarde: Any = Field(description="The value written to the source, as the catalogue stores it.")
    onderdeel: str | None = Field(
        description="For a field in a list: words that tell the item from the others, as it was when the request "
        "came in (its kind, reference and amount, e.g. 'Inkomstenbelasting, BEL-2025-001, € 331,13'); in English "
        "when Accept-Language starts with en, else in Dutch. null outside a list, or when nothing names the item."
    )
    verzoeksleutel: str = Field(description="The app manager's key sent with the request; empty when none was.")


class AlGevraagd(Schema):
    """problem+json (RFC 9457) of a request about a field the citizen asked to correct already (409)."""

    type: str = Field(description="urn:blauweknop:problem:already_asked")
    title: str
    status: int = Field(description="409")
    detail: str
    code: str = Field(description="already_asked")
    kenmerk: str = Field(description="The kenmerk of the open request about this field, e.g. CV-7K3M9QXA.")


class Correctieverzoeken(Schema):
    correctieverzoeken: list[Correctieverzoek]


def _attachment(bijlage: Bijlage | None) -> attachments.Attachment | None:
    """The checked attachment; :class:`ApiProblem` 413 for one too large (before decoding), 400 otherwise."""
    if bijlage is None:
        return None
    if len(bijlage.inhoud) > MAX_BASE64:
        raise ApiProblem(413, "attachment_too_large", "The attachment is larger than 4 MiB.")
    try:
        data = base64.b64decode(bijlage.inhoud, validate=True)
    except (binascii.Error, ValueError):
        raise ApiProblem(400, "attachment_base64", "The attachment's inhoud is not valid base64.") from None
    try:
        return attachments.check(bijlage.bestandsnaam, bijlage.mediatype, data)
    except attachments.AttachmentRefused as refused:
        raise ApiProblem(413 if refused.code == "attachment_too_large" else 400, refused.code, refused.detail) from None


def _received(request: CorrectionRequest) -> dict[str, Any]:
    return {
        "kenmerk": request.reference,
        "status": request.state,
        "ontvangenOp": request.received_at,
        "uiterlijkeBeslisdatum": request.deadline,
    }


@router.post(
    "/correctieverzoeken",
    response={200: Ontvangen, 201: Ontvangen, 409: AlGevraagd},
    summary="Vraag om een correctie van gegevens",
    description="A citizen asks, through their app manager, to correct one field of their data (GDPR art. 16). "
    "The holder decides within a month (extendable once, by at most two months, with a reason). 201: stored; "
    "200: this citizen sent this verzoeksleutel before, and this is the request stored then (nothing new is "
    "stored). The assertion is verified first and used up, also when the request is then refused. Refused "
    f"with problem+json and nothing stored when the field, position, text or attachment is not right; 429 "
    f"too_many_requests when the citizen has {corrections.MAX_OPEN} undecided requests at this holder, or sent "
    f"{corrections.MAX_PER_DAY} in the last 24 hours; 409 already_asked, with the kenmerk of the open request, "
    "when the citizen has an open request about the same field (of the same list item) already. An attachment "
    "is deleted 90 days after the decision.",
)
async def submit(
    request: HttpRequest, body: CorrectieverzoekAanvraag, holder: str = Path(...)
) -> Status | HttpResponse:
    scheme = await scheme_client.current()

    def work() -> tuple[CorrectionRequest, bool]:
        at = tenants.at(scheme, holder)
        session = corrections.citizen(at, body.appbeheerderverklaring, scheme)
        return corrections.submit(
            at,
            session,
            type_id=body.documentsoort,
            path=body.veld,
            position=body.positie,
            proposed=body.voorgesteldeWaarde,
            explanation=body.toelichting,
            attachment=_attachment(body.bijlage),
            key=body.verzoeksleutel or "",
        )

    try:
        stored, new = await sync_to_async(work)()
    except corrections.AlreadyAsked as asked:
        return problem(409, asked.code, asked.detail, kenmerk=asked.reference)
    return Status(201 if new else 200, _received(stored))


@router.post(
    "/correctieverzoeken/opvragen",
    response=Correctieverzoeken,
    summary="De correctieverzoeken van deze burger bij deze houder",
    description="Every request of the citizen in the assertion at this holder, newest first, with its state, "
    "deadline, extension and decision. A POST, so that the assertion stays out of the URL.",
)
async def of_citizen(request: HttpRequest, body: OpvraagAanvraag, holder: str = Path(...)) -> dict[str, Any]:
    scheme = await scheme_client.current()
    found = await sync_to_async(
        lambda: corrections.of_citizen(tenants.at(scheme, holder), body.appbeheerderverklaring, scheme)
    )()
    catalogue = document_types.of(scheme)
    english = request.headers.get("Accept-Language", "").lower().startswith("en")
    return {
        "correctieverzoeken": [
            {
                **_received(r),
                "documentsoort": r.document_type,
                "veld": r.path,
                "positie": r.position,
                "voorgesteldeWaarde": r.proposed_value,
                "eersteBeslisdatum": corrections.deadline_of(r.received_at),
                "verlengd": bool(r.extension_reason),
                "verlengingReden": r.extension_reason,
                "besluitOp": r.decided_at,
                "besluitReden": r.decision_reason,
                "nieuweWaarde": r.corrected_value,
                "verzoeksleutel": r.request_key,
                "onderdeel": _item_words(catalogue, r, english),
            }
            for r in found
        ]
    }


def _item_words(catalogue: document_types.Catalogue, request: CorrectionRequest, english: bool) -> str | None:
    """The request's list item in words (see ``Correctieverzoek.onderdeel``)."""
    document_type = catalogue.get(request.document_type)
    if document_type is None or request.item is None:
        return None
    with translation.override("en" if english else "nl"):
        return corrections.item_words(document_type, request.path, request.item)
