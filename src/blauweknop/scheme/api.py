"""The scheme operator's API: the signed scheme document, the operator's keys, and applications to join."""

from __future__ import annotations

import re
from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from ninja import Path, Schema, Status
from pydantic import Field

from blauweknop.api import PROBLEM, ApiProblem, make_api, problem
from blauweknop.protocol import application, client_assertion, scheme_document
from blauweknop.protocol.errors import VerificationError
from blauweknop.scheme import applications, key_api
from blauweknop.scheme.applications import NotAccepted
from blauweknop.scheme.models import Application
from blauweknop.scheme.publication import in_force, operator_jwks

api = make_api(
    title="Stelsel API",
    namespace="scheme-api",  # "scheme" is the operator's pages
    description="Het stelseldocument: wie meedoet aan de Blauwe Knop, in welke rol, met welke sleutels. "
    "Een organisatie meldt zich hier aan; de stelselbeheerder beoordeelt de aanmelding.",
)
OIN_PATTERN = r"^[0-9]{20}$"
BEARER = re.compile(r"Bearer ([A-Za-z0-9_.-]{20,8000})")
# One answer for every assertion that does not prove its issuer: an OIN nobody applied with, a key that is not
# the OIN's, a bad signature. Which of these it was would tell a stranger whether the OIN applied.
UNPROVEN = (
    "Only the applicant may ask how its application stands: send a client assertion signed with one of its keys, "
    "as Authorization: Bearer <client assertion>."
)


@api.exception_handler(NotAccepted)
def not_accepted(request: HttpRequest, exc: NotAccepted) -> HttpResponse:
    params = [{"name": "aanmelding", "reason": reason} for reason in exc.problems]
    return problem(exc.status, exc.code, exc.detail, **({"invalidParams": params} if params else {}))


@api.get("/stelseldocument", summary="Het stelseldocument dat nu geldt")
def current_document(request: HttpRequest) -> HttpResponse:
    document = in_force()
    if document is None:
        raise ApiProblem(503, "no_scheme_document", "No scheme document is in force. The operator must publish one.")
    response = HttpResponse(document.token, content_type="application/stelseldocument+jwt")
    response["Cache-Control"] = "public, max-age=300"
    return response


@api.get("/jwks.json", summary="De publieke sleutels van de stelselbeheerder")
def operator_keys(request: HttpRequest) -> dict:
    return operator_jwks()


# ---------------------------------------------------------------------------------------------
# Applications to join


class Aanmelding(Schema):
    aanmelding: str = Field(
        description=f"A compact JWS with typ {application.TYP!r}, signed with the one key in its own jwks. "
        "Its payload is the participant: oin, name, slug, base_url, roles, document_types, jwks, "
        "description (nl, en), contact (optional) and kind (optional, for the public figures: "
        f"{', '.join(scheme_document.KINDS)}; default {scheme_document.OTHER_KIND}), as for manage.py "
        "admit_participant, plus aud (exactly this address, <scheme>/api/v1/aanmeldingen, so an application meant "
        "for another scheme operator is refused), iat (at most "
        f"{application.MAX_AGE // 60} minutes ago) and jti (used once). base_url is the root of the deployment "
        "WITHOUT the slug: the scheme adds /<slug> (https://example.org gives the API "
        "https://example.org/<slug>/api/v1). Every field with an example: "
        "[docs/scheme-operator.md, section Joining](docs/scheme-operator.md#joining). "
        f"At most {applications.MAX_BODY // 1024} KB.",
    )


class Aangemeld(Schema):
    aanmelding: str = Field(description="The OIN of the applicant: where its status is.")
    status: str = Field(description="aangemeld: the operator reviews it.")


class Aanmeldstatus(Schema):
    oin: str
    status: str = Field(description="aangemeld, gecertificeerd, geschorst, ingetrokken or geweigerd.")
    aangemeldOp: datetime | None = Field(description="When the application was received (none: admitted directly).")
    gewijzigdOp: datetime | None = Field(description="When the status last changed.")
    gecertificeerdSinds: date | None = Field(description="Since when the participant is certified, if ever.")


def _problem_responses(statuses: dict[int, str]) -> dict:
    content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {str(status): {"description": description, "content": content} for status, description in statuses.items()}


@api.post(
    "/aanmeldingen",
    response={201: Aangemeld},
    summary="Aanmelden als deelnemer (de stelselbeheerder beoordeelt de aanmelding)",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": Aanmelding.model_json_schema()}}, "required": True},
        "responses": _problem_responses(
            {
                409: "De OIN, het adresdeel (slug) of de sleutel is al van een deelnemer, of deze aanmelding kwam al "
                "eerder binnen",
                422: "De aanmelding is niet volledig of niet juist, niet ondertekend met een eigen sleutel, "
                "of voor een andere stelselbeheerder (aud)",
                429: "Te veel aanmeldingen van dit adres",
            }
        ),
    },
)
def apply(request: HttpRequest, response: HttpResponse) -> Status:
    applications.limit(request)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > applications.MAX_BODY:  # refused before the body is read
        raise applications.too_large()
    received = applications.apply(applications.token_of(request.body))
    response["Location"] = f"{request.path.rstrip('/')}/{received.oin}"
    return Status(201, {"aanmelding": received.oin, "status": applications.WAITING})


def status_address(oin: str) -> str:
    """The exact address an applicant's assertion must be made for (its ``aud``)."""
    return f"{applications.address()}/{oin}"


def _applicant_only(request: HttpRequest, oin: str) -> Application | None:
    """Refuse all but ``oin`` itself: a client assertion signed with its key, for here, once; whose it is.

    The application it signed with its key (several may name one OIN), or ``None`` for the participant ``oin``.
    """
    match = BEARER.fullmatch(request.headers.get("Authorization", ""))
    if match is None:
        raise ApiProblem(401, "invalid_client", UNPROVEN)
    try:
        assertion, applied = applications.sender(match.group(1), audience=status_address(oin))
    except VerificationError as exc:
        raise ApiProblem(401, exc.code, UNPROVEN if exc.code == "invalid_client" else exc.message) from None
    key_api.spend(assertion)
    if assertion.client_id != oin:  # the same for an OIN that applied and one that did not
        raise ApiProblem(403, "forbidden", "Only the applicant itself may ask how its application stands.")
    return applied


@api.get(
    "/aanmeldingen/{oin}",
    response=Aanmeldstatus,
    summary="De stand van de eigen aanmelding: alleen de status en de data (Authorization: Bearer <client assertion>)",
    description="Only the applicant itself may ask: Authorization: Bearer <client assertion> (typ "
    f"{client_assertion.TYP}, iss = sub = the OIN in the address, aud = this exact address, used once), signed "
    "with the key it applied with (or, once certified, a key of the participant that the operator has not revoked "
    "or retired). An applicant sees only its own application: another application with the same OIN is not it.",
    openapi_extra={
        "responses": _problem_responses(
            {
                401: "Geen geldige client assertion van een sleutel van de aanvrager, of al eerder gebruikt",
                403: "De client assertion is van een andere organisatie",
            }
        )
    },
)
def application_status(request: HttpRequest, oin: str = Path(..., pattern=OIN_PATTERN)) -> dict:
    found = applications.status(oin, _applicant_only(request, oin))
    if found is None:
        raise ApiProblem(404, "not_found", "There is no application or participant with this OIN.")
    return {
        "oin": found.oin,
        "status": found.status,
        "aangemeldOp": found.applied_at,
        "gewijzigdOp": found.changed_at,
        "gecertificeerdSinds": found.certified_since,
    }


# A participant announces its next key (blauweknop.scheme.key_api).
api.add_router("/deelnemers", key_api.router)
