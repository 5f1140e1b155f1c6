"""A standing fetch the app manager refused, told to a holder that shared under that consent (docs/plus.md §4).

A requester with standing access fetches through the app manager (the portal); once the citizen withdrew,
or the consent ended, the portal refuses that fetch without asking the holders. Every refusal must still be
an access record at the holder (issue 10, item 8), so that the citizen's "Wie heeft mijn gegevens ingezien?"
shows it. The portal wiped the citizen's BSN with the withdrawal, so it names only its consent id: the holder
finds the citizen in its own records of the copies it shared under that consent, for that very app manager
(``POST /<holder>/api/v1/geweigerde-ophalingen``). Consent ids are the app manager's own, so another app
manager naming the same id finds nothing; an id the holder never shared under is refused just the same
(404 ``unknown_consent``): nobody learns which ids exist elsewhere, and nothing is written.

The refusal record names the requester, the share's purpose and legal basis, and each document type shared
under the consent, with no fields (nothing was given). One per consent, type and reason an hour is enough:
a requester hammering a withdrawn consent cannot fill the citizen's records, even through a faulty app manager.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Router, Schema
from pydantic import Field

from blauweknop import metrics
from blauweknop.audit.models import AccessRecord
from blauweknop.db import lock_name, write_transaction
from blauweknop.display import FETCH_REFUSED_ACTIVITIES, SHARED
from blauweknop.holder import sessions, tenants
from blauweknop.holder.errors import NotHere
from blauweknop.holder.tenants import Holder
from blauweknop.protocol import client_assertion
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.scheme_document import APP_MANAGER, SchemeDocument
from blauweknop.scheme.client import scheme_client

logger = logging.getLogger(__name__)
router = Router(tags=["geweigerde-ophalingen"])
PATH = "geweigerde-ophalingen"  # under the holder's API address; the client assertion's aud is the whole URL
# The app manager's refusal codes (its fetch API's problem codes; each recorded as FETCH_REFUSED_ACTIVITIES says).
Code = Literal["consent_withdrawn", "consent_expired", "consent_refused", "not_standing", "not_certified"]
ONCE_PER = timedelta(hours=1)  # one refusal record per consent, type and reason in this time
UNKNOWN = NotHere("unknown_consent", "This holder shared nothing under this consent for you.")


def address(holder: Holder) -> str:
    """The exact URL an app manager calls: the client assertion's ``aud``."""
    return f"{holder.participant.endpoints.get('api', '').rstrip('/')}/{PATH}"


def record(holder: Holder, token: str, consent: str, code: str, scheme: SchemeDocument) -> int:
    """Record that the app manager of ``token`` refused a fetch under its ``consent`` for ``code``; records written.

    Refusals: the assertion's (``invalid_client``, ``not_certified``, ``aud_mismatch``, ``expired``,
    ``assertion_replayed``), and :data:`UNKNOWN`. Written already within :data:`ONCE_PER`: nothing new (0).
    """
    activity = FETCH_REFUSED_ACTIVITIES[code]
    now = timezone.now()
    with write_transaction():
        try:
            client = client_assertion.verify(token, scheme, audience=address(holder), role=APP_MANAGER)
        except VerificationError as exc:
            logger.warning("refused-fetch notice refused: holder=%s code=%s", holder.oin, exc.code)
            metrics.assertion_refusals.labels(holder.oin, exc.code).inc()
            raise
        sessions.use_once(holder.oin, client.replay_key(), client.expires_at, sender=client.client_id)
        lock_name(f"geweigerde-ophaling:{holder.oin}:{client.client_id}:{consent}")  # two notices at once: one writes
        shares = AccessRecord.objects.filter(
            holder=holder.tenant, app_manager_oin=client.client_id, consent=consent, activity=SHARED
        )
        types = sorted(set(shares.values_list("document_type", flat=True)))
        shared = {type_id: shares.filter(document_type=type_id).order_by("-at").first() for type_id in types}
        if not shared:  # refused once the assertion's use is committed: it cannot be tried again
            new = None
        else:
            new = _refusals(holder, client.client_id, consent, activity, shared, now)
            AccessRecord.objects.bulk_create(new)
    if new is None:
        raise UNKNOWN
    logger.info("holder %s recorded %d refused fetches under a consent of %s", holder.oin, len(new), client.client_id)
    return len(new)


def _refusals(
    holder: Holder, app_manager: str, consent: str, activity: str, shared: dict[str, AccessRecord | None], now: datetime
) -> list[AccessRecord]:
    """The refusal records to write: one per type shared under ``consent``, unless written within :data:`ONCE_PER`."""
    under = AccessRecord.objects.filter(holder=holder.tenant, app_manager_oin=app_manager, consent=consent)
    told = set(under.filter(activity=activity, at__gt=now - ONCE_PER).values_list("document_type", flat=True))
    return [
        AccessRecord(
            at=now,
            subject=share.subject,
            holder=holder.tenant,
            actor_oin=share.actor_oin,
            activity=activity,
            purpose=share.purpose,
            legal_basis=share.legal_basis,
            document_type=type_id,
            fields=[],
            app_manager_oin=app_manager,
            consent=consent,
        )
        for type_id, share in shared.items()
        if share is not None and type_id not in told
    ]


class GeweigerdeOphaling(Schema):
    """A standing fetch the app manager refused. No BSN: the consent id names whose records it concerns."""

    toestemming: str = Field(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="The app manager's consent id."
    )
    code: Code = Field(
        description="Why the app manager refused: the problem code its fetch API answered the requester with."
    )
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    client_assertion: str = Field(
        min_length=20, max_length=4000, description="Signed by the app manager; aud = the exact URL called; once."
    )


@router.post(
    f"/{PATH}",
    response={204: None},
    summary="Leg vast dat de appbeheerder een ophaling onder een toestemming weigerde",
)
async def refused_fetch(request: HttpRequest, body: GeweigerdeOphaling, holder: str = Path(...)) -> HttpResponse:
    scheme = await scheme_client.current()

    def work() -> int:
        return record(tenants.at(scheme, holder), body.client_assertion, body.toestemming, body.code, scheme)

    await sync_to_async(work)()
    return HttpResponse(status=204)
