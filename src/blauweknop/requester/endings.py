"""Standing access that ended, told by the app manager: ``POST <endpoints.requester>/beeindigde-toestemmingen``.

When a citizen withdraws a standing consent, or it runs out, the app manager that gave it tells the requester
at once (:mod:`blauweknop.portal.end_notices`), instead of letting it find out at its next fetch. The requester
records on its request why and when the access ended (``status`` ``ingetrokken`` or ``verlopen``, ``ended_at``);
from then on its own fetch refuses locally, without asking the app manager
(:func:`blauweknop.requester.fetching.standing_fetch`), and its staff see it.

Only the app manager that gave the consent may end it: its client assertion (certified app manager, ``aud`` the
exact address, each once). A consent id this requester does not hold from that app manager is 404
``unknown_consent``, the same for everyone: nobody learns which ids exist. Telling it again is harmless (204).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Literal

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Router, Schema
from pydantic import AwareDatetime, Field, field_validator

from blauweknop.api import ApiProblem
from blauweknop.db import write_transaction
from blauweknop.requester import answers, tenants
from blauweknop.requester.models import ShareRequest
from blauweknop.requester.tenants import RequesterTenant
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)
router = Router(tags=["beeindigde-toestemmingen"])
PATH = "beeindigde-toestemmingen"  # under the requester's API address; the client assertion's aud is the whole URL
# Why the app manager ended it, and what the request says from then on.
ENDS = {"ingetrokken": ShareRequest.State.WITHDRAWN, "verlopen": ShareRequest.State.EXPIRED}
SKEW = timedelta(minutes=5)  # the app manager's clock may be this much ahead of ours
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no consent ended before this; also keeps UTC arithmetic in range
UNKNOWN = ApiProblem(404, "unknown_consent", "This organisation holds no standing access under this consent from you.")


def record(
    tenant: RequesterTenant,
    token: str,
    consent: str,
    reason: str,
    ended: datetime | None,
    *,
    now: datetime | None = None,
) -> ShareRequest:
    """Record that the app manager of ``token`` ended its ``consent`` for ``reason``; the request it ended. Blocking.

    Refusals: the assertion's (401 ``invalid_client``, ``aud_mismatch``, ``expired``, ``assertion_replayed``…;
    403 ``not_certified``), :data:`UNKNOWN`, and 400 ``invalid_input`` when ``ended`` is before the consent was
    given or more than :data:`SKEW` after ``now`` (then nothing is written, the assertion not used either).
    ``ended`` is when the app manager ended it; kept as at most now.
    """
    now = now or timezone.now()
    client = answers.app_manager(tenant, token, f"{tenant.api_url}/{PATH}", now)
    with write_transaction():
        found = ShareRequest.objects.filter(
            requester=tenant.requester,
            consent=consent,
            app_manager=client.client_id,
            access=ShareRequest.Access.STANDING,
        ).first()
        when = now if found is None else _when(found, ended, now)
        answers.used_once(client)
        if found is not None:
            mine = ShareRequest.objects.filter(pk=found.pk)
            mine.filter(status=ShareRequest.State.APPROVED).update(status=ENDS[reason], ended_at=when)
            # Ended already (a fetch found out first): only when, if not known yet.
            mine.filter(status__in=ENDS.values(), ended_at__isnull=True).update(ended_at=when)
    if found is None:  # refused once the assertion's use is committed: it cannot be tried again
        logger.warning("requester %s: app manager %s ended a consent it holds none of", tenant.oin, client.client_id)
        raise UNKNOWN
    logger.info("requester %s: app manager %s ended consent %s (%s)", tenant.oin, client.client_id, consent, reason)
    found.refresh_from_db()
    return found


def _when(found: ShareRequest, ended: datetime | None, now: datetime) -> datetime:
    """When ``found`` ended, by the app manager's ``ended``: not before it was given, nor after ``now`` and
    :data:`SKEW` (else 400 ``invalid_input``); a little ahead of our clock is taken as ``now``.
    """
    if ended is None:
        return now
    given = found.answered_at or found.created_at
    if not given <= ended <= now + SKEW:
        raise ApiProblem(400, "invalid_input", "beeindigdOp is before the consent was given, or in the future.")
    return min(ended, now)


class BeeindigdeToestemming(Schema):
    """A standing consent the app manager ended. No BSN: the consent id names the request."""

    toestemming: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The app manager's consent record id."
    )
    reden: Literal["ingetrokken", "verlopen"] = Field(
        description="ingetrokken: the citizen withdrew it; verlopen: the approved term ran out."
    )
    beeindigdOp: AwareDatetime | None = Field(
        None, description="When the app manager ended it (with a time zone): not before it was given, not ahead."
    )
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    client_assertion: str = Field(
        min_length=20, max_length=4000, description="Signed by the app manager; aud = the exact URL called; once."
    )

    @field_validator("beeindigdOp")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """In UTC, and from :data:`EARLIEST` on: a date such as ``0001-01-01T00:00:00+14:00`` has no UTC time."""
        if value is None:
            return None
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("not a time this consent can have ended") from None
        if value < EARLIEST:
            raise ValueError("not a time this consent can have ended")
        return value


@router.post(
    f"/{PATH}",
    response={204: None},
    summary="Een doorlopende toestemming is beëindigd: de appbeheerder die haar gaf, meldt het meteen",
)
async def ended_consent(request: HttpRequest, body: BeeindigdeToestemming, requester: str = Path(...)) -> HttpResponse:
    scheme = await scheme_client.current()

    def work() -> ShareRequest:
        return record(
            tenants.at(scheme, requester), body.client_assertion, body.toestemming, body.reden, body.beeindigdOp
        )

    await sync_to_async(work)()
    return HttpResponse(status=204)
