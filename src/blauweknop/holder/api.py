"""The holder API, one per organisation under its own prefix: ``/<slug>/api/v1/``.

The one place where the holder's refusals (:mod:`blauweknop.holder.errors`) become HTTP answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Literal, TypeVar

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Path, Schema, Status
from pydantic import AwareDatetime, Field, field_validator, model_validator

from blauweknop.api import make_api, problem
from blauweknop.holder import access, corrections, corrections_api, issuing, lawful, printing, refused_fetches, tenants
from blauweknop.holder.errors import HolderError, NotCertified, NotHere, NotOurs, NotYours, Replayed
from blauweknop.holder.lawful import BeyondLegalBasis
from blauweknop.holder.models import StatusListRecord
from blauweknop.paging import EARLIEST, LATEST, MAX_PAGE, Bound, within_years
from blauweknop.protocol import check_code
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.scheme.client import scheme_client

api = make_api(
    title="Gegevenshouder API",
    namespace="holder",
    description="Gewaarmerkte kopieën (SD-JWT VC) voor burgers, via een gecertificeerde appbeheerder.",
)
api.add_router("", corrections_api.router)
api.add_router("", refused_fetches.router)  # app managers tell of standing fetches they refused
T = TypeVar("T")
PATH = re.compile(r"[A-Za-z]+(\.[A-Za-z]+){0,5}")  # a catalogue path: no positions, nothing else
MAX_PATH = 100

# The HTTP status of each kind of refusal by the holder's services.
STATUS_FOR_ERROR: dict[type[HolderError], int] = {
    NotHere: 404,
    NotCertified: 403,
    NotOurs: 400,
    NotYours: 403,
    Replayed: 401,
    BeyondLegalBasis: 403,
    lawful.TooManyRefusals: 429,
    corrections.Refused: 400,
    corrections.TooMany: 429,
    corrections.AlreadyAsked: 409,
}


@api.exception_handler(HolderError)
def refused(request: HttpRequest, exc: HolderError) -> HttpResponse:
    """A refusal of the holder's services as problem+json: the status of its kind, its own code."""
    return problem(STATUS_FOR_ERROR.get(type(exc), 400), exc.code, exc.detail)


def _at_holder(slug: str, scheme: SchemeDocument, work: Callable[..., T], *args: object) -> T:
    """``work(holder, *args)`` for this deployment's holder at ``slug`` (404 if none). Blocking.

    The look-up and the work share one hand-off to the sync thread: a hand-off costs more than the look-up.
    """
    return work(tenants.at(scheme, slug), *args)


class VerklaringAanvraag(Schema):
    """A request for a certified copy. Personal data travels only in this body, never in the URL."""

    appbeheerderverklaring: str = Field(min_length=20, max_length=8000, description="The app manager's assertion.")
    documentsoort: str = Field(min_length=1, max_length=40, pattern=r"^[a-z]+$")


class Verklaring(Schema):
    verklaring: str = Field(description="The SD-JWT VC; every data field can be left out when shared.")
    documentsoort: str
    vct: str
    geldigTot: datetime


@api.post("/verklaringen", response={201: Verklaring}, summary="Geef een gewaarmerkte kopie uit")
async def issue_credential(request: HttpRequest, body: VerklaringAanvraag, holder: str = Path(...)) -> Status:
    scheme = await scheme_client.current()
    issued = await sync_to_async(_at_holder)(
        holder, scheme, issuing.issue, body.appbeheerderverklaring, body.documentsoort, scheme
    )
    return Status(
        201,
        {
            "verklaring": issued.credential,
            "documentsoort": issued.document_type.id,
            "vct": issued.document_type.vct,
            "geldigTot": issued.expires_at,
        },
    )


class WettelijkeVerstrekkingAanvraag(Schema):
    """A requester asks for a citizen's data on a legal basis. The BSN travels only in this body, never in the URL."""

    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"] = Field(
        description="private_key_jwt (RFC 7523)."
    )
    client_assertion: str = Field(
        min_length=20, max_length=4000, description="Signed by the requester; aud = the exact URL called; once."
    )
    burgerservicenummer: str = Field(pattern=r"^[0-9]{9}$")
    documentsoort: str = Field(min_length=1, max_length=40, pattern=r"^[a-z]+$")
    velden: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Catalogue paths, e.g. naam.geslachtsnaam; a list's field in every item.",
    )
    grondslag: str = Field(pattern=r"^[a-z][a-z0-9-]{0,99}$", description="The id of a law in the scheme's register.")
    doel: str = Field(pattern=r"^[a-z][a-z0-9-]{0,99}$", description="The code of the purpose the law entry names.")
    bewaartermijnDagen: int = Field(ge=1, le=36500, description="Whole days the requester keeps the data.")

    @field_validator("burgerservicenummer")
    @classmethod
    def valid_bsn(cls, bsn: str) -> str:
        """A BSN passes the 11-proef; the error never repeats the number."""
        if not is_valid_bsn(bsn):
            raise ValueError("This is not a valid BSN.")
        return bsn

    @field_validator("velden")
    @classmethod
    def paths(cls, velden: list[str]) -> list[str]:
        """Each field once, as a catalogue path: words separated by dots, no positions."""
        if len(set(velden)) != len(velden) or not all(len(v) <= MAX_PATH and PATH.fullmatch(v) for v in velden):
            raise ValueError(f"Name each field once, as a catalogue path: letters and dots, at most {MAX_PATH}.")
        return velden


@api.post(
    "/wettelijke-verstrekkingen",
    response={201: Verklaring},
    summary="Geef een gewaarmerkte kopie aan een gegevensvrager, op grond van de wet",
)
async def lawful_delivery(
    request: HttpRequest, body: WettelijkeVerstrekkingAanvraag, holder: str = Path(...)
) -> Status:
    scheme = await scheme_client.current()
    asked = lawful.Asked(
        bsn=body.burgerservicenummer,
        type_id=body.documentsoort,
        paths=tuple(body.velden),
        legal_basis=body.grondslag,
        purpose=body.doel,
        retention_days=body.bewaartermijnDagen,
    )
    delivered = await sync_to_async(_at_holder)(holder, scheme, lawful.deliver, body.client_assertion, asked, scheme)
    return Status(
        201,
        {
            "verklaring": delivered.presentation,
            "documentsoort": delivered.issued.document_type.id,
            "vct": delivered.issued.document_type.vct,
            "geldigTot": delivered.issued.expires_at,
        },
    )


class Positie(Schema):
    """A place among the citizen's records: a moment, and at that moment, a record's ``kenmerk``."""

    tijdstip: AwareDatetime
    kenmerk: str | None = Field(None, pattern=r"^[0-9a-f]{16}$", description="Without it: the moment alone.")

    @field_validator("tijdstip")
    @classmethod
    def in_range(cls, at: datetime) -> datetime:
        """A moment any record can have, in UTC: far beyond those years no database can compare it."""
        if (utc := within_years(at)) is None:
            raise ValueError(f"Give a moment from {EARLIEST.year} up to {LATEST.year}.")
        return utc


class InzageAanvraag(Schema):
    """Ask which reads of the citizen's data this holder recorded, a page at a time. The BSN is in the assertion."""

    appbeheerderverklaring: str = Field(min_length=20, max_length=8000)
    voor: Positie | None = Field(None, description="Only records older than this place: the next page.")
    na: Positie | None = Field(None, description="Only records newer than this place: the page before.")
    aantal: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE, description="At most this many records, newest first.")

    @model_validator(mode="after")
    def one_direction(self) -> InzageAanvraag:
        """A page lies before a place or after it, not both."""
        if self.voor is not None and self.na is not None:
            raise ValueError("Give voor or na, not both.")
        return self

    def bound(self) -> Bound | None:
        """Where the asked page starts."""
        place, older = (self.voor, True) if self.voor is not None else (self.na, False)
        return None if place is None else Bound(place.tijdstip, place.kenmerk, older)


class Inzage(Schema):
    tijdstip: datetime
    kenmerk: str = Field(description="The record's span id: orders records of one moment, and names it.")
    documentsoort: str
    gevraagdDoor: str = Field(description="OIN of the app manager or requester that asked.")
    activiteit: str
    doel: str
    grondslag: str
    toestemming: str | None = Field(
        None, description="For a share: the app manager's id of the consent it was made under, else null."
    )
    velden: list[str] = Field(default_factory=list, description="The claim paths given, if any were.")


class Inzages(Schema):
    inzages: list[Inzage]


@api.post("/inzage", response=Inzages, summary="Wie heeft de gegevens van deze burger ingezien?")
async def access_records(request: HttpRequest, body: InzageAanvraag, holder: str = Path(...)) -> dict:
    scheme = await scheme_client.current()
    records = await sync_to_async(_at_holder)(
        holder, scheme, access.records_for, body.appbeheerderverklaring, scheme, body.bound(), body.aantal
    )
    return {"inzages": records}


class AfdrukAanvraag(Schema):
    """A copy to print: the app manager's assertion, a presentation this holder issued to that citizen, a language."""

    appbeheerderverklaring: str = Field(min_length=20, max_length=8000, description="The app manager's assertion.")
    verklaring: str = Field(min_length=20, max_length=200_000)
    taal: Literal["nl", "en"] = "nl"
    controlecode: str | None = Field(
        None,
        pattern=check_code.PATTERN,
        description="The check code the app manager keeps this copy under (12 Crockford base32 characters, "
        "upper case); the PDF prints it with the address and QR code of the copy's verify page.",
    )


@api.post("/afdrukken", summary="Maak een ondertekende PDF van een kopie van deze houder")
async def print_pdf(request: HttpRequest, body: AfdrukAanvraag, holder: str = Path(...)) -> HttpResponse:
    scheme = await scheme_client.current()
    document = await sync_to_async(_at_holder)(
        holder,
        scheme,
        printing.print_copy,
        body.appbeheerderverklaring,
        body.verklaring,
        body.taal,
        scheme,
        body.controlecode,
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="gewaarmerkte-kopie.pdf"'
    return response


@api.get("/statuslijsten/{number}", summary="De statuslijst (Token Status List)")
def get_status_list(request: HttpRequest, number: int, holder: str = Path(...)) -> HttpResponse:
    record = get_object_or_404(StatusListRecord.objects.select_related("holder"), holder__slug=holder, number=number)
    token, max_age = record.served_token(timezone.now())
    response = HttpResponse(token, content_type="application/statuslist+jwt")
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response
