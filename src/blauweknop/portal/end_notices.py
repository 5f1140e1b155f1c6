"""Telling a requester at once that a standing consent ended: the portal's side of ``POST …/beeindigde-toestemmingen``.

Before, a requester learnt of a withdrawal only when it next fetched, and that fetch, the very one its staff
page offered, counted at the scheme operator as a fetch after withdrawal. Now the transaction that ends a
standing consent (the citizen withdrew it, or it ran out: :mod:`blauweknop.portal.consents`) queues one
:class:`EndNotice` (:func:`queue`); every minute the worker tells the requester: the consent id, the reason and
when it ended, with a client assertion of this app manager for the exact address (``<endpoints.requester>``
``/beeindigde-toestemmingen``). The requester records it on its request and fetches nothing more under it
(:mod:`blauweknop.requester.endings`). The moment it took the notice is kept (``told_at``): the monitoring
counts only refused fetches after it knew (:func:`blauweknop.portal.figures.requester_figures`).

Sent and retried as every notice of the portal (:mod:`blauweknop.portal.notices`): a 2xx or a final refusal
(a 404 says the requester never received this consent, e.g. its answer was lost) settles the notice; no answer,
a timeout, 401, 403, 408, 429 or 5xx is tried again later. Requesters are told in turn: a few that hang cannot
starve the others.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django_tasks import task

from blauweknop.conformance.probe import Probe
from blauweknop.portal import notices
from blauweknop.portal.models import Consent, EndNotice
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.retries import GIVE_UP, Outcome, count_failure

logger = logging.getLogger(__name__)

PATH = "beeindigde-toestemmingen"  # under the requester's API address (endpoints.requester)


def queue(consents: Any, reason: str) -> int:
    """Queue a notice for each given standing consent among ``consents``; how many. In the caller's transaction.

    Call it before the consents are ended: a one-time consent needs none (nothing is fetched under it later).
    """
    ending = consents.filter(state=Consent.State.GIVEN, access=Consent.Access.STANDING)
    queued = [
        EndNotice(consent_id=pk, requester_oin=oin, reason=reason)
        for pk, oin in ending.values_list("pk", "requester_oin")
    ]
    EndNotice.objects.bulk_create(queued, ignore_conflicts=True)
    return len(queued)


@task()
def tell_requesters() -> int:
    """Tell requesters of the standing consents that ended; how many were told."""
    return tell_pending()


def tell_pending(per_requester: int = notices.PER_RECEIVER) -> int:
    """Tell each requester of at most ``per_requester`` ended consents that are due; how many were told. Blocking."""
    return notices.tell_waiting(
        EndNotice, "requester_oin", per_requester, "eindmelding", _tell, _failed, "notices of ended consents"
    )


def _tell(probe: Probe, scheme: SchemeDocument, notice: EndNotice) -> Outcome:
    """Tell the requester of ``notice``; settle it if the requester took it or refused it for good."""
    requester, consent = notice.requester_oin, notice.consent
    participant = scheme.organisations.get(requester)
    endpoint = participant.endpoints.get("requester") if participant is not None else None
    if endpoint is None:
        logger.warning("notice that consent %s ended waits: requester %s has no address now", consent.pk, requester)
        return Outcome.RECEIVER_FAILED
    payload = {
        "toestemming": consent.pk,
        "reden": notice.reason,
        "beeindigdOp": (consent.ended_at or timezone.now()).isoformat(),
    }
    about = f"notice that consent {consent.pk} ended ({notice.reason}) to requester {requester}"
    address = f"{endpoint.rstrip('/')}/{PATH}"
    return notices.send(probe, scheme, notice, address, payload, about, keep_told_at=True)


def _failed(notice: EndNotice) -> None:
    """Count a failed try of ``notice``; log when it is given up (then the requester learns at its next fetch)."""
    if count_failure(notice):
        logger.error(
            "notice that consent %s ended given up: requester %s did not take it within %s",
            notice.consent_id,
            notice.requester_oin,
            GIVE_UP,
        )
