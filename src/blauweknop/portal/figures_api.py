"""``GET /appbeheerder/api/v1/cijfers``: the app manager's counts per requester, for the scheme operator's monitoring.

Counts only (:mod:`blauweknop.protocol.figures`): no personal data, no pseudonyms, no consent ids, so
anyone may read them. A period is whole days and at most :data:`MAX_DAYS` long; the counting is cached
(:func:`blauweknop.portal.figures.cached_requester_figures`).
"""

from __future__ import annotations

from datetime import date, timedelta

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from blauweknop.api import ApiProblem
from blauweknop.portal.figures import cached_requester_figures
from blauweknop.protocol import figures

router = Router(tags=["cijfers"])

DEFAULT_DAYS = 30
MAX_DAYS = 366
OLDEST = timedelta(days=3 * 366)  # nothing older is kept: asking further back only costs counting


class Vrager(Schema):
    oin: str = Field(description="OIN of the requester.")
    verzoekenBeantwoord: int = Field(description="Requests the citizen decided on: approvals plus refusals.")
    toestemmingen: int = Field(description="Requests the citizen approved.")
    weigeringen: int = Field(description="Requests the citizen refused.")
    intrekkingen: int = Field(description="Consents the citizen withdrew.")
    ophalingen: int = Field(description="Fetches under standing access that delivered data.")
    ophalingenGeweigerd: int = Field(description="Fetches the app manager refused.")
    ophalingenNaIntrekking: int = Field(description="Fetches refused because the citizen had withdrawn the consent.")


class Cijfers(Schema):
    appbeheerder: str = Field(description="OIN of this app manager.")
    vanaf: date = Field(description="First day counted.")
    tot: date = Field(description="The day after the last day counted.")
    vragers: list[Vrager]


def period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The period asked for: by default the last :data:`DEFAULT_DAYS` days including ``today``; checked."""
    end = end or today + timedelta(days=1)
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise ApiProblem(400, "invalid_period", "'vanaf' must be before 'tot'.")
    if (end - start).days > MAX_DAYS:
        raise ApiProblem(400, "invalid_period", f"A period is at most {MAX_DAYS} days.")
    if start < today - OLDEST or end > today + timedelta(days=MAX_DAYS):
        raise ApiProblem(400, "invalid_period", "Ask for days in the last three years.")
    return start, end


@router.get("/cijfers", response=Cijfers, summary="Aantallen per gegevensvrager, zonder persoonsgegevens")
async def requester_counts(request: HttpRequest, vanaf: date | None = None, tot: date | None = None) -> dict:
    start, end = period(vanaf, tot, timezone.localdate())
    return figures.as_json(await sync_to_async(cached_requester_figures)(start, end))
