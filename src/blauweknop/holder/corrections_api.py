"""``POST /<holder>/api/v1/correctieverzoeken``: a citizen's correction request, through their app manager."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import Field

router = Router(tags=["correctieverzoeken"])


class Bijlage(Schema):
    """A file that shows what is right: PDF, PNG or JPEG, at most 4 MiB."""

    bestandsnaam: str = Field(min_length=1, max_length=255)
    mediatype: str = Field(min_length=1, max_length=100, description="application/pdf, image/png or image/jpeg.")
    inhoud: str = Field(min_length=1, description="The file, base64 (RFC 4648), at most 4 MiB decoded.")


class CorrectieverzoekAanvraag(Schema):
    """A citizen asks to correct one field of their data. The BSN is in the assertion, never in the URL."""

    appbeheerderverklaring: str = Field(min_length=20, max_length=8000, description="The app manager's assertion.")
    documentsoort: str = Field(min_length=1, max_length=40, pattern=r"^[a-z]+$")
    veld: str = Field(
        min_length=1, max_length=100, description="The catalogue path, e.g. vorderingen.openstaandBedragInCenten."
    )
    positie: int | None = Field(None, ge=0, le=9999, description="For a field in a list: the item, counted from 0.")
    voorgesteldeWaarde: str = Field(min_length=1, max_length=500)
    toelichting: str = Field(min_length=1, max_length=2000)
    bijlage: Bijlage | None = None


class Ontvangen(Schema):
    kenmerk: str
    status: str
    ontvangenOp: datetime
    uiterlijkeBeslisdatum: datetime


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
    verlengd: bool
    verlengingReden: str
    besluitOp: datetime | None
    besluitReden: str
    nieuweWaarde: object | None


class Correctieverzoeken(Schema):
    correctieverzoeken: list[Correctieverzoek]


@router.post("/correctieverzoeken", response={201: Ontvangen}, summary="Vraag om een correctie van gegevens")
def submit(request: HttpRequest, body: CorrectieverzoekAanvraag, holder: str = Path(...)) -> Status:
    raise NotImplementedError


@router.post(
    "/correctieverzoeken/opvragen", response=Correctieverzoeken, summary="De correctieverzoeken van deze burger"
)
def of_citizen(request: HttpRequest, body: OpvraagAanvraag, holder: str = Path(...)) -> dict:
    raise NotImplementedError
