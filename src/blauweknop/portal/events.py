"""What happens to a citizen's copies in this portal, recorded for their access page.

A holder records what it did (a copy fetched for viewing, printed); only the portal sees a download
or a check on the verify page, so it records those itself, under the citizen's keyed pseudonym.
A check is recorded only when the copy can be tied to a citizen: directly (a printed copy's code)
or through the wallet key the copy is bound to (``cnf``), remembered when the copies were fetched.
Anyone with a copy can check it as often as they like (link previews, repeats): one check an hour
per copy is recorded, so nobody can flood the citizen's page. Events are kept for :data:`RETENTION`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.utils import timezone

from blauweknop.db import lock_name, write_transaction
from blauweknop.paging import Bound, page
from blauweknop.portal.models import CitizenEvent, WalletKey
from blauweknop.protocol.jwk import thumbprint

if TYPE_CHECKING:
    from blauweknop.portal.holders import Citizen

FORMATS = frozenset({"sdjwt", "pdf", "json", "csv"})
# How a copy was checked, kept in the event's ``format``: its file uploaded, or a printed copy's code.
BY_FILE, BY_CODE = "bestand", "code"
# Checks of one copy within this long of one recorded are the same news to the citizen: not recorded again.
CHECKS_APART = timedelta(hours=1)
# How long the citizen's page shows what happened here: 18 months, then it is deleted.
RETENTION = timedelta(days=548)
PRUNE_BATCH = 1000  # events deleted per transaction: a long backlog never holds the database's write lock long


async def record_download(citizen: Citizen, holder_oin: str, type_id: str, fmt: str) -> None:
    """Record that ``citizen`` downloaded their copy of ``type_id`` from ``holder_oin`` as ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown download format {fmt!r}")
    if fmt == "pdf":  # the holder made it for this download and recorded that: one entry, not two
        return
    await CitizenEvent.objects.acreate(
        citizen=citizen.pseudonym,
        holder_oin=holder_oin,
        document_type=type_id,
        activity=CitizenEvent.Activity.DOWNLOADED,
        format=fmt,
    )


def _remember(key: str, subject: str, until: datetime) -> None:
    with write_transaction():
        WalletKey.objects.bulk_create(
            [WalletKey(thumbprint=key, citizen=subject, expires_at=until)], ignore_conflicts=True
        )
        # Only ever later: copies of another holder fetched with this key earlier may last longer.
        WalletKey.objects.filter(thumbprint=key, citizen=subject, expires_at__lt=until).update(expires_at=until)


async def remember_wallet(citizen: Citizen, until: datetime) -> None:
    """Remember that the citizen's wallet key is theirs until ``until``, so checks of their copies show up."""
    await sync_to_async(_remember)(thumbprint(citizen.wallet_jwk), citizen.pseudonym, until)


async def record_check(
    holder_oin: str, type_id: str, *, wallet_thumbprint: str | None = None, citizen: str | None = None
) -> None:
    """Record that someone checked a copy of ``type_id`` from ``holder_oin`` on the verify page.

    ``citizen`` is the keyed pseudonym when it is known (a printed copy); otherwise the citizen is
    found through ``wallet_thumbprint``. A copy that cannot be tied to a citizen is not recorded, nor
    a check of a copy within :data:`CHECKS_APART` of the one recorded last.
    """
    way = BY_CODE if citizen is not None else BY_FILE
    if citizen is None and wallet_thumbprint is not None:
        owners = WalletKey.objects.filter(thumbprint=wallet_thumbprint).values_list("citizen", flat=True)
        citizen = await owners.afirst()
    if citizen is None:
        return
    await sync_to_async(_record_check)(
        CitizenEvent(
            citizen=citizen,
            holder_oin=holder_oin,
            document_type=type_id,
            activity=CitizenEvent.Activity.CHECKED,
            format=way,
            at=timezone.now(),
        )
    )


def _record_check(event: CitizenEvent) -> None:
    """Write ``event`` unless the same copy's check was recorded within :data:`CHECKS_APART`."""
    with write_transaction():
        # Checks of one copy at the same moment: one of them is recorded, the others see it.
        lock_name(f"check:{event.citizen}:{event.holder_oin}:{event.document_type}:{event.format}")
        recent = CitizenEvent.objects.filter(
            citizen=event.citizen,
            holder_oin=event.holder_oin,
            document_type=event.document_type,
            activity=event.activity,
            format=event.format,
            at__gt=event.at - CHECKS_APART,
        )
        if not recent.exists():
            event.save()


def prune(now: datetime) -> int:
    """Delete the events older than :data:`RETENTION` at ``now``, a batch at a time; how many. Safe to run twice."""
    deleted, before = 0, now - RETENTION
    while keys := list(CitizenEvent.objects.filter(at__lt=before).values_list("pk", flat=True)[:PRUNE_BATCH]):
        with write_transaction():
            deleted += CitizenEvent.objects.filter(pk__in=keys).delete()[0]
    return deleted


def _page(subject: str, bound: Bound | None, limit: int) -> list[CitizenEvent]:
    return page(CitizenEvent.objects.filter(citizen=subject), bound, limit)


async def events_of(citizen: Citizen, bound: Bound | None, limit: int) -> list[CitizenEvent]:
    """At most ``limit`` of the citizen's events just beyond ``bound`` (the newest without one), newest first."""
    return await sync_to_async(_page)(citizen.pseudonym, bound, limit)
